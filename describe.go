package copydb

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
)

// Wire names of the read operations [Client.Preflight] and
// [Client.WaitForCopy] use.
const (
	ActionDescribeDBInstanceAttribute = "DescribeDBInstanceAttribute"
	ActionDescribeDatabases           = "DescribeDatabases"
	ActionDescribeBackups             = "DescribeBackups"
	ActionDescribeBackupPolicy        = "DescribeBackupPolicy"
)

// Paging of the list operations.
const (
	// describePageSize is the largest page DescribeDatabases and
	// DescribeBackups serve.
	describePageSize = 100
	// maxDescribePages bounds a listing, so that a service that never
	// returns a short page cannot keep the client looping.
	maxDescribePages = 1000
)

// backupTimeLayout is the layout of DescribeBackups' StartTime and EndTime:
// UTC, minute precision.
const backupTimeLayout = "2006-01-02T15:04Z"

// DBInstanceAttribute is what DescribeDBInstanceAttribute says about an
// instance: the facts [Client.Preflight] checks a copy against. Sizes are in
// bytes; a size the service did not report is -1.
type DBInstanceAttribute struct {
	// DBInstanceID is the instance id (wire: DBInstanceId).
	DBInstanceID string
	// Engine is the database engine, "SQLServer" for instances this package
	// can copy between.
	Engine string
	// EngineVersion is the engine version and edition, such as "2016_std_ha";
	// see [DBInstanceAttribute.MajorVersion].
	EngineVersion string
	// RegionID and ZoneID locate the instance (wire: RegionId, ZoneId).
	RegionID, ZoneID string
	// NetworkType is "Classic" or "VPC" (wire: InstanceNetworkType).
	NetworkType string
	// StorageBytes is the instance's storage (wire: DBInstanceStorage, in GB
	// of 2^30 bytes), in bytes.
	StorageBytes int64
	// UsedBytes is the storage in use (wire: DBInstanceDiskUsed).
	UsedBytes int64
	// Status is the instance's state, such as "Running" or "Restoring" (wire:
	// DBInstanceStatus).
	Status string
	// LockMode is "Unlock" for an instance that is not locked; other values
	// (LockByExpiration, LockByDiskQuota, ...) name the reason of a lock.
	LockMode string
	// Category is the edition, such as "Basic" or "HighAvailability".
	Category string
	// DBInstanceType is "Primary", "Readonly", "Guard" or "Temp".
	DBInstanceType string
	// DBInstanceClass is the instance type, such as "mssql.x4.medium.s2".
	DBInstanceClass string
}

// MajorVersion returns the engine's major version, the part of
// EngineVersion before "_" ("2016" for "2016_std_ha").
func (a *DBInstanceAttribute) MajorVersion() string {
	major, _, _ := strings.Cut(a.EngineVersion, "_")
	return major
}

// FreeBytes returns StorageBytes minus UsedBytes, or -1 when either is
// unknown.
func (a *DBInstanceAttribute) FreeBytes() int64 {
	if a.StorageBytes < 0 || a.UsedBytes < 0 {
		return -1
	}
	return a.StorageBytes - a.UsedBytes
}

// Unlocked reports whether the instance is not locked (LockMode "Unlock", or
// not reported).
func (a *DBInstanceAttribute) Unlocked() bool {
	return a.LockMode == "" || strings.EqualFold(a.LockMode, "Unlock")
}

// ReadOnly reports whether the instance is a read-only replica.
func (a *DBInstanceAttribute) ReadOnly() bool {
	return strings.EqualFold(a.DBInstanceType, "Readonly") || strings.EqualFold(a.DBInstanceType, "ReadOnly")
}

// Database is one database as DescribeDatabases lists it.
type Database struct {
	// Name is the database name (wire: DBName).
	Name string
	// Status is "Creating", "Running" or "Deleting" (wire: DBStatus).
	Status string
	// Engine is the instance's engine.
	Engine string
	// TDEStatus is "Enabled" when transparent data encryption is on; such a
	// database cannot be copied.
	TDEStatus string
	// CharacterSetName is the collation, such as "Chinese_PRC_CI_AS".
	CharacterSetName string
	// SizeBytes is the database's size, or -1 when the answer did not carry
	// it. The service documents no typed size; copydb reads the
	// "TotalSizeBytes" property of RuntimeInfo.RuntimeDbProperty (an
	// assumption shared with copydbtest).
	SizeBytes int64
}

