package copydb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Condition names one condition of a copy that [Client.Preflight] checks.
type Condition string

// The conditions [Client.Preflight] checks, with the sentinel a violation
// matches.
const (
	// ConditionInstance: both instances exist and the credentials can see
	// them ([ErrInstanceNotFound]). The service answers "not found" for an
	// instance of another account too.
	ConditionInstance Condition = "instance"
	// ConditionEngine: both instances are primary SQL Server instances
	// ([ErrUnsupportedEngine]).
	ConditionEngine Condition = "engine"
	// ConditionVersion: the major versions are equal ([ErrVersionMismatch]).
	ConditionVersion Condition = "version"
	// ConditionRegion: the instances are in the same region; zones may
	// differ ([ErrRegionMismatch]).
	ConditionRegion Condition = "region"
	// ConditionNetworkType: the network types are equal
	// ([ErrNetworkTypeMismatch]).
	ConditionNetworkType Condition = "network-type"
	// ConditionState: both instances are Running and unlocked
	// ([ErrIncorrectInstanceState]).
	ConditionState Condition = "state"
	// ConditionSourceDatabase: every database to copy exists on the source
	// ([ErrSourceDatabaseNotFound]).
	ConditionSourceDatabase Condition = "source-database"
	// ConditionDatabaseState: every database to copy is Running
	// ([ErrIncorrectInstanceState]).
	ConditionDatabaseState Condition = "database-state"
	// ConditionTDE: no database to copy has TDE enabled ([ErrInvalidRequest],
	// as the service's CanNotCopyDBHasTDEEnabled).
	ConditionTDE Condition = "tde"
	// ConditionTargetName: no target name exists on the target, compared
	// case-insensitively ([ErrDatabaseExists]).
	ConditionTargetName Condition = "target-name"
	// ConditionStorage: the target's free space exceeds the space needed
	// ([ErrStorageLimitExceeded]).
	ConditionStorage Condition = "storage"
	// ConditionBackup: the backup set (BackupId), or for a RestoreTime a
	// backup set before it, exists, is available and holds the databases
	// ([ErrBackupNotFound]).
	ConditionBackup Condition = "backup"
	// ConditionRestoreTime: RestoreTime lies within the source's backup
	// retention period ([ErrRestoreTimeOutOfRange]).
	ConditionRestoreTime Condition = "restore-time"
)

// ConditionError is one condition [Client.Preflight] found broken. It
// matches its sentinel (Err) with [errors.Is]; Cause, when set, is the
// service's error behind it.
type ConditionError struct {
	// Condition is the condition broken.
	Condition Condition
	// Detail says what is wrong, naming the instances and databases.
	Detail string
	// Err is the sentinel, such as [ErrRegionMismatch].
	Err error
	// Cause is the service's answer that showed the problem, if any (an
	// [*APIError] for an instance not found).
	Cause error
}

// Error returns "copydb: preflight: <condition>: <detail>".
func (e *ConditionError) Error() string {
	return "copydb: preflight: " + string(e.Condition) + ": " + e.Detail
}

