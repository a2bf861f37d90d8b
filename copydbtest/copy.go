package copydbtest

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"time"
)

type copyResponse struct {
	XMLName      xml.Name `json:"-" xml:"CopyDatabaseBetweenInstancesResponse"`
	RequestID    string   `json:"RequestId" xml:"RequestId"`
	DBInstanceID string   `json:"DBInstanceId" xml:"DBInstanceId"`
}

// dbNamePattern is what the fake accepts as a database name (an assumption:
// the service documents no rule for this operation).
var dbNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// copyRequest is a parsed CopyDatabaseBetweenInstances request.
type copyRequest struct {
	src, dst    *instance
	names       map[string]string
	backup      *Backup
	restoreTime time.Time
	syncUsers   bool
}

// copyDatabaseBetweenInstances checks every constraint before it changes
// anything, then adds the target databases as Creating. f.mu is held.
func (f *Fake) copyDatabaseBetweenInstances(c *call) (any, *apiError) {
	req, err := f.parseCopy(c)
	if err != nil {
		return nil, err
	}
	if err := checkInstances(req.src, req.dst); err != nil {
		return nil, err
	}
	if err := checkRestoreSource(c, req); err != nil {
		return nil, err
	}
	if err := checkDatabases(c, req); err != nil {
		return nil, err
	}

	ready := c.now.Add(f.copyDuration)
	for _, src := range slices.Sorted(maps.Keys(req.names)) {
		db := &database{Database: Database{Name: req.names[src], Status: "Creating", SizeBytes: req.src.dbs[src].SizeBytes}, readyAt: ready}
		if f.copyDuration == 0 {
			db.Status, db.readyAt = "Running", time.Time{}
		}
		req.dst.dbs[db.Name] = db
	}
	cp := Copy{
		RequestID:         c.requestID,
		SourceID:          req.src.ID,
		TargetID:          req.dst.ID,
		DBNames:           req.names,
		RestoreTime:       req.restoreTime,
		SyncUserPrivilege: req.syncUsers,
		Accepted:          c.now,
		Ready:             ready,
	}
	if req.backup != nil {
		cp.BackupID = req.backup.ID
	}
	f.copies = append(f.copies, cp)
	return copyResponse{RequestID: c.requestID, DBInstanceID: req.dst.ID}, nil
}

// parseCopy checks the parameters one by one and looks the instances up.
func (f *Fake) parseCopy(c *call) (*copyRequest, *apiError) {
	for _, name := range []string{"DBInstanceId", "TargetDBInstanceId", "DbNames"} {
		if c.param(name) == "" {
			return nil, missing(name)
		}
	}
	req := &copyRequest{}
	if err := parseNames(c.param("DbNames"), &req.names); err != nil {
		return nil, err
	}
	switch c.param("SyncUserPrivilege") {
	case "", "NO":
	case "YES":
		req.syncUsers = true
	default:
		return nil, invalid("SyncUserPrivilege")
	}
	backupID, restore := c.param("BackupId"), c.param("RestoreTime")
	if backupID != "" && restore != "" {
		return nil, errorf(http.StatusBadRequest, "ErrorParametersConflict",
			"BackupId and RestoreTime cannot be specified together.")
	}
	if backupID == "" && restore == "" && f.requireRestoreSource {
		return nil, missing("BackupId or RestoreTime")
	}
	if restore != "" {
		t, err := time.Parse(timestampLayout, restore)
		if err != nil {
			return nil, errorf(http.StatusBadRequest, "InvalidBackupIdOrRestoreTime.Malformed",
				"Specified RestoreTime is not valid.")
		}
		req.restoreTime = t
	}
	if c.param("DBInstanceId") == c.param("TargetDBInstanceId") {
		return nil, errorf(http.StatusBadRequest, "InvalidParameter",
			"The specified parameter TargetDBInstanceId must differ from DBInstanceId.")
	}
	var err *apiError
	if req.src, err = f.lookup(c, "DBInstanceId"); err != nil {
		return nil, err
	}
	if req.dst, err = f.lookup(c, "TargetDBInstanceId"); err != nil {
		return nil, err
	}
	return req, nil
}

// parseNames parses DbNames: a JSON object of valid, distinct names.
func parseNames(s string, out *map[string]string) *apiError {
	bad := errorf(http.StatusBadRequest, "InvalidDBName.Format", "Specified DbNames is not valid.")
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	var names map[string]string
	if err := dec.Decode(&names); err != nil || names == nil || len(names) == 0 || dec.More() {
		return bad
	}
	seen := make(map[string]bool, len(names))
	for src, dst := range names {
		if !dbNamePattern.MatchString(src) || !dbNamePattern.MatchString(dst) {
			return bad
		}
		if seen[dst] {
			return errorf(http.StatusBadRequest, "InvalidDBName.Duplicate",
				"Specified target DB name %s is given twice.", dst)
		}
		seen[dst] = true
	}
	*out = names
	return nil
}