// TDEEnabled reports whether transparent data encryption is on.
func (d *Database) TDEEnabled() bool { return strings.EqualFold(d.TDEStatus, "Enabled") }

// DescribeBackupsRequest selects backup sets of an instance.
type DescribeBackupsRequest struct {
	// DBInstanceID is the instance (wire: DBInstanceId). Required.
	DBInstanceID string `url:"DBInstanceId"`
	// BackupID selects one backup set (wire: BackupId). Optional.
	BackupID string `url:"BackupId,omitempty"`
	// StartTime and EndTime bound the backups' start times (wire: StartTime,
	// EndTime, sent in UTC with minute precision: the seconds are dropped).
	// Zero means unbounded.
	StartTime time.Time `url:"-"`
	EndTime   time.Time `url:"-"`
}

// Backup is one backup set as DescribeBackups lists it.
type Backup struct {
	// BackupID is the backup set's id (wire: BackupId).
	BackupID string
	// DBInstanceID is the instance the backup belongs to.
	DBInstanceID string
	// Status is "Success" for a completed backup (wire: BackupStatus).
	Status string
	// Available reports whether the backup can be restored from (wire:
	// IsAvail).
	Available bool
	// StartTime and EndTime are when the backup ran (wire: BackupStartTime,
	// BackupEndTime); zero when not reported.
	StartTime, EndTime time.Time
	// SizeBytes is the backup's size (wire: BackupSize), -1 when unknown.
	SizeBytes int64
	// DBNames lists the databases in the backup (wire: BackupDBNames).
	DBNames []string
	// Type, Method and Mode are the wire's BackupType (FullBackup,
	// IncrementalBackup), BackupMethod (Physical, Logical, Snapshot) and
	// BackupMode (Automated, Manual).
	Type, Method, Mode string
}

// Usable reports whether the backup completed and is available.
func (b *Backup) Usable() bool {
	return b.Available && (b.Status == "" || strings.EqualFold(b.Status, "Success"))
}

// BackupPolicy is the part of DescribeBackupPolicy's answer a copy needs.
type BackupPolicy struct {
	// BackupRetentionPeriod is how many days data backups are kept: a
	// RestoreTime must lie within it.
	BackupRetentionPeriod int
	// LogBackupRetentionPeriod is how many days log backups are kept; 0 when
	// not reported.
	LogBackupRetentionPeriod int
	// EnableBackupLog reports whether log backups are on.
	EnableBackupLog bool
	// PreferredBackupTime and PreferredBackupPeriod are the backup window
	// and weekdays, as the service states them.
	PreferredBackupTime, PreferredBackupPeriod string
}

// DescribeDBInstanceAttribute returns the attributes of one instance. An
// instance the credentials cannot see (absent, or of another account)
// matches [ErrInstanceNotFound].
func (c *Client) DescribeDBInstanceAttribute(ctx context.Context, instanceID string) (*DBInstanceAttribute, error) {
	creds, err := c.describeStart(ctx, ActionDescribeDBInstanceAttribute, instanceID)
	if err != nil {
		return nil, err
	}
	params := url.Values{"DBInstanceId": {instanceID}}
	out := new(attributeAnswer)
	if err := c.call(ctx, ActionDescribeDBInstanceAttribute, params, creds, true, out); err != nil {
		return nil, err
	}
	if len(out.Items.DBInstanceAttribute) == 0 {
		return nil, &APIError{Action: ActionDescribeDBInstanceAttribute, Code: "InvalidDBInstanceId.NotFound",
			Message: "the answer lists no instance", RequestID: out.RequestID, StatusCode: 200, Attempts: 1}
	}
	w := out.Items.DBInstanceAttribute[0]
	a := &DBInstanceAttribute{
		DBInstanceID:    w.DBInstanceID,
		Engine:          w.Engine,
		EngineVersion:   w.EngineVersion,
		RegionID:        w.RegionID,
		ZoneID:          w.ZoneID,
		NetworkType:     w.InstanceNetworkType,
		StorageBytes:    -1,
		UsedBytes:       w.DBInstanceDiskUsed.value(),
		Status:          w.DBInstanceStatus,
		LockMode:        w.LockMode,
		Category:        w.Category,
		DBInstanceType:  w.DBInstanceType,
		DBInstanceClass: w.DBInstanceClass,
	}
	if gb := w.DBInstanceStorage.value(); gb >= 0 && gb <= 1<<32 {
		a.StorageBytes = gb << 30
	}
	if a.DBInstanceID == "" {
		a.DBInstanceID = instanceID
	}
	return a, nil
}

