package copydb_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/copydbtest"
)

// Fault rows that read best against the fake: it verifies every signature and
// nonce as the gateway does, and records which copies it accepted.
func TestFaultsAgainstTheFake(t *testing.T) {
	t.Parallel()
	req := func() *copydb.CopyDatabaseBetweenInstancesRequest {
		return &copydb.CopyDatabaseBetweenInstancesRequest{
			DBInstanceID:       "rm-uf6wjk5xxxxxxx",
			TargetDBInstanceID: "rm-ut5ajk3xxxxxxx",
			DBNames:            map[string]string{"sales": "sales_copy"},
		}
	}
	tests := []struct {
		name         string
		faults       []copydbtest.Fault
		server       bool // a loopback server instead of the in-memory client
		opts         []copydb.Option
		wantRequests int
		wantCopies   int
		wantIs       []error
		wantNotIs    []error
	}{
		{name: "throttled twice then accepted", faults: []copydbtest.Fault{{Code: "Throttling.User", Times: 2}},
			wantRequests: 3, wantCopies: 1},
		{name: "throttled past the attempts", faults: []copydbtest.Fault{{Code: "Throttling", Times: 5}},
			wantRequests: 3, wantIs: []error{copydb.ErrThrottled}, wantNotIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "503 is not resent", faults: []copydbtest.Fault{{Code: "ServiceUnavailable"}},
			wantRequests: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "500 after the copy ran", faults: []copydbtest.Fault{{Code: "InternalError", AfterExecute: true}},
			wantRequests: 1, wantCopies: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "HTML proxy page", faults: []copydbtest.Fault{{HTML: true}},
			wantRequests: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "dropped before running, in memory", faults: []copydbtest.Fault{{Drop: true}},
			wantRequests: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "dropped after running, in memory", faults: []copydbtest.Fault{{Drop: true, AfterExecute: true}},
			wantRequests: 1, wantCopies: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "dropped after running, loopback server", faults: []copydbtest.Fault{{Drop: true, AfterExecute: true}}, server: true,
			wantRequests: 1, wantCopies: 1, wantIs: []error{copydb.ErrOutcomeUnknown}},
		{name: "throttled then accepted over loopback, XML", faults: []copydbtest.Fault{{Code: "Throttling.Api"}}, server: true,
			opts: []copydb.Option{copydb.WithFormat(copydb.FormatXML)}, wantRequests: 2, wantCopies: 1},
		{name: "a fault on another action changes nothing", faults: []copydbtest.Fault{{Action: "DescribeDatabases", Code: "InternalError"}},
			wantRequests: 1, wantCopies: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := newFake()
			for _, f := range tt.faults {
				fake.InjectFault(f)
			}
			var client *copydb.Client
			var err error
			if tt.server {
				srv := fake.StartServer()
				t.Cleanup(srv.Close)
				client, err = fake.ServerClient(srv, tt.opts...)
			} else {
				client, err = fake.Client(tt.opts...)
			}
			if err != nil {
				t.Fatal(err)
			}
			_, err = client.CopyDatabaseBetweenInstances(context.Background(), req())
			if len(tt.wantIs) == 0 && err != nil {
				t.Fatalf("err = %v", err)
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = false; err = %v", target, err)
				}
			}
			for _, target := range tt.wantNotIs {
				if errors.Is(err, target) {
					t.Errorf("errors.Is(err, %v) = true; err = %v", target, err)
				}
			}
			reqs := fake.Requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("fake saw %d requests, want %d", len(reqs), tt.wantRequests)
			}
			nonces := map[string]bool{}
			for _, r := range reqs {
				if nonces[r.Nonce] {
					t.Errorf("nonce %s reused", r.Nonce)
				}
				nonces[r.Nonce] = true
				if r.Code == "SignatureDoesNotMatch" || r.Code == "SignatureNonceUsed" || strings.HasPrefix(r.Code, "InvalidTimeStamp") {
					t.Errorf("the fake refused an attempt: %s", r.Code)
				}
			}
			if n := len(fake.Copies()); n != tt.wantCopies {
				t.Errorf("fake accepted %d copies, want %d", n, tt.wantCopies)
			}
			if err != nil && strings.Contains(err.Error(), copydbtest.AccessKeySecret) {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
}
