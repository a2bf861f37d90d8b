package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testStart is the fake clock's start: every timestamp in the golden files
// derives from it.
var testStart = time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)

// fakeClock is the clock of one test, shared by the command, its client and
// the fake service. Every sleep moves it one second, whatever was asked,
// so that output does not depend on the jitter of the poll delays.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps int
	// onSleep, when set, runs before each sleep with its count (from 1);
	// returning true makes the sleep fail with the context's error.
	onSleep func(n int) bool
}

func newClock() *fakeClock { return &fakeClock{t: testStart} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps++
	n, hook := c.sleeps, c.onSleep
	c.mu.Unlock()
	if hook != nil && hook(n) {
		<-ctx.Done()
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(time.Second)
	c.mu.Unlock()
	return nil
}

// testCopyDuration is how long a copy takes on the fake clock in tests.
const testCopyDuration = 3 * time.Second

// demoEnv is the env of a demo run in tests: the fake clock, plain output.
func demoEnv(c *fakeClock) *env {
	return &env{now: c.Now, sleep: c.Sleep, terminal: func(io.Writer) bool { return false }, demoCopyDuration: testCopyDuration, tick: -1}
}

// realEnv is the env of a real run in tests: the client is wired to f in
// memory, with the fake's credentials.
func realEnv(c *fakeClock, f *copydbtest.Fake) *env {
	e := demoEnv(c)
	e.newClient = f.Client
	e.creds = copydb.StaticCredentials(copydbtest.AccessKeyID, copydbtest.AccessKeySecret, "")
	return e
}

// newTestFake is the demo's catalogue on the test clock.
func newTestFake(c *fakeClock, opts ...copydbtest.Option) *copydbtest.Fake {
	return newDemoFake(c.Now, testCopyDuration, opts...)
}

// newTestRun returns the fake of a real run, after setup, and the env of
// the run: a real run against that fake, or the demo (whose own fake is then
// made by the command).
func newTestRun(demo bool, setup func(f *copydbtest.Fake)) (*copydbtest.Fake, *env) {
	c := newClock()
	f := newTestFake(c)
	if setup != nil {
		setup(f)
	}
	if demo {
		return f, demoEnv(c)
	}
	return f, realEnv(c, f)
}

type outcome struct {
	code           int
	stdout, stderr string
}

func runTest(t *testing.T, ctx context.Context, e *env, args ...string) outcome {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runWith(ctx, args, &stdout, &stderr, e)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// The real source and target flags of the tests, on newTestFake's
// catalogue.
var realFlags = []string{"-source", demoSource, "-target", demoTarget}

func realArgs(extra ...string) []string {
	return append(append([]string{}, realFlags...), extra...)
}

var uuidPattern = regexp.MustCompile(`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}`)

// normalize replaces the fake's random request ids.
func normalize(s string) string { return uuidPattern.ReplaceAllString(s, "<uuid>") }

// checkGolden compares the run's exit code and output with
// testdata/name.golden, line by line; -update rewrites the file.
func checkGolden(t *testing.T, name string, o outcome) {
	t.Helper()
	got := normalize("exit code: " + strconv.Itoa(o.code) + "\n--- stdout\n" + o.stdout + "--- stderr\n" + o.stderr)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
