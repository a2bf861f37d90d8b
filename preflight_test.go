package copydb_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// t0 is the fake clock's start in every fake-based test.
var t0 = time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)

// stepClock is a manual clock shared by the fake and the client; its Sleep
// moves it instead of sleeping.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// onSleep, when set, runs after each step (to change the fake mid-wait).
	onSleep func(n int)
}

func newStepClock() *stepClock { return &stepClock{now: t0} }

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *stepClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// fixture is a fake with two healthy, compatible SQL Server 2016 instances:
// rm-src holds sales (1 GiB), hr (256 MiB) and a backup set 1001 of both;
// rm-dst (100 GB) holds nothing.
type fixture struct {
	fake   *copydbtest.Fake
	clock  *stepClock
	client *copydb.Client
}

const (
	srcID = "rm-src"
	dstID = "rm-dst"
)

func newFixture(t *testing.T, opts ...copydbtest.Option) *fixture {
	t.Helper()
	clk := newStepClock()
	f := copydbtest.New(append([]copydbtest.Option{copydbtest.WithClock(clk.Now), copydbtest.WithCopyDuration(0)}, opts...)...)
	f.AddInstance(copydbtest.Instance{ID: srcID})
	f.AddInstance(copydbtest.Instance{ID: dstID})
	f.AddDatabase(srcID, copydbtest.Database{Name: "sales", SizeBytes: 1 << 30})
	f.AddDatabase(srcID, copydbtest.Database{Name: "hr", SizeBytes: 256 << 20})
	f.AddBackup(srcID, copydbtest.Backup{ID: "1001", Start: t0.Add(-48 * time.Hour), End: t0.Add(-47 * time.Hour),
		Databases: []string{"sales", "hr"}, Available: true})
	c, err := f.Client()
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{fake: f, clock: clk, client: c}
}

// actions lists the actions the fake received, in order.
func (fx *fixture) actions() []string {
	var out []string
	for _, r := range fx.fake.Requests() {
		out = append(out, r.Action)
	}
	return out
}

func copyReq() *copydb.CopyDatabaseBetweenInstancesRequest {
	return &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       srcID,
		TargetDBInstanceID: dstID,
		DBNames:            map[string]string{"sales": "sales_copy"},
	}
}

func conditions(r *copydb.PreflightReport) []copydb.Condition {
	if r == nil {
		return nil
	}
	var out []copydb.Condition
	for _, v := range r.Violations {
		out = append(out, v.Condition)
	}
	return out
}

