package copydb_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// startCopy sends req to the fake (no preflight) and fails the test if it
// is refused.
func startCopy(t *testing.T, fx *fixture, req *copydb.CopyDatabaseBetweenInstancesRequest) {
	t.Helper()
	if _, err := fx.client.CopyDatabaseBetweenInstances(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// progressLog records WithProgress calls.
type progressLog struct {
	mu  sync.Mutex
	log []copydb.WaitProgress
}

func (p *progressLog) record(w copydb.WaitProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = append(p.log, w)
}

func (p *progressLog) all() []copydb.WaitProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]copydb.WaitProgress(nil), p.log...)
}

func states(src, dst, status string) []copydb.DatabaseState {
	return []copydb.DatabaseState{{Source: src, Target: dst, Status: status}}
}

func TestWaitForCopyCreatingToRunning(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, copydbtest.WithCopyDuration(10*time.Second))
	req := copyReq()
	startCopy(t, fx, req)
	var progress progressLog
	err := fx.client.WaitForCopy(context.Background(), req,
		copydb.WithWaitTimeout(time.Minute), copydb.WithPollDelay(4*time.Second, 4*time.Second),
		copydb.WithSleep(fx.clock.Sleep), copydb.WithProgress(progress.record))
	if err != nil {
		t.Fatal(err)
	}
	want := []copydb.WaitProgress{
		{Poll: 1, Elapsed: 0, Databases: states("sales", "sales_copy", "Creating")},
		{Poll: 2, Elapsed: 4 * time.Second, Databases: states("sales", "sales_copy", "Creating")},
		{Poll: 3, Elapsed: 8 * time.Second, Databases: states("sales", "sales_copy", "Creating")},
		{Poll: 4, Elapsed: 12 * time.Second, Databases: states("sales", "sales_copy", "Running"), Done: true},
	}
	if diff := cmp.Diff(want, progress.all()); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if got := fx.fake.Databases(dstID); len(got) != 1 || got[0].Status != "Running" {
		t.Errorf("target databases = %+v, want sales_copy Running", got)
	}
}

func TestWaitForCopyBackoffBounds(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, copydbtest.WithCopyDuration(5*time.Minute))
	req := copyReq()
	startCopy(t, fx, req)
	if err := fx.client.WaitForCopy(context.Background(), req, copydb.WithWaitTimeout(10*time.Minute), copydb.WithSleep(fx.clock.Sleep)); err != nil {
		t.Fatal(err)
	}
	sleeps := fx.clock.Sleeps()
	if len(sleeps) < 5 {
		t.Fatalf("only %d waits: %v", len(sleeps), sleeps)
	}
	for i, d := range sleeps {
		hi := min(30*time.Second, 2*time.Second<<i)
		lo := max(2*time.Second, hi/2)
		if d < lo || d > hi {
			t.Errorf("wait %d = %v, want in [%v, %v]", i+1, d, lo, hi)
		}
	}
}

func TestWaitForCopyFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []copydb.WaitOption
		setup   func(fx *fixture, cancel context.CancelFunc)
		req     func(r *copydb.CopyDatabaseBetweenInstancesRequest)
		reason  copydb.WaitFailure
		is      error
		sleeps  []time.Duration
		lastSee string // status of the database at the last successful poll
	}{
		{
			name:    "timeout",
			opts:    []copydb.WaitOption{copydb.WithWaitTimeout(time.Minute), copydb.WithPollDelay(25*time.Second, 25*time.Second)},
			reason:  copydb.WaitTimeout,
			is:      context.DeadlineExceeded,
			sleeps:  []time.Duration{25 * time.Second, 25 * time.Second, 10 * time.Second},
			lastSee: "Creating",
		},
		{
			name: "instance leaves a healthy state",
			opts: []copydb.WaitOption{copydb.WithWaitTimeout(time.Hour), copydb.WithInstanceCheckEvery(2), copydb.WithPollDelay(2*time.Second, 2*time.Second)},
			setup: func(fx *fixture, _ context.CancelFunc) {
				fx.clock.onSleep = func(int) { fx.fake.AddInstance(copydbtest.Instance{ID: dstID, Status: "Deleting"}) }
			},
			reason:  copydb.WaitInstanceUnhealthy,
			is:      copydb.ErrIncorrectInstanceState,
			sleeps:  []time.Duration{2 * time.Second, 2 * time.Second},
			lastSee: "Creating",
		},
		{
			name: "cancelled",
			opts: []copydb.WaitOption{copydb.WithWaitTimeout(time.Hour)},
			setup: func(fx *fixture, cancel context.CancelFunc) {
				fx.clock.onSleep = func(int) { cancel() }
			},
			reason:  copydb.WaitCanceled,
			is:      context.Canceled,
			sleeps:  []time.Duration{2 * time.Second},
			lastSee: "Creating",
		},
		{
			name: "throttled on every poll",
			opts: []copydb.WaitOption{copydb.WithWaitTimeout(time.Hour), copydb.WithPollDelay(time.Second, time.Second)},
			setup: func(fx *fixture, _ context.CancelFunc) {
				fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionDescribeDatabases, Code: "Throttling", Times: 1000})
			},
			reason: copydb.WaitPollFailed,
			is:     copydb.ErrThrottled,
			sleeps: []time.Duration{time.Second, time.Second, time.Second},
		},
		{
			name:   "target not found",
			opts:   []copydb.WaitOption{copydb.WithWaitTimeout(time.Hour)},
			req:    func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.TargetDBInstanceID = "rm-gone" },
			reason: copydb.WaitPollFailed,
			is:     copydb.ErrInstanceNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fx := newFixture(t, copydbtest.WithCopyDuration(time.Hour))
			req := copyReq()
			startCopy(t, fx, req)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.setup != nil {
				tt.setup(fx, cancel)
			}
			if tt.req != nil {
				tt.req(req)
			}
			err := fx.client.WaitForCopy(ctx, req, append(tt.opts, copydb.WithSleep(fx.clock.Sleep))...)
			var we *copydb.WaitError
			if !errors.As(err, &we) {
				t.Fatalf("err = %v, want a *WaitError", err)
			}
			if we.Reason != tt.reason || !errors.Is(err, tt.is) {
				t.Errorf("err = %v (reason %s), want reason %s matching %v", err, we.Reason, tt.reason, tt.is)
			}
			if diff := cmp.Diff(tt.sleeps, fx.clock.Sleeps()); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			var last string
			if len(we.Last.Databases) > 0 {
				last = we.Last.Databases[0].Status
			}
			if last != tt.lastSee {
				t.Errorf("Last = %+v, want the database %q", we.Last, tt.lastSee)
			}
		})
	}
}