// DescribeDatabases returns every database of an instance, reading all
// pages.
func (c *Client) DescribeDatabases(ctx context.Context, instanceID string) ([]Database, error) {
	creds, err := c.describeStart(ctx, ActionDescribeDatabases, instanceID)
	if err != nil {
		return nil, err
	}
	var dbs []Database
	for page := 1; page <= maxDescribePages; page++ {
		params := url.Values{
			"DBInstanceId": {instanceID},
			"PageSize":     {strconv.Itoa(describePageSize)},
			"PageNumber":   {strconv.Itoa(page)},
		}
		out := new(databasesAnswer)
		if err := c.call(ctx, ActionDescribeDatabases, params, creds, true, out); err != nil {
			return nil, err
		}
		for _, w := range out.Databases.Database {
			dbs = append(dbs, Database{
				Name:             w.DBName,
				Status:           w.DBStatus,
				Engine:           w.Engine,
				TDEStatus:        w.TDEStatus,
				CharacterSetName: w.CharacterSetName,
				SizeBytes:        w.RuntimeInfo.sizeBytes(),
			})
		}
		if len(out.Databases.Database) < describePageSize {
			return dbs, nil
		}
	}
	return nil, fmt.Errorf("copydb: %s: more than %d pages: %w", ActionDescribeDatabases, maxDescribePages, errTooManyPages)
}

var errTooManyPages = errors.New("listing does not end")

