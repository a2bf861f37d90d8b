package main

import (
	"context"
	"testing"

	"github.com/rdskit/copydb/copydbtest"
)

// TestGolden compares whole runs with testdata/*.golden (go test -update
// rewrites them).
func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		demo  bool
		args  []string
		setup func(f *copydbtest.Fake)
	}{
		{name: "demo", demo: true},
		{name: "demo-json", demo: true, args: []string{"-json"}},
		{name: "dry-run", args: realArgs("-db", "sales", "-db", "hr:hr_copy", "-dry-run")},
		{name: "violations", args: realArgs("-db", "sales:crm", "-db", "archive", "-db", "missing"),
			setup: func(f *copydbtest.Fake) {
				f.AddDatabase(demoSource, copydbtest.Database{Name: "archive", SizeBytes: 60 * gib})
			}},
		{name: "copy-json", args: realArgs("-db", "sales", "-db", "hr:hr_copy", "-json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, e := newTestRun(tt.demo, tt.setup)
			checkGolden(t, tt.name, runTest(t, context.Background(), e, tt.args...))
		})
	}
}
