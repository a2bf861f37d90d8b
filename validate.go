package copydb

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits the client checks before sending.
const (
	// MaxDBNameLength is the longest database name accepted, in characters
	// (ApsaraDB RDS for SQL Server allows 64).
	MaxDBNameLength = 64
	// maxInstanceIDLength bounds an instance id; real ids are about 20-30.
	maxInstanceIDLength = 64
)

// Validate checks the request as the client does before sending it, with the
// current time as the reference for RestoreTime. It reports every problem at
// once: the result is nil or an [errors.Join] of [*ValidationError] values,
// each naming the wire field and the reason, each matching
// [ErrInvalidRequest]. It never panics, whatever the input.
func (r *CopyDatabaseBetweenInstancesRequest) Validate() error {
	return r.validate(time.Now())
}

func (r *CopyDatabaseBetweenInstancesRequest) validate(now time.Time) error {
	if r == nil {
		return &ValidationError{Field: "request", Reason: "must not be nil"}
	}
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	srcOK := checkInstanceID(add, "DBInstanceId", r.DBInstanceID)
	dstOK := checkInstanceID(add, "TargetDBInstanceId", r.TargetDBInstanceID)
	if srcOK && dstOK && strings.EqualFold(r.DBInstanceID, r.TargetDBInstanceID) {
		add("TargetDBInstanceId", "must differ from DBInstanceId")
	}
	checkDBNames(add, r.DBNames)
	if r.BackupID != "" {
		if !isDigits(r.BackupID) || len(r.BackupID) > 32 {
			add("BackupId", "must be the numeric id of a backup set, as DescribeBackups returns it, got %q", truncate(r.BackupID))
		}
	}
	if !r.RestoreTime.IsZero() {
		if r.BackupID != "" {
			add("RestoreTime", "must not be set together with BackupId (the service refuses both with ErrorParametersConflict)")
		}
		if r.RestoreTime.Nanosecond() != 0 {
			add("RestoreTime", "must be whole seconds, the service has no sub-second precision (got %s)", r.RestoreTime.UTC().Format(time.RFC3339Nano))
		}
		if r.RestoreTime.After(now) {
			add("RestoreTime", "must not be in the future (got %s, now %s)", r.RestoreTime.UTC().Format(timeLayout), now.UTC().Format(timeLayout))
		}
		if y := r.RestoreTime.UTC().Year(); y < 2000 || y > 9999 {
			add("RestoreTime", "year %d is out of range", y)
		}
	}
	return errors.Join(errs...)
}

type addFunc func(field, format string, args ...any)

// checkInstanceID reports problems with an instance id; true when it is good.
func checkInstanceID(add addFunc, field, id string) bool {
	switch {
	case id == "":
		add(field, "is required")
	case len(id) > maxInstanceIDLength:
		add(field, "is longer than %d characters", maxInstanceIDLength)
	case strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-')
	}) >= 0:
		add(field, "%q may hold only lower-case letters, digits and '-', like rm-uf6wjk5xxxxxxx", truncate(id))
	default:
		return true
	}
	return false
}

// checkDBNames reports problems with the source-to-destination map.
func checkDBNames(add addFunc, names map[string]string) {
	if len(names) == 0 {
		add("DbNames", "is required: map at least one source database to a destination name")
		return
	}
	srcs := make([]string, 0, len(names))
	for s := range names {
		srcs = append(srcs, s)
	}
	slices.Sort(srcs) // deterministic error order
	seen := make(map[string]string, len(names))
	for _, src := range srcs {
		dst := names[src]
		if reason := dbNameProblem(src); reason != "" {
			add("DbNames", "source name %q %s", truncate(src), reason)
		}
		if reason := dbNameProblem(dst); reason != "" {
			add("DbNames", "destination name %q (for source %q) %s", truncate(dst), truncate(src), reason)
			continue
		}
		key := strings.ToLower(dst) // SQL Server names compare case-insensitively
		if other, dup := seen[key]; dup {
			add("DbNames", "sources %q and %q are both mapped to destination %q", truncate(other), truncate(src), truncate(dst))
			continue
		}
		seen[key] = src
	}
}

// dbNameProblem returns why name is not a usable database name, or "".
func dbNameProblem(name string) string {
	switch {
	case name == "":
		return "is empty"
	case !utf8.ValidString(name):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(name) > MaxDBNameLength:
		return fmt.Sprintf("is longer than %d characters", MaxDBNameLength)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "contains a control character"
	case strings.TrimSpace(name) != name:
		return "has leading or trailing white space"
	}
	return ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// truncate shortens s for an error message.
func truncate(s string) string { return truncateN(s, 80) }
