package copydb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

func TestCopyEndsRunning(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, copydbtest.WithCopyDuration(10*time.Second))
	req := copyReq()
	req.DBNames = map[string]string{"sales": "sales_copy", "hr": "hr_copy"}
	res, err := fx.client.Copy(context.Background(), req,
		copydb.WithWaitForCopy(copydb.WithWaitTimeout(time.Minute), copydb.WithPollDelay(5*time.Second, 5*time.Second)),
		copydb.WithCopySleep(fx.clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
	copies := fx.fake.Copies()
	if len(copies) != 1 {
		t.Fatalf("fake accepted %d copies, want 1", len(copies))
	}
	got := struct {
		Path      copydb.CopyPath
		RequestID string
		Attempts  int
		Waited    bool
		Preflight bool
	}{res.Path, res.RequestID, res.Attempts, res.Waited, res.Preflight != nil}
	want := got
	want.Path, want.RequestID, want.Attempts, want.Waited, want.Preflight = copydb.CopyPathSent, copies[0].RequestID, 1, true, true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]copydbtest.Database{
		{Name: "hr_copy", Status: "Running", SizeBytes: 256 << 20},
		{Name: "sales_copy", Status: "Running", SizeBytes: 1 << 30},
	}, fx.fake.Databases(dstID)); diff != "" {
		t.Errorf("target databases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second, 5 * time.Second}, fx.clock.Sleeps()); diff != "" {
		t.Errorf("waits (-want +got):\n%s", diff)
	}
}

func TestCopyOutcomeUnknown(t *testing.T) {
	t.Parallel()
	dropCopy := func(afterExecute bool, times int) func(fx *fixture) {
		return func(fx *fixture) {
			fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionCopyDatabaseBetweenInstances, Drop: true, AfterExecute: afterExecute, Times: times})
		}
	}
	tests := []struct {
		name     string
		setup    func(fx *fixture)
		opts     []copydb.CopyOption
		path     copydb.CopyPath
		is       error // nil: success
		attempts int
		copies   int
		sleeps   int
		noRecon  bool // no reconciliation (Unknown stays nil)
	}{
		{
			name:     "accepted, answer lost: reconciled",
			setup:    dropCopy(true, 1),
			path:     copydb.CopyPathReconciledFound,
			attempts: 1, copies: 1, sleeps: 1,
		},
		{
			name:     "lost before executing: resent",
			setup:    dropCopy(false, 1),
			path:     copydb.CopyPathResent,
			attempts: 2, copies: 1, sleeps: 3,
		},
		{
			name: "first copy shows up late: resend clashes",
			setup: func(fx *fixture) {
				dropCopy(false, 1)(fx)
				// Two grace polls see no target name; the first copy's
				// database appears late, while the third poll is throttled,
				// so the resend meets it.
				fx.clock.onSleep = func(n int) {
					if n == 3 {
						fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionDescribeDatabases, Code: "Throttling", Times: 3})
						fx.fake.AddDatabase(dstID, copydbtest.Database{Name: "sales_copy", Status: "Creating", SizeBytes: 1 << 30})
					}
				}
			},
			path:     copydb.CopyPathResentClash,
			attempts: 2, copies: 0, sleeps: 3,
		},
		{
			name: "target never readable during the grace period: no blind resend",
			setup: func(fx *fixture) {
				dropCopy(true, 1)(fx)
				fx.clock.onSleep = func(n int) {
					if n == 1 {
						fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionDescribeDatabases, Code: "Throttling", Times: 9})
					}
				}
			},
			is:       copydb.ErrOutcomeUnknown,
			attempts: 1, copies: 1, sleeps: 3,
		},
		{
			name:     "resend's outcome unknown too",
			setup:    dropCopy(false, 2),
			is:       copydb.ErrOutcomeUnknown,
			attempts: 2, copies: 0, sleeps: 3,
		},
		{
			name:     "without preflight: no reconciliation",
			setup:    dropCopy(true, 1),
			opts:     []copydb.CopyOption{copydb.WithoutPreflight()},
			is:       copydb.ErrOutcomeUnknown,
			attempts: 1, copies: 1, sleeps: 0, noRecon: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			tt.setup(fx)
			opts := append([]copydb.CopyOption{copydb.WithReconcileGrace(3, 2*time.Second), copydb.WithCopySleep(fx.clock.Sleep)}, tt.opts...)
			res, err := fx.client.Copy(context.Background(), copyReq(), opts...)
			if tt.is == nil && err != nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			type summary struct {
				Path     copydb.CopyPath
				Attempts int
				Copies   int
				Sleeps   int
				Unknown  bool
			}
			got := summary{res.Path, res.Attempts, len(fx.fake.Copies()), len(fx.clock.Sleeps()), errors.Is(res.Unknown, copydb.ErrOutcomeUnknown)}
			want := summary{tt.path, tt.attempts, tt.copies, tt.sleeps, !tt.noRecon}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if tt.copies == 1 && !cmp.Equal(fx.fake.Databases(dstID), []copydbtest.Database{{Name: "sales_copy", Status: "Running", SizeBytes: 1 << 30}}) {
				t.Errorf("target databases = %+v", fx.fake.Databases(dstID))
			}
		})
	}
}

func TestCopyStopsBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(fx *fixture)
		opts  []copydb.CopyOption
		is    error
		// preflight is whether the preflight ran (and its requests were
		// sent).
		preflight bool
	}{
		{
			name:      "preflight violation",
			setup:     func(fx *fixture) { fx.fake.AddDatabase(dstID, copydbtest.Database{Name: "sales_copy"}) },
			is:        copydb.ErrDatabaseExists,
			preflight: true,
		},
		{
			name: "wait without a limit",
			opts: []copydb.CopyOption{copydb.WithWaitForCopy()},
			is:   copydb.ErrInvalidRequest,
		},
		{
			name: "bad option",
			opts: []copydb.CopyOption{copydb.WithReconcileGrace(0, time.Second)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t)
			if tt.setup != nil {
				tt.setup(fx)
			}
			res, err := fx.client.Copy(context.Background(), copyReq(), tt.opts...)
			if err == nil || tt.is != nil && !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			for _, a := range fx.actions() {
				if a == copydb.ActionCopyDatabaseBetweenInstances {
					t.Fatal("the copy was sent")
				}
			}
			if ran := res != nil && res.Preflight != nil; ran != tt.preflight {
				t.Errorf("preflight ran = %v, want %v", ran, tt.preflight)
			}
			if !tt.preflight && len(fx.fake.Requests()) != 0 {
				t.Errorf("requests sent: %v", fx.actions())
			}
		})
	}
}