// Unwrap returns the sentinel and the cause.
func (e *ConditionError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// StorageEstimate says how [PreflightReport.NeededBytes] was found.
type StorageEstimate string

// How the space a copy needs is estimated, best first.
const (
	// EstimateDatabaseSizes: the sum of the sizes the service reports per
	// database.
	EstimateDatabaseSizes StorageEstimate = "database-sizes"
	// EstimateSourceUsed: the source's used space (DBInstanceDiskUsed),
	// used when the request copies every database of the source but their
	// sizes are not all reported. It includes logs and overhead, so it may
	// overstate the need.
	EstimateSourceUsed StorageEstimate = "source-used"
	// EstimateUnknown: neither is known; the storage condition was not
	// checked (a warning says so).
	EstimateUnknown StorageEstimate = "unknown"
)

// DatabaseCopy is one database a request copies.
type DatabaseCopy struct {
	// Source and Target are the database's names on each instance.
	Source, Target string
	// SizeBytes is the source database's size, -1 when unknown (or when the
	// database was not found).
	SizeBytes int64
}

// PreflightReport is what [Client.Preflight] found: the facts it read and
// the conditions that fail.
type PreflightReport struct {
	// Source and Target are the instances' attributes; nil when an instance
	// could not be read.
	Source, Target *DBInstanceAttribute
	// SourceDatabases and TargetDatabases are the instances' databases; nil
	// when not read.
	SourceDatabases, TargetDatabases []Database
	// Databases are the databases to copy, sorted by source name.
	Databases []DatabaseCopy
	// NeededBytes is the space the copy needs on the target, -1 when
	// unknown; NeededEstimate says how it was found. When databases to copy
	// are missing on the source, it is the sum of those found, set only
	// when that alone exceeds the free space.
	NeededBytes    int64
	NeededEstimate StorageEstimate
	// FreeBytes is the target's free space (storage minus used), -1 when
	// unknown.
	FreeBytes int64
	// Backup is the backup set the copy restores from: the one BackupID
	// names, or for a RestoreTime the latest available one ending before it.
	Backup *Backup
	// BackupPolicy is the source's backup policy, read for a RestoreTime.
	BackupPolicy *BackupPolicy
	// Warnings are doubts that do not fail the preflight: a version the
	// oldest reference page does not list, a condition that could not be
	// checked.
	Warnings []string
	// Violations are the conditions that fail, in a fixed order.
	Violations []*ConditionError
}

// Err returns the violations joined with [errors.Join], nil when there are
// none.
func (r *PreflightReport) Err() error {
	if r == nil || len(r.Violations) == 0 {
		return nil
	}
	errs := make([]error, len(r.Violations))
	for i, v := range r.Violations {
		errs[i] = v
	}
	return errors.Join(errs...)
}

// supportedMajors are the versions the operation's reference page names;
// newer documentation says "2012 or later".
var supportedMajors = []string{"2012", "2016"}

// systemDatabases are never "user databases" of an instance.
var systemDatabases = []string{"master", "model", "msdb", "tempdb", "distribution"}

// Preflight checks the documented conditions of a copy without sending it:
// it validates req (nothing is sent when it is invalid), reads both
// instances, both database lists and, for a BackupID or RestoreTime, the
// backup set or the backup policy, then checks every condition (see
// [Condition]). It returns the report and an error joining one
// [*ConditionError] per broken condition, each matching its sentinel with
// [errors.Is] (the sentinel the service's own error would match). A read
// that fails other than with "instance not found" (throttling, an outcome
// unknown, a cancelled context) ends the preflight with that error and the
// report so far.
//
// Storage is estimated: see [StorageEstimate]. When the need cannot be
// estimated, the report warns and the condition is not failed.
func (c *Client) Preflight(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest) (*PreflightReport, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("copydb: preflight not started: %w", err)
	}
	now := c.now()
	verr := req.validate(now)
	_, cerr := c.credentials(ctx)
	if err := errors.Join(verr, cerr); err != nil {
		return nil, err
	}
	p := &preflight{c: c, req: req, now: now, r: &PreflightReport{NeededBytes: -1, NeededEstimate: EstimateUnknown, FreeBytes: -1}}
	if err := p.read(ctx); err != nil {
		return p.r, err
	}
	p.check()
	return p.r, p.r.Err()
}

// preflight is the state of one Preflight.
type preflight struct {
	c   *Client
	req *CopyDatabaseBetweenInstancesRequest
	now time.Time
	r   *PreflightReport
	// covering are the usable backups ending before RestoreTime.
	covering []Backup
	// restoreInRange is set when RestoreTime lies in the retention period.
	restoreInRange bool
}

func (p *preflight) violate(cond Condition, sentinel, cause error, format string, args ...any) {
	p.r.Violations = append(p.r.Violations, &ConditionError{Condition: cond, Detail: fmt.Sprintf(format, args...), Err: sentinel, Cause: cause})
}