func TestPreflightConditions(t *testing.T) {
	t.Parallel()
	type cond struct {
		c        copydb.Condition
		sentinel error
	}
	tests := []struct {
		name  string
		setup func(f *copydbtest.Fake)
		req   func(r *copydb.CopyDatabaseBetweenInstancesRequest)
		want  []cond
		// service is the sentinel the fake's own answer to the copy
		// matches, when it agrees with the preflight; nil to skip.
		service error
		// detail is a substring of the first violation's text.
		detail string
	}{
		{name: "all good", want: nil},
		{
			name:    "engine",
			setup:   func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: srcID, Engine: "MySQL"}) },
			want:    []cond{{copydb.ConditionEngine, copydb.ErrUnsupportedEngine}},
			service: copydb.ErrUnsupportedEngine,
			detail:  "runs MySQL",
		},
		{
			name:    "read-only target",
			setup:   func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: dstID, ReadOnly: true}) },
			want:    []cond{{copydb.ConditionEngine, copydb.ErrUnsupportedEngine}},
			service: copydb.ErrUnsupportedEngine,
			detail:  "read-only",
		},
		{
			name:    "version",
			setup:   func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: dstID, EngineVersion: "2012_std_ha"}) },
			want:    []cond{{copydb.ConditionVersion, copydb.ErrVersionMismatch}},
			service: copydb.ErrVersionMismatch,
		},
		{
			name:    "region",
			setup:   func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: dstID, RegionID: "cn-shanghai"}) },
			want:    []cond{{copydb.ConditionRegion, copydb.ErrRegionMismatch}},
			service: copydb.ErrRegionMismatch,
		},
		{
			name:  "network type",
			setup: func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: dstID, NetworkType: "Classic"}) },
			want:  []cond{{copydb.ConditionNetworkType, copydb.ErrNetworkTypeMismatch}},
			// The fake answers InvalidNetworkType.Mismatch, a code the core
			// table does not map (the service documents none).
		},
		{
			name:    "instance state",
			setup:   func(f *copydbtest.Fake) { f.AddInstance(copydbtest.Instance{ID: dstID, Status: "Restoring"}) },
			want:    []cond{{copydb.ConditionState, copydb.ErrIncorrectInstanceState}},
			service: copydb.ErrIncorrectInstanceState,
			detail:  "is Restoring",
		},
		{
			name: "source database missing",
			req: func(r *copydb.CopyDatabaseBetweenInstancesRequest) {
				r.DBNames = map[string]string{"Sales": "sales_copy"}
			},
			want:    []cond{{copydb.ConditionSourceDatabase, copydb.ErrSourceDatabaseNotFound}},
			service: copydb.ErrSourceDatabaseNotFound,
			detail:  `the source has "sales"`,
		},
		{
			name: "tde",
			setup: func(f *copydbtest.Fake) {
				f.AddDatabase(srcID, copydbtest.Database{Name: "sales", SizeBytes: 1 << 30, TDE: true})
			},
			want:    []cond{{copydb.ConditionTDE, copydb.ErrInvalidRequest}},
			service: copydb.ErrInvalidRequest,
		},
		{
			name:    "target name exists",
			setup:   func(f *copydbtest.Fake) { f.AddDatabase(dstID, copydbtest.Database{Name: "sales_copy"}) },
			want:    []cond{{copydb.ConditionTargetName, copydb.ErrDatabaseExists}},
			service: copydb.ErrDatabaseExists,
		},
		{
			name:  "target name exists in another case",
			setup: func(f *copydbtest.Fake) { f.AddDatabase(dstID, copydbtest.Database{Name: "SALES_COPY"}) },
			want:  []cond{{copydb.ConditionTargetName, copydb.ErrDatabaseExists}},
			// The fake compares names exactly and would accept the copy.
		},
		{
			name: "storage",
			setup: func(f *copydbtest.Fake) {
				f.AddInstance(copydbtest.Instance{ID: dstID, StorageGB: 1})
				f.AddDatabase(dstID, copydbtest.Database{Name: "other", SizeBytes: 512 << 20})
			},
			want:    []cond{{copydb.ConditionStorage, copydb.ErrStorageLimitExceeded}},
			service: copydb.ErrStorageLimitExceeded,
		},
		{
			name:   "target of another account",
			req:    func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.TargetDBInstanceID = "rm-elsewhere" },
			want:   []cond{{copydb.ConditionInstance, copydb.ErrInstanceNotFound}},
			detail: "another account",
			// service: the fake answers InvalidDBInstanceId.NotFound too.
			service: copydb.ErrInstanceNotFound,
		},
		{
			name:    "backup not found",
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "999" },
			want:    []cond{{copydb.ConditionBackup, copydb.ErrBackupNotFound}},
			service: copydb.ErrBackupNotFound,
		},
		{
			name: "backup unavailable",
			setup: func(f *copydbtest.Fake) {
				f.AddBackup(srcID, copydbtest.Backup{ID: "1002", Start: t0.Add(-time.Hour), End: t0.Add(-time.Hour / 2), Databases: []string{"sales"}})
			},
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "1002" },
			want:    []cond{{copydb.ConditionBackup, copydb.ErrBackupNotFound}},
			service: copydb.ErrBackupNotFound,
		},
		{
			name: "backup without the database",
			setup: func(f *copydbtest.Fake) {
				f.AddBackup(srcID, copydbtest.Backup{ID: "1003", Start: t0.Add(-time.Hour), End: t0.Add(-time.Hour / 2), Databases: []string{"hr"}, Available: true})
			},
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "1003" },
			want:    []cond{{copydb.ConditionBackup, copydb.ErrBackupNotFound}},
			service: copydb.ErrBackupNotFound,
			detail:  `does not hold database(s) "sales"`,
		},
		{
			name:    "backup id good",
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "1001" },
			want:    nil,
			service: nil,
		},
		{
			name:    "restore time out of range",
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.AddDate(0, 0, -8) },
			want:    []cond{{copydb.ConditionRestoreTime, copydb.ErrRestoreTimeOutOfRange}},
			service: copydb.ErrRestoreTimeOutOfRange,
			detail:  "retention period of 7 days",
		},
		{
			name:    "restore time before every backup",
			req:     func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.AddDate(0, 0, -3) },
			want:    []cond{{copydb.ConditionBackup, copydb.ErrBackupNotFound}},
			service: copydb.ErrBackupNotFound,
		},
		{
			name: "restore time good",
			req:  func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.Add(-time.Hour) },
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			if tt.setup != nil {
				tt.setup(fx.fake)
			}
			req := copyReq()
			if tt.req != nil {
				tt.req(req)
			}
			report, err := fx.client.Preflight(context.Background(), req)
			if report == nil {
				t.Fatalf("Preflight returned no report (err %v)", err)
			}
			var wantConds []copydb.Condition
			for _, w := range tt.want {
				wantConds = append(wantConds, w.c)
				if !errors.Is(err, w.sentinel) {
					t.Errorf("errors.Is(err, %v) = false; err = %v", w.sentinel, err)
				}
			}
			if diff := cmp.Diff(wantConds, conditions(report)); diff != "" {
				t.Errorf("violations (-want +got):\n%s\nerr: %v", diff, err)
			}
			if (err == nil) != (len(tt.want) == 0) {
				t.Errorf("err = %v, want violations %v", err, wantConds)
			}
			if tt.detail != "" && (err == nil || !strings.Contains(err.Error(), tt.detail)) {
				t.Errorf("err = %v, want it to mention %q", err, tt.detail)
			}
			for _, a := range fx.actions() {
				if a == copydb.ActionCopyDatabaseBetweenInstances {
					t.Fatal("Preflight sent the copy")
				}
			}
			// Cross-check with the fake's own rules.
			_, cerr := fx.client.CopyDatabaseBetweenInstances(context.Background(), req)
			switch {
			case len(tt.want) == 0 && cerr != nil:
				t.Errorf("preflight passed, but the fake refused the copy: %v", cerr)
			case tt.service != nil && !errors.Is(cerr, tt.service):
				t.Errorf("fake's answer %v does not match %v", cerr, tt.service)
			}
		})
	}
}