func TestWaitForCopyToleratesPassingThrottling(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, copydbtest.WithCopyDuration(3*time.Second))
	req := copyReq()
	startCopy(t, fx, req)
	// One poll's three attempts are throttled; the next poll succeeds.
	fx.fake.InjectFault(copydbtest.Fault{Action: copydb.ActionDescribeDatabases, Code: "Throttling", Times: 3})
	err := fx.client.WaitForCopy(context.Background(), req, copydb.WithWaitTimeout(time.Minute), copydb.WithSleep(fx.clock.Sleep))
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitForCopyDatabaseVanishes(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, copydbtest.WithCopyDuration(time.Hour))
	req := copyReq()
	startCopy(t, fx, req)
	// The fake cannot delete a database: answer an empty list from the
	// third DescribeDatabases on.
	var mu sync.Mutex
	polls := 0
	inner := fx.fake.HTTPClient()
	hc := copydb.HTTPClientFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := inner.Do(r)
		if err != nil || r.URL.Query().Get("Action") != copydb.ActionDescribeDatabases {
			return resp, err
		}
		mu.Lock()
		polls++
		n := polls
		mu.Unlock()
		if n >= 3 {
			resp.Body.Close()
			body := `{"RequestId":"EMPTY","Databases":{"Database":[]}}`
			resp.Body = io.NopCloser(bytes.NewReader([]byte(body)))
			resp.ContentLength = int64(len(body))
		}
		return resp, nil
	})
	client, err := fx.fake.Client(copydb.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	err = client.WaitForCopy(context.Background(), req, copydb.WithWaitTimeout(time.Minute), copydb.WithSleep(fx.clock.Sleep))
	var we *copydb.WaitError
	if !errors.As(err, &we) || we.Reason != copydb.WaitDatabaseVanished || !strings.Contains(err.Error(), `"sales_copy"`) {
		t.Fatalf("err = %v, want a database-vanished WaitError naming sales_copy", err)
	}
}

func TestWaitForCopyNeedsALimit(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	err := fx.client.WaitForCopy(context.Background(), copyReq(), copydb.WithSleep(fx.clock.Sleep))
	if !errors.Is(err, copydb.ErrInvalidRequest) {
		t.Fatalf("err = %v, want ErrInvalidRequest", err)
	}
	if n := len(fx.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
	// A context deadline is a limit too.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	startCopy(t, fx, copyReq())
	if err := fx.client.WaitForCopy(ctx, copyReq(), copydb.WithSleep(fx.clock.Sleep)); err != nil {
		t.Fatal(err)
	}
}

func TestWaitOptionsCheckInput(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	for name, o := range map[string]copydb.WaitOption{
		"timeout":   copydb.WithWaitTimeout(0),
		"delay":     copydb.WithPollDelay(time.Second, time.Millisecond),
		"progress":  copydb.WithProgress(nil),
		"sleep":     copydb.WithSleep(nil),
		"instance":  copydb.WithInstanceCheckEvery(0),
		"nilOption": nil,
	} {
		if err := fx.client.WaitForCopy(context.Background(), copyReq(), copydb.WithWaitTimeout(time.Minute), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(fx.fake.Requests()); n != 0 {
		t.Errorf("%d requests sent, want none", n)
	}
}