func (p *preflight) warn(format string, args ...any) {
	p.r.Warnings = append(p.r.Warnings, fmt.Sprintf(format, args...))
}

// read fetches every fact; instances that are not found become violations.
func (p *preflight) read(ctx context.Context) error {
	c, req, r := p.c, p.req, p.r
	var err error
	if r.Source, err = c.DescribeDBInstanceAttribute(ctx, req.DBInstanceID); err != nil {
		if !errors.Is(err, ErrInstanceNotFound) {
			return err
		}
		p.violate(ConditionInstance, ErrInstanceNotFound, err,
			"source instance %s not found: it does not exist or the credentials cannot see it", req.DBInstanceID)
	}
	if r.Target, err = c.DescribeDBInstanceAttribute(ctx, req.TargetDBInstanceID); err != nil {
		if !errors.Is(err, ErrInstanceNotFound) {
			return err
		}
		p.violate(ConditionInstance, ErrInstanceNotFound, err,
			"target instance %s not found: it does not exist or belongs to another account (both instances must belong to the account of the credentials)", req.TargetDBInstanceID)
	}
	if r.Source != nil {
		if r.SourceDatabases, err = p.listDatabases(ctx, req.DBInstanceID, "source"); err != nil {
			return err
		}
	}
	if r.Target != nil {
		if r.TargetDatabases, err = p.listDatabases(ctx, req.TargetDBInstanceID, "target"); err != nil {
			return err
		}
	}
	if r.Source == nil {
		return nil
	}
	switch {
	case req.BackupID != "":
		return p.readBackup(ctx)
	case !req.RestoreTime.IsZero():
		return p.readRestoreSource(ctx)
	}
	return nil
}

// listDatabases reads an instance's databases; an instance gone since it was
// described becomes a violation. The result is never nil on success.
func (p *preflight) listDatabases(ctx context.Context, id, role string) ([]Database, error) {
	dbs, err := p.c.DescribeDatabases(ctx, id)
	if err != nil {
		if !errors.Is(err, ErrInstanceNotFound) {
			return nil, err
		}
		p.violate(ConditionInstance, ErrInstanceNotFound, err, "%s instance %s disappeared while its databases were read", role, id)
		return nil, nil
	}
	if dbs == nil {
		dbs = []Database{}
	}
	return dbs, nil
}

// readBackup reads the backup set BackupID names.
func (p *preflight) readBackup(ctx context.Context) error {
	backups, err := p.c.DescribeBackups(ctx, &DescribeBackupsRequest{DBInstanceID: p.req.DBInstanceID, BackupID: p.req.BackupID})
	if err != nil && !errors.Is(err, ErrBackupNotFound) && !errors.Is(err, ErrInstanceNotFound) {
		return err
	}
	for i := range backups {
		if backups[i].BackupID == p.req.BackupID {
			p.r.Backup = &backups[i]
			break
		}
	}
	return nil
}

// readRestoreSource reads the backup policy and the backups that could serve
// RestoreTime.
func (p *preflight) readRestoreSource(ctx context.Context) error {
	policy, err := p.c.DescribeBackupPolicy(ctx, p.req.DBInstanceID)
	if err != nil {
		if errors.Is(err, ErrInstanceNotFound) {
			return nil
		}
		return err
	}
	p.r.BackupPolicy = policy
	rt := p.req.RestoreTime.UTC()
	if policy.BackupRetentionPeriod <= 0 {
		p.warn("restore time not checked: the source's backup policy states no retention period")
		return nil
	}
	oldest := p.now.UTC().AddDate(0, 0, -policy.BackupRetentionPeriod)
	if rt.Before(oldest) || rt.After(p.now) {
		p.violate(ConditionRestoreTime, ErrRestoreTimeOutOfRange, nil,
			"restore time %s is outside the source's backup retention period of %d days (%s to %s)",
			rt.Format(timeLayout), policy.BackupRetentionPeriod, oldest.Format(timeLayout), p.now.UTC().Format(timeLayout))
		return nil
	}
	p.restoreInRange = true
	backups, err := p.c.DescribeBackups(ctx, &DescribeBackupsRequest{
		DBInstanceID: p.req.DBInstanceID,
		StartTime:    oldest.AddDate(0, 0, -1),
		EndTime:      rt.Add(time.Minute - 1), // the parameter has minute precision
	})
	if err != nil {
		if errors.Is(err, ErrInstanceNotFound) {
			return nil
		}
		return err
	}
	for _, b := range backups {
		if b.Usable() && !b.EndTime.IsZero() && !b.EndTime.After(rt) {
			p.covering = append(p.covering, b)
		}
	}
	return nil
}