// checkInstances checks that the instances can take part in a copy.
func checkInstances(src, dst *instance) *apiError {
	switch {
	case src.Engine != "SQLServer":
		return errorf(http.StatusBadRequest, "EngineNotSupported", "Specified engine is not supported.")
	case dst.Engine != "SQLServer":
		return errorf(http.StatusBadRequest, "TargetInstanceEngineNotSupported",
			"Specified target instance engine is not supported.")
	case src.ReadOnly || dst.ReadOnly:
		return errorf(http.StatusBadRequest, "ReadOnlyInstanceNotSupport",
			"Read-only instances do not support this operation.")
	case src.Status != "Running" || dst.Status != "Running":
		return errorf(http.StatusForbidden, "IncorrectDBInstanceState",
			"Current DB instance state does not support this operation.")
	case src.RegionID != dst.RegionID:
		return errorf(http.StatusBadRequest, "InvalidInstancesRegion.Malformed",
			"The source and target instances must be in the same region.")
	case majorVersion(src.EngineVersion) != majorVersion(dst.EngineVersion):
		return errorf(http.StatusForbidden, "InvalidInstanceVersion",
			"The source and target instance versions must be the same.")
	case src.NetworkType != dst.NetworkType:
		return errorf(http.StatusBadRequest, "InvalidNetworkType.Mismatch",
			"The source and target instances must have the same network type.")
	}
	return nil
}

// checkRestoreSource checks the backup or the restore time against the
// source instance's backups and retention, and records the backup used.
func checkRestoreSource(c *call, req *copyRequest) *apiError {
	if id := c.param("BackupId"); id != "" {
		i := slices.IndexFunc(req.src.backups, func(b Backup) bool { return b.ID == id })
		if i < 0 || !req.src.backups[i].Available {
			return errorf(http.StatusBadRequest, "InvalidBackupSetID", "Specified backup set ID does not exist.")
		}
		b := req.src.backups[i]
		for src := range req.names {
			if !slices.Contains(b.Databases, src) {
				return errorf(http.StatusBadRequest, "InvalidBackupSetID",
					"Specified backup set does not contain database %s.", src)
			}
		}
		req.backup = &b
		return nil
	}
	if req.restoreTime.IsZero() {
		return nil
	}
	oldest := c.now.AddDate(0, 0, -req.src.BackupRetentionDays)
	if req.restoreTime.Before(oldest) || req.restoreTime.After(c.now) {
		return errorf(http.StatusBadRequest, "InvalidRestoreTimeSpecified",
			"Specified RestoreTime is out of the backup retention period.")
	}
	for _, b := range req.src.backups {
		if b.Available && !b.End.After(req.restoreTime) && containsAll(b.Databases, req.names) {
			return nil
		}
	}
	return errorf(http.StatusBadRequest, "InvalidBackupIdOrRestoreTime.NotFound",
		"No available backup set covers the specified RestoreTime.")
}

// containsAll reports whether list holds every key of names.
func containsAll(list []string, names map[string]string) bool {
	for n := range names {
		if !slices.Contains(list, n) {
			return false
		}
	}
	return true
}

// checkDatabases checks the source databases, the target names and the
// target's free storage.
func checkDatabases(c *call, req *copyRequest) *apiError {
	var need int64
	for _, src := range slices.Sorted(maps.Keys(req.names)) {
		d, ok := req.src.dbs[src]
		if !ok {
			return errorf(http.StatusBadRequest, "InvalidDBName.NotFound", "Specified DB name %s does not exist.", src)
		}
		if d.status(c.now) != "Running" {
			return errorf(http.StatusForbidden, "IncorrectDBState",
				"Current DB %s state does not support this operation.", src)
		}
		if d.TDE {
			return errorf(http.StatusBadRequest, "CanNotCopyDBHasTDEEnabled",
				"Databases with TDE enabled cannot be copied.")
		}
		if _, ok := req.dst.dbs[req.names[src]]; ok {
			return errorf(http.StatusBadRequest, "InvalidDBName.Duplicate",
				"Specified DB name %s already exists.", req.names[src])
		}
		need += d.SizeBytes
	}
	free := int64(req.dst.StorageGB)<<30 - req.dst.usedBytes()
	if need >= free {
		return errorf(http.StatusForbidden, "StorageLimitExceeded", "Exceeding the allowed Storage of DB instance.")
	}
	return nil
}
