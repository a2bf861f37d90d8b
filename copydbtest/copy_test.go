package copydbtest

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
)

// client returns a client of the fake for a test.
func client(t *testing.T, f *Fake, opts ...copydb.Option) *copydb.Client {
	t.Helper()
	c, err := f.Client(opts...)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	return c
}

// TestCopyRules runs every constraint of CopyDatabaseBetweenInstances through
// the real client and checks that a refused copy changes nothing.
func TestCopyRules(t *testing.T) {
	t.Parallel()
	req := func(edit func(r *copydb.CopyDatabaseBetweenInstancesRequest)) *copydb.CopyDatabaseBetweenInstancesRequest {
		r := &copydb.CopyDatabaseBetweenInstancesRequest{
			DBInstanceID: "rm-src", TargetDBInstanceID: "rm-dst", DBNames: map[string]string{"sales": "sales_copy"},
		}
		if edit != nil {
			edit(r)
		}
		return r
	}
	tests := []struct {
		name       string
		setup      func(f *Fake)
		req        *copydb.CopyDatabaseBetweenInstancesRequest
		wantStatus int
		wantCode   string
		wantErr    error // a sentinel, when one exists
	}{
		{name: "accepted", req: req(nil)},
		{name: "accepted from backup", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "100001" })},
		{name: "accepted at restore time", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.Add(-time.Hour) })},
		{name: "unknown source", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.DBInstanceID = "rm-none" }),
			wantStatus: 400, wantCode: "InvalidDBInstanceId.NotFound", wantErr: copydb.ErrInstanceNotFound},
		{name: "unknown target", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.TargetDBInstanceID = "rm-none" }),
			wantStatus: 400, wantCode: "InvalidDBInstanceId.NotFound", wantErr: copydb.ErrInstanceNotFound},
		{name: "source engine MySQL", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-src", Engine: "MySQL"}) }, req: req(nil),
			wantStatus: 400, wantCode: "EngineNotSupported"},
		{name: "target engine MySQL", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", Engine: "MySQL", StorageGB: 10}) }, req: req(nil),
			wantStatus: 400, wantCode: "TargetInstanceEngineNotSupported"},
		{name: "read-only target", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", ReadOnly: true, StorageGB: 10}) }, req: req(nil),
			wantStatus: 400, wantCode: "ReadOnlyInstanceNotSupport"},
		{name: "source not running", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-src", Status: "Restoring"}) }, req: req(nil),
			wantStatus: 403, wantCode: "IncorrectDBInstanceState", wantErr: copydb.ErrIncorrectInstanceState},
		{name: "target not running", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", Status: "Creating", StorageGB: 10}) }, req: req(nil),
			wantStatus: 403, wantCode: "IncorrectDBInstanceState", wantErr: copydb.ErrIncorrectInstanceState},
		{name: "other region", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", RegionID: "cn-shanghai", StorageGB: 10}) }, req: req(nil),
			wantStatus: 400, wantCode: "InvalidInstancesRegion.Malformed"},
		{name: "other major version", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", EngineVersion: "2012_std_ha", StorageGB: 10}) }, req: req(nil),
			wantStatus: 403, wantCode: "InvalidInstanceVersion"},
		{name: "same major, other edition", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", EngineVersion: "2016_ent_ha", StorageGB: 10}) }, req: req(nil)},
		{name: "other network type", setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", NetworkType: "Classic", StorageGB: 10}) }, req: req(nil),
			wantStatus: 400, wantCode: "InvalidNetworkType.Mismatch"},
		{name: "source database missing", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.DBNames = map[string]string{"nope": "x"} }),
			wantStatus: 400, wantCode: "InvalidDBName.NotFound"},
		{name: "target name exists", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"sales": "existing"}
		}),
			wantStatus: 400, wantCode: "InvalidDBName.Duplicate", wantErr: copydb.ErrDatabaseExists},
		{name: "TDE source database", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"secret": "secret2"}
		}),
			wantStatus: 400, wantCode: "CanNotCopyDBHasTDEEnabled"},
		{name: "not enough storage", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"sales": "s2", "hr": "h2"}
		}), setup: func(f *Fake) { f.AddInstance(Instance{ID: "rm-dst", StorageGB: 4}) },
			wantStatus: 403, wantCode: "StorageLimitExceeded", wantErr: copydb.ErrStorageLimitExceeded},
		{name: "storage just enough", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) {
			r.DBNames = map[string]string{"sales": "s2", "hr": "h2"}
		}), setup: func(f *Fake) {
			f.AddInstance(Instance{ID: "rm-dst", StorageGB: 5})
			f.AddDatabase("rm-dst", Database{Name: "existing", SizeBytes: 1<<30 - 1})
		}},
		{name: "unknown backup", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "100099" }),
			wantStatus: 400, wantCode: "InvalidBackupSetID"},
		{name: "unavailable backup", setup: func(f *Fake) {
			f.AddBackup("rm-src", Backup{ID: "100002", Start: t0.Add(-50 * time.Hour), End: t0.Add(-49 * time.Hour), Databases: []string{"sales"}})
		}, req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "100002" }),
			wantStatus: 400, wantCode: "InvalidBackupSetID"},
		{name: "backup without the database", setup: func(f *Fake) {
			f.AddBackup("rm-src", Backup{ID: "100003", Start: t0.Add(-3 * time.Hour), End: t0.Add(-2 * time.Hour), Databases: []string{"hr"}, Available: true})
		}, req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.BackupID = "100003" }),
			wantStatus: 400, wantCode: "InvalidBackupSetID"},
		{name: "restore time before retention", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.AddDate(0, 0, -8) }),
			wantStatus: 400, wantCode: "InvalidRestoreTimeSpecified"},
		{name: "restore time before the first backup", req: req(func(r *copydb.CopyDatabaseBetweenInstancesRequest) { r.RestoreTime = t0.Add(-48 * time.Hour) }),
			wantStatus: 400, wantCode: "InvalidBackupIdOrRestoreTime.NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFake(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			before := f.Databases("rm-dst")
			resp, err := client(t, f).CopyDatabaseBetweenInstances(context.Background(), tc.req)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("copy refused: %v", err)
				}
				if resp.DBInstanceID != "rm-dst" || resp.RequestID == "" {
					t.Errorf("response = %+v", resp)
				}
				if n := len(f.Copies()); n != 1 {
					t.Errorf("%d copies accepted, want 1", n)
				}
				return
			}
			var apiErr *copydb.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if diff := cmp.Diff([2]any{tc.wantStatus, tc.wantCode}, [2]any{apiErr.StatusCode, apiErr.Code}); diff != "" {
				t.Errorf("status, code (-want +got):\n%s", diff)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantErr)
			}
			if diff := cmp.Diff(before, f.Databases("rm-dst")); diff != "" {
				t.Errorf("a refused copy changed the target (-before +after):\n%s", diff)
			}
			if n := len(f.Copies()); n != 0 {
				t.Errorf("%d copies accepted, want 0", n)
			}
		})
	}
}