// check evaluates every condition on the facts read.
func (p *preflight) check() {
	src, dst, req := p.r.Source, p.r.Target, p.req
	p.eachInstance(func(role string, a *DBInstanceAttribute) {
		if !strings.EqualFold(a.Engine, "SQLServer") {
			p.violate(ConditionEngine, ErrUnsupportedEngine, nil, "%s instance %s runs %s: only SQL Server instances can copy databases", role, a.DBInstanceID, orUnknown(a.Engine))
		}
		if a.ReadOnly() {
			p.violate(ConditionEngine, ErrUnsupportedEngine, nil, "%s instance %s is a read-only instance: only primary instances can copy databases", role, a.DBInstanceID)
		}
	})
	if src != nil && dst != nil {
		if src.MajorVersion() != dst.MajorVersion() {
			p.violate(ConditionVersion, ErrVersionMismatch, nil, "source %s is version %s, target %s is version %s: the versions must be the same",
				src.DBInstanceID, orUnknown(src.EngineVersion), dst.DBInstanceID, orUnknown(dst.EngineVersion))
		} else if src.EngineVersion != dst.EngineVersion || !strings.EqualFold(src.Category, dst.Category) {
			p.warn("editions differ (source %s %s, target %s %s): the service refuses some edition pairs (UnsupportedCopyDb...)",
				src.EngineVersion, src.Category, dst.EngineVersion, dst.Category)
		}
		if !strings.EqualFold(src.RegionID, dst.RegionID) {
			p.violate(ConditionRegion, ErrRegionMismatch, nil, "source %s is in %s, target %s in %s: the instances must be in the same region (zones may differ)",
				src.DBInstanceID, orUnknown(src.RegionID), dst.DBInstanceID, orUnknown(dst.RegionID))
		}
		if !strings.EqualFold(src.NetworkType, dst.NetworkType) {
			p.violate(ConditionNetworkType, ErrNetworkTypeMismatch, nil, "source %s is on a %s network, target %s on a %s network: the network types must be the same",
				src.DBInstanceID, orUnknown(src.NetworkType), dst.DBInstanceID, orUnknown(dst.NetworkType))
		}
	}
	p.checkVersionSupport()
	p.eachInstance(func(role string, a *DBInstanceAttribute) {
		if a.Status != "Running" {
			p.violate(ConditionState, ErrIncorrectInstanceState, nil, "%s instance %s is %s: it must be Running", role, a.DBInstanceID, orUnknown(a.Status))
		}
		if !a.Unlocked() {
			p.violate(ConditionState, ErrIncorrectInstanceState, nil, "%s instance %s is locked (%s)", role, a.DBInstanceID, a.LockMode)
		}
	})
	p.checkDatabases()
	if req.BackupID != "" && src != nil {
		p.checkBackup()
	}
	if !req.RestoreTime.IsZero() && p.restoreInRange {
		p.checkCovering()
	}
	p.checkStorage()
}

// eachInstance calls fn for the source, then the target, when read.
func (p *preflight) eachInstance(fn func(role string, a *DBInstanceAttribute)) {
	if p.r.Source != nil {
		fn("source", p.r.Source)
	}
	if p.r.Target != nil {
		fn("target", p.r.Target)
	}
}

