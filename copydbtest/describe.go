package copydbtest

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// actions are the actions the fake serves. Each runs with f.mu held and
// returns the document to answer or the error.
var actions = map[string]func(*Fake, *call) (any, *apiError){
	"DescribeDBInstanceAttribute":  (*Fake).describeDBInstanceAttribute,
	"DescribeDatabases":            (*Fake).describeDatabases,
	"DescribeBackups":              (*Fake).describeBackups,
	"DescribeBackupPolicy":         (*Fake).describeBackupPolicy,
	"CopyDatabaseBetweenInstances": (*Fake).copyDatabaseBetweenInstances,
}

// instanceNotFound is the service's error for an unknown instance.
func instanceNotFound() *apiError {
	return errorf(http.StatusBadRequest, "InvalidDBInstanceId.NotFound",
		"Specified instance does not exist or not support.")
}

// lookup returns the instance named by the parameter. f.mu is held.
func (f *Fake) lookup(c *call, name string) (*instance, *apiError) {
	id := c.param(name)
	if id == "" {
		return nil, missing(name)
	}
	inst, ok := f.instances[id]
	if !ok {
		return nil, instanceNotFound()
	}
	return inst, nil
}

// intParam parses an optional integer parameter in [lo, hi].
func intParam(c *call, name string, def, lo, hi int) (int, *apiError) {
	s := c.param(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, invalid(name)
	}
	return n, nil
}

// pagedLookup returns the instance named by DBInstanceId and the page asked
// for: PageSize in [minSize, 100] (default 30) and PageNumber (default 1).
func (f *Fake) pagedLookup(c *call, minSize int) (inst *instance, size, number int, err *apiError) {
	if inst, err = f.lookup(c, "DBInstanceId"); err != nil {
		return nil, 0, 0, err
	}
	if size, err = intParam(c, "PageSize", 30, minSize, 100); err != nil {
		return nil, 0, 0, err
	}
	if number, err = intParam(c, "PageNumber", 1, 1, 1<<30); err != nil {
		return nil, 0, 0, err
	}
	return inst, size, number, nil
}

// page returns the slice of n items that the page shows, as [from, to).
func page(n, size, number int) (from, to int) {
	from = min(n, (number-1)*size)
	return from, min(n, from+size)
}

type attributeResponse struct {
	XMLName   xml.Name `json:"-" xml:"DescribeDBInstanceAttributeResponse"`
	RequestID string   `json:"RequestId" xml:"RequestId"`
	Items     struct {
		DBInstanceAttribute []instanceAttribute
	}
}

type instanceAttribute struct {
	DBInstanceID        string `json:"DBInstanceId" xml:"DBInstanceId"`
	Engine              string
	EngineVersion       string
	RegionID            string `json:"RegionId" xml:"RegionId"`
	ZoneID              string `json:"ZoneId" xml:"ZoneId"`
	InstanceNetworkType string
	DBInstanceStorage   int
	DBInstanceDiskUsed  string
	DBInstanceStatus    string
	LockMode            string
	Category            string
	DBInstanceType      string
	DBInstanceClass     string
}

func (f *Fake) describeDBInstanceAttribute(c *call) (any, *apiError) {
	inst, err := f.lookup(c, "DBInstanceId")
	if err != nil {
		return nil, err
	}
	category := "Basic"
	if strings.HasSuffix(inst.EngineVersion, "_ha") {
		category = "HighAvailability"
	}
	kind := "Primary"
	if inst.ReadOnly {
		kind = "Readonly"
	}
	resp := attributeResponse{RequestID: c.requestID}
	resp.Items.DBInstanceAttribute = []instanceAttribute{{
		DBInstanceID:        inst.ID,
		Engine:              inst.Engine,
		EngineVersion:       inst.EngineVersion,
		RegionID:            inst.RegionID,
		ZoneID:              inst.ZoneID,
		InstanceNetworkType: inst.NetworkType,
		DBInstanceStorage:   inst.StorageGB,
		DBInstanceDiskUsed:  itoa(inst.usedBytes()),
		DBInstanceStatus:    inst.Status,
		LockMode:            "Unlock",
		Category:            category,
		DBInstanceType:      kind,
		DBInstanceClass:     "mssql.x4.medium.s2",
	}}
	return resp, nil
}

type databasesResponse struct {
	XMLName   xml.Name `json:"-" xml:"DescribeDatabasesResponse"`
	RequestID string   `json:"RequestId" xml:"RequestId"`
	Databases struct {
		Database []databaseItem
	}
}

type databaseItem struct {
	DBName           string
	DBStatus         string
	Engine           string
	TDEStatus        string
	CharacterSetName string
	DBInstanceID     string `json:"DBInstanceId" xml:"DBInstanceId"`
	DBDescription    string
	PageNumber       int
	PageSize         int
	TotalCount       int
	RuntimeInfo      struct {
		RuntimeDbProperty []runtimeProperty
	}
}

type runtimeProperty struct {
	PropertyName  string
	PropertyValue string
}

