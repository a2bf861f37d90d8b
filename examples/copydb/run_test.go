package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// TestExitCodes runs the command once per exit code, against the fake.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	copyAction := copydb.ActionCopyDatabaseBetweenInstances
	tests := []struct {
		name  string
		args  []string
		demo  bool                     // run the demo instead of real use
		setup func(f *copydbtest.Fake) // faults and extra catalogue
		want  int
		// wantOut and wantErr are substrings of stdout and stderr.
		wantOut, wantErr []string
		// wantCopies is how many copies the fake accepted.
		wantCopies int
	}{
		{name: "demo", demo: true, want: exitOK, wantOut: []string{"built-in fake", "Done: 3 databases copied"}},
		{name: "demo -demo flag", demo: true, args: []string{"-demo", "-v"}, want: exitOK, wantOut: []string{"Done:"}},
		{name: "demo dry run", demo: true, args: []string{"-dry-run"}, want: exitOK, wantOut: []string{"Dry run: the preflight passed"}},
		{name: "demo from backup", demo: true, args: []string{"-backup-id", demoBackupID}, want: exitOK, wantOut: []string{"Backup set: 1000000001", "Done:"}},
		{name: "real copy", args: realArgs("-db", "sales", "-db", "hr:hr_copy", "-sync-users"), want: exitOK, wantCopies: 1,
			wantOut: []string{"hr -> hr_copy", "Done: 2 databases copied from rm-demo-source to rm-demo-target"}},
		{name: "real restore time", args: realArgs("-db", "sales", "-restore-time", "2025-06-01T15:00:00+08:00"), want: exitOK, wantCopies: 1,
			wantOut: []string{"as of 2025-06-01T07:00:00Z", "Done:"}},
		{name: "no wait", args: realArgs("-db", "sales", "-no-wait"), want: exitOK, wantCopies: 1, wantOut: []string{"not waiting"}},
		{name: "real dry run", args: realArgs("-db", "sales", "-dry-run"), want: exitOK, wantOut: []string{"nothing was sent"}},
		{name: "reconciled after a dropped answer", args: realArgs("-db", "sales"),
			setup: func(f *copydbtest.Fake) {
				f.InjectFault(copydbtest.Fault{Action: copyAction, Drop: true, AfterExecute: true})
			},
			want: exitOK, wantCopies: 1, wantOut: []string{"its answer was lost, then the databases appeared", "Done:"}},

		{name: "refused by the service", args: realArgs("-db", "sales"),
			setup: func(f *copydbtest.Fake) {
				f.InjectFault(copydbtest.Fault{Action: copyAction, Status: 403, Code: "IncorrectDBInstanceState"})
			},
			want: exitFailed, wantOut: []string{"The service refused the copy"}, wantErr: []string{"IncorrectDBInstanceState"}},
		{name: "refused without preflight", args: realArgs("-db", "sales:crm", "-skip-preflight"),
			want: exitFailed, wantOut: []string{"The service refused the copy"}, wantErr: []string{"InvalidDBName.Duplicate"}},
		{name: "wait timeout", args: realArgs("-db", "sales", "-timeout", "2s"),
			want: exitFailed, wantCopies: 1, wantOut: []string{"the wait ended after"}, wantErr: []string{"did not finish"}},

		{name: "unknown flag", args: []string{"-nope"}, want: exitUsage, wantErr: []string{"flag provided but not defined: -nope", "Exit codes:"}},
		{name: "positional argument", args: []string{"sales"}, want: exitUsage, wantErr: []string{`unexpected argument "sales"`}},
		{name: "empty db", args: realArgs("-db", ""), want: exitUsage, wantErr: []string{`-db "": want src or src:dst`}},
		{name: "db with two colons", args: realArgs("-db", "a:b:c"), want: exitUsage, wantErr: []string{"one colon"}},
		{name: "db copied twice", args: realArgs("-db", "sales", "-db", "sales:s2"), want: exitUsage, wantErr: []string{"already copied to sales"}},
		{name: "bad db name", args: realArgs("-db", strings.Repeat("a", 65)), want: exitUsage, wantErr: []string{"DbNames: source name"}},
		{name: "bad restore time", args: realArgs("-db", "sales", "-restore-time", "yesterday"), want: exitUsage, wantErr: []string{"RFC 3339"}},
		{name: "restore time in the future", args: realArgs("-db", "sales", "-restore-time", "2030-01-01T00:00:00Z"), want: exitUsage, wantErr: []string{"RestoreTime: must not be in the future"}},
		{name: "bad backup id", args: realArgs("-db", "sales", "-backup-id", "latest"), want: exitUsage, wantErr: []string{"BackupId: must be the numeric id"}},
		{name: "source is target", args: []string{"-source", "rm-a", "-target", "rm-a", "-db", "sales"}, want: exitUsage, wantErr: []string{"-source and -target are both rm-a"}},
		{name: "missing target", args: []string{"-source", "rm-a", "-db", "sales"}, want: exitUsage, wantErr: []string{"missing -target"}},
		{name: "db without instances", args: []string{"-db", "sales"}, want: exitUsage, wantErr: []string{"missing -source, -target"}},
		{name: "demo with source", args: []string{"-demo", "-source", "rm-a"}, want: exitUsage, wantErr: []string{"-demo runs against the built-in fake"}},
		{name: "region without instances", args: []string{"-region", "cn-shanghai"}, want: exitUsage, wantErr: []string{"-region needs -source"}},
		{name: "zero timeout", args: realArgs("-db", "sales", "-timeout", "0s"), want: exitUsage, wantErr: []string{"must be positive"}},
		{name: "dry run without preflight", args: realArgs("-db", "sales", "-dry-run", "-skip-preflight"), want: exitUsage, wantErr: []string{"-dry-run runs the preflight only"}},

		{name: "target database exists", args: realArgs("-db", "sales:crm"), want: exitViolations,
			wantOut: []string{"VIOLATION [target-name]", "Nothing was sent"}},
		{name: "storage too small", args: realArgs("-db", "archive"),
			setup: func(f *copydbtest.Fake) {
				f.AddDatabase(demoSource, copydbtest.Database{Name: "archive", SizeBytes: 60 * gib})
			},
			want: exitViolations, wantOut: []string{"VIOLATION [storage]"}},
		{name: "instance not found", args: []string{"-source", demoSource, "-target", "rm-elsewhere", "-db", "sales"}, want: exitViolations,
			wantOut: []string{"VIOLATION [instance]"}},

		{name: "outcome unknown without preflight", args: realArgs("-db", "sales", "-skip-preflight"),
			setup: func(f *copydbtest.Fake) {
				f.InjectFault(copydbtest.Fault{Action: copyAction, Code: "ServiceUnavailable"})
			},
			want: exitUnknown, wantOut: []string{"Outcome unknown"}, wantErr: []string{"outcome unknown"}},
		{name: "outcome unknown after reconciliation", args: realArgs("-db", "sales"),
			setup: func(f *copydbtest.Fake) {
				f.InjectFault(copydbtest.Fault{Action: copyAction, Drop: true, Times: 2})
			},
			want: exitUnknown, wantOut: []string{"Outcome unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, e := newTestRun(tt.demo, tt.setup)
			o := runTest(t, context.Background(), e, tt.args...)
			t.Logf("stdout:\n%s\nstderr:\n%s", o.stdout, o.stderr)
			if o.code != tt.want {
				t.Errorf("exit code %d, want %d", o.code, tt.want)
			}
			for _, s := range tt.wantOut {
				if !strings.Contains(o.stdout, s) {
					t.Errorf("stdout lacks %q:\n%s", s, o.stdout)
				}
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(o.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, o.stderr)
				}
			}
			if !tt.demo {
				if got := len(f.Copies()); got != tt.wantCopies {
					t.Errorf("the fake accepted %d copies, want %d", got, tt.wantCopies)
				}
			}
			if tt.want == exitUsage || tt.want == exitViolations {
				for _, r := range f.Requests() {
					if r.Action == copyAction {
						t.Errorf("exit %d, but a copy was sent", tt.want)
					}
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	o := runTest(t, context.Background(), demoEnv(newClock()), "-h")
	if o.code != exitOK {
		t.Errorf("exit code %d, want 0", o.code)
	}
	for _, s := range []string{"-source", "-db src[:dst]", "-restore-time time", "Exit codes:", "130  interrupted", "3    the preflight found violated conditions"} {
		if !strings.Contains(o.stderr, s) {
			t.Errorf("usage lacks %q:\n%s", s, o.stderr)
		}
	}
}

// TestRun checks the real entry point on what needs no network.
func TestRun(t *testing.T) {
	t.Parallel()
	var stdout, stderr strings.Builder
	if code := run(context.Background(), []string{"-h"}, &stdout, &stderr); code != exitOK {
		t.Errorf("-h: exit code %d, want 0", code)
	}
	if code := run(context.Background(), []string{"-source", "rm-a", "-target", "rm-a", "-db", "x"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("source == target: exit code %d, want 2", code)
	}
}

// TestInterrupted cancels the context during the wait, as Ctrl-C does.
func TestInterrupted(t *testing.T) {
	t.Parallel()
	for _, terminal := range []bool{false, true} {
		name := "plain"
		if terminal {
			name = "terminal"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c := newClock()
			c.onSleep = func(n int) bool {
				if n == 2 {
					cancel()
					return true
				}
				return false
			}
			e := demoEnv(c)
			e.terminal = func(io.Writer) bool { return terminal }
			o := runTest(t, ctx, e)
			if o.code != exitInterrupted {
				t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", o.code, exitInterrupted, o.stdout, o.stderr)
			}
			want := "Interrupted after 1s: the copy was accepted and would go on at the service (the demo's fake ends with this process). Last seen on rm-demo-target: hr Creating, inventory Creating, sales Creating. (exit 130)\n"
			if !strings.HasSuffix(o.stdout, want) {
				t.Errorf("stdout does not end with\n%q:\n%q", want, o.stdout)
			}
			// The summary starts on a line of its own.
			if i := strings.Index(o.stdout, "Interrupted"); i == 0 || o.stdout[i-1] != '\n' {
				t.Errorf("summary not on a line of its own:\n%q", o.stdout)
			}
		})
	}
}

// TestTerminalProgress checks the live lines: redrawn in place, states as
// the service reports them.
func TestTerminalProgress(t *testing.T) {
	t.Parallel()
	c := newClock()
	e := demoEnv(c)
	e.terminal = func(io.Writer) bool { return true }
	o := runTest(t, context.Background(), e)
	if o.code != exitOK {
		t.Fatalf("exit code %d\n%s%s", o.code, o.stdout, o.stderr)
	}
	for _, s := range []string{
		"\r\x1b[2K  hr         Creating                     0s\n",
		"\x1b[3A\r\x1b[2K  hr         Creating                     1s\n",
		"\r\x1b[2K  sales      Running                      3s\n",
	} {
		if !strings.Contains(o.stdout, s) {
			t.Errorf("stdout lacks %q:\n%q", s, o.stdout)
		}
	}
	if strings.Contains(o.stdout, "2025-06-01T") {
		t.Errorf("timestamped plain lines on a terminal:\n%s", o.stdout)
	}
}

// TestTerminalTicker runs the redrawing between polls: it must stop
// before the summary (goleak checks that it ends).
func TestTerminalTicker(t *testing.T) {
	t.Parallel()
	e := demoEnv(newClock())
	e.terminal = func(io.Writer) bool { return true }
	e.tick = time.Millisecond
	o := runTest(t, context.Background(), e)
	if o.code != exitOK || !strings.HasSuffix(o.stdout, "Running                      3s\nDone: 3 databases copied from rm-demo-source to rm-demo-target and Running, in 3s. (exit 0)\n") {
		t.Errorf("exit code %d, stdout:\n%q", o.code, o.stdout)
	}
}

// TestJSON checks that -json prints exactly one JSON object and nothing
// else on stdout.
func TestJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		setup    func(f *copydbtest.Fake)
		want     int
		outcome  string
		nViolate int
	}{
		{name: "done", args: realArgs("-db", "sales", "-json"), want: exitOK, outcome: "done"},
		{name: "violations", args: realArgs("-db", "sales:crm", "-db", "archive", "-json"),
			setup: func(f *copydbtest.Fake) {
				f.AddDatabase(demoSource, copydbtest.Database{Name: "archive", SizeBytes: 60 * gib})
			},
			want: exitViolations, outcome: "violations", nViolate: 2},
		{name: "invalid", args: realArgs("-db", "sales", "-restore-time", "soon", "-json"), want: exitUsage, outcome: "invalid"},
		{name: "usage", args: []string{"-source", "rm-a", "-json"}, want: exitUsage, outcome: "invalid"},
		{name: "unknown", args: realArgs("-db", "sales", "-skip-preflight", "-json"),
			setup: func(f *copydbtest.Fake) {
				f.InjectFault(copydbtest.Fault{Action: copydb.ActionCopyDatabaseBetweenInstances, Code: "InternalError"})
			},
			want: exitUnknown, outcome: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, e := newTestRun(false, tt.setup)
			o := runTest(t, context.Background(), e, tt.args...)
			dec := json.NewDecoder(strings.NewReader(o.stdout))
			var got result
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, o.stdout)
			}
			if dec.More() {
				t.Errorf("stdout holds more than one JSON value:\n%s", o.stdout)
			}
			if o.code != tt.want || got.ExitCode != tt.want || got.Outcome != tt.outcome {
				t.Errorf("exit %d, JSON exit_code %d, outcome %q; want %d, %q", o.code, got.ExitCode, got.Outcome, tt.want, tt.outcome)
			}
			if len(got.Violations) != tt.nViolate {
				t.Errorf("violations %+v, want %d", got.Violations, tt.nViolate)
			}
		})
	}
}

func TestParseDBs(t *testing.T) {
	t.Parallel()
	got, err := parseDBs([]string{"sales", "hr:hr_copy", " inventory : inv "})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sales": "sales", "hr": "hr_copy", "inventory": "inv"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseDBs (-want +got):\n%s", diff)
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{-1: "unknown", 0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 850 * mib: "850.0 MiB", 42 * gib / 10: "4.2 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