// checkVersionSupport warns about versions the operation's reference page
// does not list.
func (p *preflight) checkVersionSupport() {
	seen := map[string]bool{}
	for _, a := range []*DBInstanceAttribute{p.r.Source, p.r.Target} {
		if a == nil || !strings.EqualFold(a.Engine, "SQLServer") {
			continue
		}
		m := a.MajorVersion()
		if seen[m] || slices.Contains(supportedMajors, m) {
			continue
		}
		seen[m] = true
		p.warn("SQL Server %s: the operation's reference page names 2012 and 2016 only, newer documentation says 2012 or later; the service may refuse the copy", orUnknown(m))
	}
}

// checkDatabases checks the databases to copy and the target names, and
// lists the copies in the report.
func (p *preflight) checkDatabases() {
	srcByName := make(map[string]*Database, len(p.r.SourceDatabases))
	for i := range p.r.SourceDatabases {
		srcByName[p.r.SourceDatabases[i].Name] = &p.r.SourceDatabases[i]
	}
	dstByName := make(map[string]string, len(p.r.TargetDatabases))
	for _, d := range p.r.TargetDatabases {
		dstByName[strings.ToLower(d.Name)] = d.Name
	}
	for _, srcName := range slices.Sorted(maps.Keys(p.req.DBNames)) {
		dstName := p.req.DBNames[srcName]
		dc := DatabaseCopy{Source: srcName, Target: dstName, SizeBytes: -1}
		if p.r.SourceDatabases != nil {
			d, ok := srcByName[srcName]
			switch {
			case !ok:
				hint := ""
				for name := range srcByName {
					if strings.EqualFold(name, srcName) {
						hint = fmt.Sprintf(" (names are matched exactly; the source has %q)", name)
					}
				}
				p.violate(ConditionSourceDatabase, ErrSourceDatabaseNotFound, nil, "database %q not found on source instance %s%s", srcName, p.req.DBInstanceID, hint)
			default:
				dc.SizeBytes = d.SizeBytes
				if d.TDEEnabled() {
					p.violate(ConditionTDE, ErrInvalidRequest, nil, "database %q on source instance %s has TDE enabled: it cannot be copied", srcName, p.req.DBInstanceID)
				}
				if d.Status != "Running" {
					p.violate(ConditionDatabaseState, ErrIncorrectInstanceState, nil, "database %q on source instance %s is %s: it must be Running", srcName, p.req.DBInstanceID, orUnknown(d.Status))
				}
			}
		}
		if p.r.TargetDatabases != nil {
			if existing, ok := dstByName[strings.ToLower(dstName)]; ok {
				p.violate(ConditionTargetName, ErrDatabaseExists, nil, "target instance %s already has a database %q (names compare case-insensitively), the target name of %q", p.req.TargetDBInstanceID, existing, srcName)
			}
		}
		p.r.Databases = append(p.r.Databases, dc)
	}
}

// checkBackup checks the backup set BackupID names.
func (p *preflight) checkBackup() {
	b := p.r.Backup
	if b == nil {
		p.violate(ConditionBackup, ErrBackupNotFound, nil, "backup set %s not found on source instance %s", p.req.BackupID, p.req.DBInstanceID)
		return
	}
	if !b.Usable() {
		p.violate(ConditionBackup, ErrBackupNotFound, nil, "backup set %s of source instance %s is not available (status %s)", b.BackupID, p.req.DBInstanceID, orUnknown(b.Status))
	}
	if len(b.DBNames) == 0 {
		p.warn("backup set %s lists no databases: could not check that it holds the databases to copy", b.BackupID)
		return
	}
	if missing := missingNames(b.DBNames, p.req.DBNames); len(missing) > 0 {
		p.violate(ConditionBackup, ErrBackupNotFound, nil, "backup set %s does not hold database(s) %s", b.BackupID, quoteList(missing))
	}
}