// TestCopyParameterRules sends hand-built copies that the client would refuse
// before sending, to check the fake's own parameter checks.
func TestCopyParameterRules(t *testing.T) {
	t.Parallel()
	base := map[string]string{"DBInstanceId": "rm-src", "TargetDBInstanceId": "rm-dst", "DbNames": `{"sales":"s2"}`}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		op         map[string]string
		opts       []Option
		wantStatus int
		wantCode   string
	}{
		{"no DBInstanceId", with("DBInstanceId", ""), nil, 400, "MissingParameter"},
		{"no TargetDBInstanceId", with("TargetDBInstanceId", ""), nil, 400, "MissingParameter"},
		{"no DbNames", with("DbNames", ""), nil, 400, "MissingParameter"},
		{"DbNames not JSON", with("DbNames", "sales:s2"), nil, 400, "InvalidDBName.Format"},
		{"DbNames an array", with("DbNames", `["sales"]`), nil, 400, "InvalidDBName.Format"},
		{"DbNames empty object", with("DbNames", `{}`), nil, 400, "InvalidDBName.Format"},
		{"DbNames number value", with("DbNames", `{"sales":1}`), nil, 400, "InvalidDBName.Format"},
		{"DbNames trailing data", with("DbNames", `{"sales":"s2"}{}`), nil, 400, "InvalidDBName.Format"},
		{"DbNames bad target name", with("DbNames", `{"sales":"s 2"}`), nil, 400, "InvalidDBName.Format"},
		{"DbNames same target twice", with("DbNames", `{"sales":"x","hr":"x"}`), nil, 400, "InvalidDBName.Duplicate"},
		{"source equals target", with("TargetDBInstanceId", "rm-src"), nil, 400, "InvalidParameter"},
		{"SyncUserPrivilege lower case", with("SyncUserPrivilege", "yes"), nil, 400, "InvalidParameter"},
		{"BackupId and RestoreTime", func() map[string]string {
			m := with("BackupId", "100001")
			m["RestoreTime"] = "2025-03-01T09:00:00Z"
			return m
		}(), nil, 400, "ErrorParametersConflict"},
		{"RestoreTime garbled", with("RestoreTime", "2025-03-01 09:00"), nil, 400, "InvalidBackupIdOrRestoreTime.Malformed"},
		{"RestoreTime in the future", with("RestoreTime", "2025-03-01T10:00:01Z"), nil, 400, "InvalidRestoreTimeSpecified"},
		{"neither BackupId nor RestoreTime, required", base, []Option{WithRestoreSourceRequired()}, 400, "MissingParameter"},
		{"neither BackupId nor RestoreTime", base, nil, 200, ""},
		{"SyncUserPrivilege YES", with("SyncUserPrivilege", "YES"), nil, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t, tc.opts...)
			status, body := rpc(t, f, clk, "CopyDatabaseBetweenInstances", tc.op)
			wantCode(t, status, body, tc.wantStatus, tc.wantCode)
			wantCopies := 0
			if tc.wantCode == "" {
				wantCopies = 1
			}
			if n := len(f.Copies()); n != wantCopies {
				t.Errorf("%d copies accepted, want %d", n, wantCopies)
			}
		})
	}
}

