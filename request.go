package copydb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/google/go-querystring/query"
)

// ActionCopyDatabaseBetweenInstances is the wire name of the operation.
const ActionCopyDatabaseBetweenInstances = "CopyDatabaseBetweenInstances"

// CopyDatabaseBetweenInstancesRequest asks the service to copy databases of
// one ApsaraDB RDS for SQL Server instance to another, optionally from a
// backup set or as they were at a point in time. The comments give each
// field's wire name.
type CopyDatabaseBetweenInstancesRequest struct {
	// DBInstanceID is the source instance (wire: DBInstanceId). Required.
	DBInstanceID string
	// TargetDBInstanceID is the destination instance (wire:
	// TargetDBInstanceId); it must differ from the source. Required.
	TargetDBInstanceID string
	// DBNames maps source database names to destination names (wire: DbNames,
	// sent as the JSON object text {"src":"dst"}). Required, non-empty.
	DBNames map[string]string
	// BackupID selects a backup set of the source (wire: BackupId). Optional;
	// not together with RestoreTime.
	BackupID string
	// RestoreTime copies the databases as they were at that instant (wire:
	// RestoreTime, sent in UTC as 2006-01-02T15:04:05Z). The zero time means
	// unset. It must lie in the past, within the backup retention period, and
	// have no sub-second part. Not together with BackupID.
	RestoreTime time.Time
	// SyncUserPrivilege copies users and their permissions too (wire:
	// SyncUserPrivilege, YES or NO; NO when false).
	SyncUserPrivilege bool
}

// copyParams is the wire form of CopyDatabaseBetweenInstancesRequest.
type copyParams struct {
	DBInstanceID       string  `url:"DBInstanceId"`
	TargetDBInstanceID string  `url:"TargetDBInstanceId"`
	DBNames            dbNames `url:"DbNames"`
	BackupID           string  `url:"BackupId,omitempty"`
	RestoreTime        utcTime `url:"RestoreTime,omitempty"`
	SyncUserPrivilege  yesNo   `url:"SyncUserPrivilege"`
}

// dbNames encodes as the JSON object text the service expects.
type dbNames map[string]string

// EncodeValues implements query.Encoder.
func (m dbNames) EncodeValues(key string, v *url.Values) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]string(m)); err != nil {
		return err
	}
	v.Set(key, string(bytes.TrimSuffix(b.Bytes(), []byte("\n"))))
	return nil
}

// yesNo encodes a bool as YES or NO.
type yesNo bool

// EncodeValues implements query.Encoder.
func (b yesNo) EncodeValues(key string, v *url.Values) error {
	if b {
		v.Set(key, "YES")
	} else {
		v.Set(key, "NO")
	}
	return nil
}

// timeLayout is the service's time format: UTC, whole seconds.
const timeLayout = "2006-01-02T15:04:05Z"

// utcTime encodes a time in UTC as 2006-01-02T15:04:05Z.
type utcTime time.Time

// IsZero lets omitempty leave an unset time out.
func (t utcTime) IsZero() bool { return time.Time(t).IsZero() }

// EncodeValues implements query.Encoder.
func (t utcTime) EncodeValues(key string, v *url.Values) error {
	if t.IsZero() {
		return nil
	}
	v.Set(key, time.Time(t).UTC().Format(timeLayout))
	return nil
}

// params returns the operation's parameters in wire form.
func (r *CopyDatabaseBetweenInstancesRequest) params() (url.Values, error) {
	v, err := query.Values(copyParams{
		DBInstanceID:       r.DBInstanceID,
		TargetDBInstanceID: r.TargetDBInstanceID,
		DBNames:            dbNames(r.DBNames),
		BackupID:           r.BackupID,
		RestoreTime:        utcTime(r.RestoreTime),
		SyncUserPrivilege:  yesNo(r.SyncUserPrivilege),
	})
	if err != nil {
		return nil, fmt.Errorf("copydb: encode request: %w", err)
	}
	return v, nil
}