// checkCovering checks that a usable backup set ends before RestoreTime and
// holds the databases to copy.
func (p *preflight) checkCovering() {
	rt := p.req.RestoreTime.UTC().Format(timeLayout)
	if len(p.covering) == 0 {
		p.violate(ConditionBackup, ErrBackupNotFound, nil, "no available backup set of source instance %s ends before the restore time %s", p.req.DBInstanceID, rt)
		return
	}
	var best *Backup
	for i := range p.covering {
		b := &p.covering[i]
		if len(b.DBNames) > 0 && len(missingNames(b.DBNames, p.req.DBNames)) > 0 {
			continue
		}
		if best == nil || b.EndTime.After(best.EndTime) {
			best = b
		}
	}
	if best == nil {
		p.violate(ConditionBackup, ErrBackupNotFound, nil, "no available backup set of source instance %s before the restore time %s holds every database to copy", p.req.DBInstanceID, rt)
		return
	}
	p.r.Backup = best
}

// checkStorage estimates the space needed and compares it with the target's
// free space; see [StorageEstimate].
func (p *preflight) checkStorage() {
	src, dst, r := p.r.Source, p.r.Target, p.r
	if dst != nil {
		r.FreeBytes = dst.FreeBytes()
	}
	// lowerBound: some databases to copy are missing on the source (a
	// violation of its own), but those found have known sizes: their sum is
	// a floor of the need, enough to prove a shortfall, never to clear one.
	lowerBound := false
	if r.SourceDatabases != nil && len(r.Databases) > 0 {
		known, complete := true, true
		var sum int64
		for _, d := range r.Databases {
			switch {
			case !p.foundOnSource(d.Source):
				complete = false
			case d.SizeBytes < 0:
				known = false
			default:
				sum += d.SizeBytes
			}
		}
		switch {
		case known && complete:
			r.NeededBytes, r.NeededEstimate = sum, EstimateDatabaseSizes
		case src != nil && src.UsedBytes >= 0 && p.copiesEverything():
			r.NeededBytes, r.NeededEstimate = src.UsedBytes, EstimateSourceUsed
		case known && r.FreeBytes >= 0 && sum >= r.FreeBytes:
			r.NeededBytes, r.NeededEstimate, lowerBound = sum, EstimateDatabaseSizes, true
		}
	}
	switch {
	case src == nil || dst == nil || r.SourceDatabases == nil:
		// An instance could not be read: that violation says enough.
	case r.NeededBytes < 0:
		p.warn("storage not checked: the space needed is unknown (not every database to copy was found with a reported size, and the request does not copy every database of the source)")
	case r.FreeBytes < 0:
		p.warn("storage not checked: the target's storage or used space is not reported")
	case r.NeededBytes >= r.FreeBytes:
		atLeast := ""
		if lowerBound {
			atLeast = "at least "
		}
		p.violate(ConditionStorage, ErrStorageLimitExceeded, nil, "the copy needs %s%d bytes (%s), target instance %s has %d bytes free",
			atLeast, r.NeededBytes, r.NeededEstimate, dst.DBInstanceID, r.FreeBytes)
	}
	if r.NeededEstimate == EstimateDatabaseSizes && (p.req.BackupID != "" || !p.req.RestoreTime.IsZero()) {
		p.warn("database sizes are today's: the databases in the backup may be larger or smaller")
	}
}

// foundOnSource reports whether the source lists the database.
func (p *preflight) foundOnSource(name string) bool {
	return slices.ContainsFunc(p.r.SourceDatabases, func(d Database) bool { return d.Name == name })
}

// copiesEverything reports whether the request copies every user database of
// the source.
func (p *preflight) copiesEverything() bool {
	n := 0
	for _, d := range p.r.SourceDatabases {
		if slices.ContainsFunc(systemDatabases, func(s string) bool { return strings.EqualFold(s, d.Name) }) {
			continue
		}
		if _, ok := p.req.DBNames[d.Name]; !ok {
			return false
		}
		n++
	}
	return n == len(p.req.DBNames)
}

// missingNames returns the keys of names not in list, sorted.
func missingNames(list []string, names map[string]string) []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(names)) {
		if !slices.Contains(list, n) {
			out = append(out, n)
		}
	}
	return out
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

func orUnknown(s string) string {
	if s == "" {
		return "(not reported)"
	}
	return s
}