func TestPreflightAllAtOnce(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	f := fx.fake
	// Every condition that can fail together (a missing instance or an
	// out-of-range RestoreTime would hide the rest, and RestoreTime excludes
	// BackupId).
	f.AddInstance(copydbtest.Instance{ID: dstID, ReadOnly: true, EngineVersion: "2012_ent", RegionID: "cn-shanghai",
		NetworkType: "Classic", Status: "Restoring", StorageGB: 1})
	f.AddDatabase(dstID, copydbtest.Database{Name: "Taken", SizeBytes: 900 << 20})
	f.AddDatabase(srcID, copydbtest.Database{Name: "busy", Status: "Creating", SizeBytes: 1 << 20})
	f.AddDatabase(srcID, copydbtest.Database{Name: "secret", SizeBytes: 1 << 20, TDE: true})
	req := copyReq()
	req.DBNames = map[string]string{"busy": "b2", "nosuch": "x", "sales": "taken", "secret": "s2"}
	req.BackupID = "999"

	report, err := fx.client.Preflight(context.Background(), req)
	want := []copydb.Condition{
		copydb.ConditionEngine, copydb.ConditionVersion, copydb.ConditionRegion, copydb.ConditionNetworkType,
		copydb.ConditionState, copydb.ConditionDatabaseState, copydb.ConditionSourceDatabase,
		copydb.ConditionTargetName, copydb.ConditionTDE, copydb.ConditionBackup, copydb.ConditionStorage,
	}
	if diff := cmp.Diff(want, conditions(report)); diff != "" {
		t.Fatalf("violations (-want +got):\n%s", diff)
	}
	for _, s := range []error{copydb.ErrUnsupportedEngine, copydb.ErrVersionMismatch, copydb.ErrRegionMismatch,
		copydb.ErrNetworkTypeMismatch, copydb.ErrIncorrectInstanceState, copydb.ErrSourceDatabaseNotFound,
		copydb.ErrDatabaseExists, copydb.ErrInvalidRequest, copydb.ErrBackupNotFound, copydb.ErrStorageLimitExceeded} {
		if !errors.Is(err, s) {
			t.Errorf("errors.Is(err, %v) = false", s)
		}
	}
	if !strings.Contains(err.Error(), "at least") {
		t.Errorf("storage violation should say the need is a lower bound: %v", err)
	}
	var ce *copydb.ConditionError
	if !errors.As(err, &ce) {
		t.Fatalf("errors.As(*ConditionError) failed for %v", err)
	}
	if got := len(strings.Split(err.Error(), "\n")); got != len(want) {
		t.Errorf("error has %d lines, want one per violation (%d)", got, len(want))
	}
}