// DescribeBackups returns the backup sets req selects, reading all pages.
func (c *Client) DescribeBackups(ctx context.Context, req *DescribeBackupsRequest) ([]Backup, error) {
	if req == nil {
		return nil, &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	creds, err := c.describeStart(ctx, ActionDescribeBackups, req.DBInstanceID)
	if err != nil {
		return nil, err
	}
	base, err := query.Values(req)
	if err != nil {
		return nil, fmt.Errorf("copydb: encode request: %w", err)
	}
	if !req.StartTime.IsZero() {
		base.Set("StartTime", req.StartTime.UTC().Format(backupTimeLayout))
	}
	if !req.EndTime.IsZero() {
		base.Set("EndTime", req.EndTime.UTC().Format(backupTimeLayout))
	}
	var backups []Backup
	for page := 1; page <= maxDescribePages; page++ {
		params := make(url.Values, len(base)+2)
		for k, v := range base {
			params[k] = v
		}
		params.Set("PageSize", strconv.Itoa(describePageSize))
		params.Set("PageNumber", strconv.Itoa(page))
		out := new(backupsAnswer)
		if err := c.call(ctx, ActionDescribeBackups, params, creds, true, out); err != nil {
			return nil, err
		}
		for _, w := range out.Items.Backup {
			b := Backup{
				BackupID:     w.BackupID,
				DBInstanceID: w.DBInstanceID,
				Status:       w.BackupStatus,
				Available:    w.IsAvail.value() == 1,
				StartTime:    parseServiceTime(w.BackupStartTime),
				EndTime:      parseServiceTime(w.BackupEndTime),
				SizeBytes:    w.BackupSize.value(),
				Type:         w.BackupType,
				Method:       w.BackupMethod,
				Mode:         w.BackupMode,
			}
			for _, n := range strings.Split(w.BackupDBNames, ",") {
				if n = strings.TrimSpace(n); n != "" {
					b.DBNames = append(b.DBNames, n)
				}
			}
			backups = append(backups, b)
		}
		if len(out.Items.Backup) < describePageSize {
			return backups, nil
		}
	}
	return nil, fmt.Errorf("copydb: %s: more than %d pages: %w", ActionDescribeBackups, maxDescribePages, errTooManyPages)
}

// DescribeBackupPolicy returns an instance's backup policy.
func (c *Client) DescribeBackupPolicy(ctx context.Context, instanceID string) (*BackupPolicy, error) {
	creds, err := c.describeStart(ctx, ActionDescribeBackupPolicy, instanceID)
	if err != nil {
		return nil, err
	}
	params := url.Values{"DBInstanceId": {instanceID}}
	out := new(policyAnswer)
	if err := c.call(ctx, ActionDescribeBackupPolicy, params, creds, true, out); err != nil {
		return nil, err
	}
	p := &BackupPolicy{
		BackupRetentionPeriod:    int(max(out.BackupRetentionPeriod.value(), 0)),
		LogBackupRetentionPeriod: int(max(out.LogBackupRetentionPeriod.value(), 0)),
		PreferredBackupTime:      out.PreferredBackupTime,
		PreferredBackupPeriod:    out.PreferredBackupPeriod,
	}
	switch strings.ToLower(strings.TrimSpace(string(out.EnableBackupLog))) {
	case "1", "true", "enable", "enabled", "yes":
		p.EnableBackupLog = true
	}
	return p, nil
}

// describeStart does what every read does before I/O: check the context,
// the instance id and the credentials.
func (c *Client) describeStart(ctx context.Context, action, instanceID string) (Credentials, error) {
	if err := ctx.Err(); err != nil {
		return Credentials{}, fmt.Errorf("copydb: %s not sent: %w", action, err)
	}
	var errs []error
	checkInstanceID(func(field, format string, args ...any) {
		errs = append(errs, &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}, "DBInstanceId", instanceID)
	creds, cerr := c.credentials(ctx)
	if err := errors.Join(append(errs, cerr)...); err != nil {
		return Credentials{}, err
	}
	return creds, nil
}

// parseServiceTime reads a time as the service writes it; zero when
// unreadable.
func parseServiceTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{timeLayout, backupTimeLayout, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Wire forms of the answers. Counts and sizes go through flexInt, since the
// service writes some numbers as strings and may change its mind.

type attributeAnswer struct {
	RequestID string `json:"RequestId" xml:"RequestId"`
	Items     struct{ DBInstanceAttribute []attributeWire }
}

func (a *attributeAnswer) requestID() string { return a.RequestID }

type attributeWire struct {
	DBInstanceID        string `json:"DBInstanceId" xml:"DBInstanceId"`
	Engine              string
	EngineVersion       string
	RegionID            string `json:"RegionId" xml:"RegionId"`
	ZoneID              string `json:"ZoneId" xml:"ZoneId"`
	InstanceNetworkType string
	DBInstanceStorage   flexInt
	DBInstanceDiskUsed  flexInt
	DBInstanceStatus    string
	LockMode            string
	Category            string
	DBInstanceType      string
	DBInstanceClass     string
}

type databasesAnswer struct {
	RequestID string `json:"RequestId" xml:"RequestId"`
	Databases struct{ Database []databaseWire }
}

func (a *databasesAnswer) requestID() string { return a.RequestID }

type databaseWire struct {
	DBName           string
	DBStatus         string
	Engine           string
	TDEStatus        string
	CharacterSetName string
	RuntimeInfo      runtimeInfo
}

// sizeProperty is the RuntimeInfo property copydb reads a database's size
// from (an assumption: the service documents no key).
const sizeProperty = "TotalSizeBytes"

// runtimeInfo is a database's RuntimeInfo: the service documents it as a
// list of dictionaries with undocumented keys. It accepts the
// {"RuntimeDbProperty":[{"PropertyName":"TotalSizeBytes","PropertyValue":"n"}]}
// form, a list of flat dictionaries {"TotalSizeBytes":"n"}, and a flat
// dictionary; in XML, the first two.
type runtimeInfo struct {
	size flexInt
}

func (r runtimeInfo) sizeBytes() int64 { return r.size.value() }

// UnmarshalJSON never fails: an unexpected shape only leaves the size
// unknown.
func (r *runtimeInfo) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if r.fromDict(m) {
		return nil
	}
	for k, v := range m {
		if !strings.EqualFold(k, "RuntimeDbProperty") {
			continue
		}
		var list []map[string]json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			var one map[string]json.RawMessage
			if json.Unmarshal(v, &one) != nil {
				return nil
			}
			list = append(list, one)
		}
		for _, d := range list {
			if r.fromDict(d) {
				return nil
			}
		}
	}
	return nil
}

// fromDict reads the size from a {"PropertyName":..,"PropertyValue":..} or a
// flat {"TotalSizeBytes":..} dictionary.
func (r *runtimeInfo) fromDict(d map[string]json.RawMessage) bool {
	var name string
	var value json.RawMessage
	for k, v := range d {
		switch {
		case strings.EqualFold(k, sizeProperty):
			var n flexInt
			if n.UnmarshalJSON(v) == nil && n.ok {
				r.size = n
				return true
			}
		case strings.EqualFold(k, "PropertyName"):
			_ = json.Unmarshal(v, &name)
		case strings.EqualFold(k, "PropertyValue"):
			value = v
		}
	}
	if strings.EqualFold(name, sizeProperty) && value != nil {
		var n flexInt
		if n.UnmarshalJSON(value) == nil && n.ok {
			r.size = n
			return true
		}
	}
	return false
}

// UnmarshalXML reads <RuntimeDbProperty> elements, either
// <PropertyName>/<PropertyValue> pairs or a <TotalSizeBytes> element.
func (r *runtimeInfo) UnmarshalXML(d *xml.Decoder, start xml.StartElement) error {
	var w struct {
		TotalSizeBytes    string
		RuntimeDbProperty []struct {
			PropertyName, PropertyValue, TotalSizeBytes string
		}
	}
	if err := d.DecodeElement(&w, &start); err != nil {
		return err
	}
	try := func(s string) bool {
		var n flexInt
		if n.UnmarshalText([]byte(s)) == nil && n.ok {
			r.size = n
			return true
		}
		return false
	}
	if try(w.TotalSizeBytes) {
		return nil
	}
	for _, p := range w.RuntimeDbProperty {
		if try(p.TotalSizeBytes) || (strings.EqualFold(p.PropertyName, sizeProperty) && try(p.PropertyValue)) {
			return nil
		}
	}
	return nil
}

type backupsAnswer struct {
	RequestID string `json:"RequestId" xml:"RequestId"`
	Items     struct{ Backup []backupWire }
}

func (a *backupsAnswer) requestID() string { return a.RequestID }

type backupWire struct {
	BackupID        string `json:"BackupId" xml:"BackupId"`
	DBInstanceID    string `json:"DBInstanceId" xml:"DBInstanceId"`
	BackupStatus    string
	IsAvail         flexInt
	BackupStartTime string
	BackupEndTime   string
	BackupSize      flexInt
	BackupDBNames   string
	BackupType      string
	BackupMethod    string
	BackupMode      string
}

type policyAnswer struct {
	RequestID                string `json:"RequestId" xml:"RequestId"`
	BackupRetentionPeriod    flexInt
	LogBackupRetentionPeriod flexInt
	EnableBackupLog          flexString
	PreferredBackupTime      string
	PreferredBackupPeriod    string
}

func (a *policyAnswer) requestID() string { return a.RequestID }

// flexInt is a non-negative integer written as a JSON number, a JSON string
// or XML text; ok is false when absent, empty or unreadable.
type flexInt struct {
	n  int64
	ok bool
}

// value returns the integer, or -1 when unknown.
func (f flexInt) value() int64 {
	if !f.ok {
		return -1
	}
	return f.n
}

// UnmarshalJSON accepts a number or a string; anything else leaves the value
// unknown rather than failing the whole answer.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(s)
	}
	return f.UnmarshalText(b)
}

// UnmarshalText parses decimal digits (a fractional part, as in "1.0", is
// dropped); anything else leaves the value unknown.
func (f *flexInt) UnmarshalText(b []byte) error {
	*f = flexInt{}
	s := strings.TrimSpace(string(b))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		*f = flexInt{n: n, ok: true}
		return nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && x >= 0 && x < 1<<62 {
		*f = flexInt{n: int64(x), ok: true}
	}
	return nil
}

// flexString is a string the service may write as a JSON number or bool.
type flexString string

// UnmarshalJSON accepts a string, a number or a bool.
func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		*f = flexString(s)
		return nil
	}
	*f = flexString(bytes.TrimSpace(b))
	return nil
}