func (f *Fake) describeDatabases(c *call) (any, *apiError) {
	inst, size, number, err := f.pagedLookup(c, 1)
	if err != nil {
		return nil, err
	}
	name, status := c.param("DBName"), c.param("DBStatus")
	var match []*database
	for _, d := range inst.sortedDBs() {
		if (name == "" || d.Name == name) && (status == "" || d.status(c.now) == status) {
			match = append(match, d)
		}
	}
	resp := databasesResponse{RequestID: c.requestID}
	resp.Databases.Database = []databaseItem{}
	from, to := page(len(match), size, number)
	for _, d := range match[from:to] {
		item := databaseItem{
			DBName:           d.Name,
			DBStatus:         d.status(c.now),
			Engine:           inst.Engine,
			TDEStatus:        "Disabled",
			CharacterSetName: "Chinese_PRC_CI_AS",
			DBInstanceID:     inst.ID,
			PageNumber:       number,
			PageSize:         size,
			TotalCount:       len(match),
		}
		if d.TDE {
			item.TDEStatus = "Enabled"
		}
		item.RuntimeInfo.RuntimeDbProperty = []runtimeProperty{{PropertyName: "TotalSizeBytes", PropertyValue: itoa(d.SizeBytes)}}
		resp.Databases.Database = append(resp.Databases.Database, item)
	}
	return resp, nil
}

type backupsResponse struct {
	XMLName          xml.Name `json:"-" xml:"DescribeBackupsResponse"`
	RequestID        string   `json:"RequestId" xml:"RequestId"`
	TotalRecordCount string
	PageNumber       string
	PageRecordCount  string
	Items            struct {
		Backup []backupItem
	}
}

type backupItem struct {
	BackupID        string `json:"BackupId" xml:"BackupId"`
	DBInstanceID    string `json:"DBInstanceId" xml:"DBInstanceId"`
	BackupStatus    string
	IsAvail         int
	BackupStartTime string
	BackupEndTime   string
	BackupSize      int64
	BackupDBNames   string
	BackupType      string
	BackupMethod    string
	BackupMode      string
}

// backupTimeLayout is the layout of DescribeBackups' StartTime and EndTime.
const backupTimeLayout = "2006-01-02T15:04Z"

// timeParam parses an optional DescribeBackups time parameter.
func timeParam(c *call, name string) (time.Time, *apiError) {
	s := c.param(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(backupTimeLayout, s)
	if err != nil {
		return time.Time{}, errorf(http.StatusBadRequest, "Invalid"+name+".Malformed",
			"Specified %s is not valid.", name)
	}
	return t, nil
}

func (f *Fake) describeBackups(c *call) (any, *apiError) {
	inst, size, number, err := f.pagedLookup(c, 30)
	if err != nil {
		return nil, err
	}
	start, err := timeParam(c, "StartTime")
	if err != nil {
		return nil, err
	}
	end, err := timeParam(c, "EndTime")
	if err != nil {
		return nil, err
	}
	id, status := c.param("BackupId"), c.param("BackupStatus")
	var match []Backup
	for _, b := range inst.backups {
		if (id == "" || b.ID == id) && (status == "" || status == "Success") &&
			(start.IsZero() || !b.Start.Before(start)) && (end.IsZero() || !b.Start.After(end)) {
			match = append(match, b)
		}
	}
	slices.SortStableFunc(match, func(a, b Backup) int { return b.Start.Compare(a.Start) })
	from, to := page(len(match), size, number)
	resp := backupsResponse{
		RequestID:        c.requestID,
		TotalRecordCount: itoa(len(match)),
		PageNumber:       itoa(number),
		PageRecordCount:  itoa(to - from),
	}
	resp.Items.Backup = []backupItem{}
	for _, b := range match[from:to] {
		item := backupItem{
			BackupID:        b.ID,
			DBInstanceID:    inst.ID,
			BackupStatus:    "Success",
			BackupStartTime: b.Start.UTC().Format(timestampLayout),
			BackupEndTime:   b.End.UTC().Format(timestampLayout),
			BackupDBNames:   strings.Join(b.Databases, ","),
			BackupType:      "FullBackup",
			BackupMethod:    "Physical",
			BackupMode:      "Automated",
		}
		if b.Available {
			item.IsAvail = 1
		}
		for _, name := range b.Databases {
			if d, ok := inst.dbs[name]; ok {
				item.BackupSize += d.SizeBytes
			}
		}
		resp.Items.Backup = append(resp.Items.Backup, item)
	}
	return resp, nil
}

type backupPolicyResponse struct {
	XMLName                  xml.Name `json:"-" xml:"DescribeBackupPolicyResponse"`
	RequestID                string   `json:"RequestId" xml:"RequestId"`
	BackupRetentionPeriod    int
	LogBackupRetentionPeriod int
	EnableBackupLog          string
	PreferredBackupTime      string
	PreferredBackupPeriod    string
}

func (f *Fake) describeBackupPolicy(c *call) (any, *apiError) {
	inst, err := f.lookup(c, "DBInstanceId")
	if err != nil {
		return nil, err
	}
	return backupPolicyResponse{
		RequestID:                c.requestID,
		BackupRetentionPeriod:    inst.BackupRetentionDays,
		LogBackupRetentionPeriod: inst.BackupRetentionDays,
		EnableBackupLog:          "1",
		PreferredBackupTime:      "00:00Z-01:00Z",
		PreferredBackupPeriod:    "Monday,Wednesday,Friday",
	}, nil
}