func TestPreflightReportFacts(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.fake.AddInstance(copydbtest.Instance{ID: dstID, ZoneID: "cn-hangzhou-i", EngineVersion: "2016_ent_ha"})
	fx.fake.AddDatabase(dstID, copydbtest.Database{Name: "other", SizeBytes: 1 << 30})
	req := copyReq()
	req.DBNames = map[string]string{"sales": "sales_copy", "hr": "hr_copy"}
	report, err := fx.client.Preflight(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]copydb.DatabaseCopy{
		{Source: "hr", Target: "hr_copy", SizeBytes: 256 << 20},
		{Source: "sales", Target: "sales_copy", SizeBytes: 1 << 30},
	}, report.Databases); diff != "" {
		t.Errorf("Databases (-want +got):\n%s", diff)
	}
	got := struct {
		Needed        int64
		Estimate      copydb.StorageEstimate
		Free          int64
		SrcZone       string
		DstZone       string
		DstStorage    int64
		DstUsed       int64
		Major         string
		Warnings      int
		TargetDBCount int
	}{report.NeededBytes, report.NeededEstimate, report.FreeBytes, report.Source.ZoneID, report.Target.ZoneID,
		report.Target.StorageBytes, report.Target.UsedBytes, report.Target.MajorVersion(), len(report.Warnings), len(report.TargetDatabases)}
	want := got
	want.Needed, want.Estimate, want.Free = 1<<30+256<<20, copydb.EstimateDatabaseSizes, 100<<30-1<<30
	want.SrcZone, want.DstZone, want.DstStorage, want.DstUsed, want.Major = "cn-hangzhou-h", "cn-hangzhou-i", 100<<30, 1<<30, "2016"
	want.Warnings, want.TargetDBCount = 1, 1 // the editions differ
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestPreflightVersionWarning(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.fake.AddInstance(copydbtest.Instance{ID: srcID, EngineVersion: "2019_std_ha"})
	fx.fake.AddInstance(copydbtest.Instance{ID: dstID, EngineVersion: "2019_std_ha"})
	report, err := fx.client.Preflight(context.Background(), copyReq())
	if err != nil {
		t.Fatalf("a version outside 2012/2016 must only warn: %v", err)
	}
	if len(report.Warnings) != 1 || !strings.Contains(report.Warnings[0], "SQL Server 2019") {
		t.Errorf("Warnings = %q, want one about SQL Server 2019", report.Warnings)
	}
}

func TestPreflightInvalidRequestSendsNothing(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	req := copyReq()
	req.TargetDBInstanceID = srcID
	report, err := fx.client.Preflight(context.Background(), req)
	if !errors.Is(err, copydb.ErrInvalidRequest) || report != nil {
		t.Fatalf("Preflight = %v, %v; want nil, ErrInvalidRequest", report, err)
	}
	if n := len(fx.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}

func TestPreflightReadFailureEndsIt(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionDescribeDatabases, Code: "Throttling.User", Times: 10})
	report, err := fx.client.Preflight(context.Background(), copyReq())
	if !errors.Is(err, copydb.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if report == nil || report.Source == nil || len(report.Violations) != 0 {
		t.Errorf("report = %+v, want the facts read so far and no violation", report)
	}
}

func TestPreflightSameInXML(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	fx.fake.AddDatabase(dstID, copydbtest.Database{Name: "sales_copy", SizeBytes: 5 << 20})
	req := copyReq()
	req.BackupID = "1001"
	xmlClient, err := fx.fake.Client(copydb.WithFormat(copydb.FormatXML))
	if err != nil {
		t.Fatal(err)
	}
	fromJSON, errJSON := fx.client.Preflight(context.Background(), req)
	fromXML, errXML := xmlClient.Preflight(context.Background(), req)
	fromJSON.Violations, fromXML.Violations = nil, nil // compared through the errors below
	if diff := cmp.Diff(fromJSON, fromXML); diff != "" {
		t.Errorf("reports differ (-json +xml):\n%s", diff)
	}
	if errJSON == nil || errXML == nil || errJSON.Error() != errXML.Error() {
		t.Errorf("errors differ: %v / %v", errJSON, errXML)
	}
	for _, r := range fx.fake.Requests()[len(fx.fake.Requests())/2:] {
		if r.Format != "XML" {
			t.Errorf("%s sent with Format %q", r.Action, r.Format)
		}
	}
}