// TestCopyProgress steps a copy from Creating to Running on the fake's clock
// and checks the record of the copy.
func TestCopyProgress(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t, WithCopyDuration(10*time.Second))
	_, err := client(t, f).CopyDatabaseBetweenInstances(context.Background(), &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID: "rm-src", TargetDBInstanceID: "rm-dst",
		DBNames: map[string]string{"sales": "sales2", "hr": "hr2"}, SyncUserPrivilege: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	statuses := func() map[string]string {
		m := map[string]string{}
		for _, d := range f.Databases("rm-dst") {
			m[d.Name] = d.Status
		}
		return m
	}
	var got []map[string]string
	got = append(got, statuses())
	clk.Advance(9 * time.Second)
	got = append(got, statuses())
	clk.Advance(time.Second)
	got = append(got, statuses())
	want := []map[string]string{
		{"existing": "Running", "hr2": "Creating", "sales2": "Creating"},
		{"existing": "Running", "hr2": "Creating", "sales2": "Creating"},
		{"existing": "Running", "hr2": "Running", "sales2": "Running"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("target databases over time (-want +got):\n%s", diff)
	}
	copies := f.Copies()
	wantCopies := []Copy{{
		RequestID: copies[0].RequestID, SourceID: "rm-src", TargetID: "rm-dst",
		DBNames:           map[string]string{"sales": "sales2", "hr": "hr2"},
		SyncUserPrivilege: true, Accepted: t0, Ready: t0.Add(10 * time.Second),
	}}
	if diff := cmp.Diff(wantCopies, copies); diff != "" {
		t.Errorf("copies (-want +got):\n%s", diff)
	}
	if d := f.Databases("rm-dst"); d[1].SizeBytes != 2<<30 {
		t.Errorf("hr2 size = %d, want the source's %d", d[1].SizeBytes, 2<<30)
	}
}

// TestCopyDurationZero checks that WithCopyDuration(0) finishes at once.
func TestCopyDurationZero(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t, WithCopyDuration(0))
	status, body := rpc(t, f, clk, "CopyDatabaseBetweenInstances",
		map[string]string{"DBInstanceId": "rm-src", "TargetDBInstanceId": "rm-dst", "DbNames": `{"sales":"s2"}`})
	wantCode(t, status, body, http.StatusOK, "")
	want := []Database{{Name: "existing", Status: "Running", SizeBytes: 1 << 30}, {Name: "s2", Status: "Running", SizeBytes: 1 << 30}}
	if diff := cmp.Diff(want, f.Databases("rm-dst")); diff != "" {
		t.Errorf("databases (-want +got):\n%s", diff)
	}
}
