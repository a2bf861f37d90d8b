package copydbtest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
)

// copyReq is a copy the fixture of newFake accepts.
func copyReq() *copydb.CopyDatabaseBetweenInstancesRequest {
	return &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID: "rm-src", TargetDBInstanceID: "rm-dst", DBNames: map[string]string{"sales": "sales2"},
	}
}

// policyQuery returns the query of a correctly signed DescribeBackupPolicy
// of rm-src.
func policyQuery(clk *testClock) string {
	v := params("DescribeBackupPolicy", clk.Now(), map[string]string{"DBInstanceId": "rm-src"})
	return encodeParams(signed("POST", v, AccessKeySecret))
}

// TestFaultAnswers checks what each kind of fault answers, by hand-built
// requests.
func TestFaultAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		fault       Fault
		wantStatus  int
		wantType    string
		wantBody    string // a substring
		wantRetry   string
		wantRecords []Request
	}{
		{name: "Throttling.User", fault: Fault{Code: "Throttling.User"}, wantStatus: 400,
			wantType: "application/json;charset=utf-8", wantBody: `"Message":"Request was denied due to user flow control."`},
		{name: "Throttling", fault: Fault{Code: "Throttling", RetryAfter: 1500 * time.Millisecond}, wantStatus: 400,
			wantType: "application/json;charset=utf-8", wantBody: `"Code":"Throttling"`, wantRetry: "2"},
		{name: "ServiceUnavailable by status", fault: Fault{Status: 503}, wantStatus: 503,
			wantType: "application/json;charset=utf-8", wantBody: `"Code":"ServiceUnavailable"`},
		{name: "InternalError", fault: Fault{Code: "InternalError"}, wantStatus: 500,
			wantType: "application/json;charset=utf-8", wantBody: `"Code":"InternalError"`},
		{name: "custom message", fault: Fault{Code: "Forbidden.RAM", Status: 403, Message: "no"}, wantStatus: 403,
			wantType: "application/json;charset=utf-8", wantBody: `"Message":"no"`},
		{name: "HTML", fault: Fault{HTML: true}, wantStatus: 502,
			wantType: "text/html", wantBody: "<html><body><h1>502 Bad Gateway</h1></body></html>"},
		{name: "other action: no fault", fault: Fault{Action: "DescribeBackups", Code: "Throttling"}, wantStatus: 200,
			wantType: "application/json;charset=utf-8", wantBody: `"BackupRetentionPeriod":7`},
		{name: "delay only", fault: Fault{Delay: time.Millisecond}, wantStatus: 200,
			wantType: "application/json;charset=utf-8", wantBody: `"BackupRetentionPeriod":7`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t)
			f.InjectFault(tc.fault)
			w := serve(f, "POST", policyQuery(clk), "")
			if w.Code != tc.wantStatus || w.Header().Get("Content-Type") != tc.wantType || !strings.Contains(w.Body.String(), tc.wantBody) {
				t.Errorf("got %d %q %s\nwant %d %q containing %s", w.Code, w.Header().Get("Content-Type"), w.Body,
					tc.wantStatus, tc.wantType, tc.wantBody)
			}
			if got := w.Header().Get("Retry-After"); got != tc.wantRetry {
				t.Errorf("Retry-After = %q, want %q", got, tc.wantRetry)
			}
			// The fault is used up: the next request is answered normally.
			if w := serve(f, "POST", policyQuery(clk), ""); w.Code != 200 {
				t.Errorf("second request: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestFaultsThroughClient plays faults against the real client.
func TestFaultsThroughClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []Fault
		ctxTimeout time.Duration // 0: no deadline
		wantErr    error         // nil: success
		wantCodes  []string      // the codes of the requests the fake received
		wantCopies int
	}{
		{name: "throttled then accepted", faults: []Fault{{Action: "CopyDatabaseBetweenInstances", Code: "Throttling.User"}},
			wantCodes: []string{"Throttling.User", ""}, wantCopies: 1},
		{name: "throttled three times", faults: []Fault{{Code: "Throttling", Times: 3}},
			wantErr: copydb.ErrThrottled, wantCodes: []string{"Throttling", "Throttling", "Throttling"}},
		{name: "dropped after execution", faults: []Fault{{Drop: true, AfterExecute: true}},
			wantErr: copydb.ErrOutcomeUnknown, wantCodes: []string{""}, wantCopies: 1},
		{name: "503 after execution", faults: []Fault{{Status: 503, AfterExecute: true}},
			wantErr: copydb.ErrOutcomeUnknown, wantCodes: []string{"ServiceUnavailable"}, wantCopies: 1},
		{name: "delay beyond the deadline", faults: []Fault{{Delay: time.Hour}}, ctxTimeout: 20 * time.Millisecond,
			wantErr: context.DeadlineExceeded, wantCodes: []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, _ := newFake(t)
			for _, flt := range tc.faults {
				f.InjectFault(flt)
			}
			ctx := context.Background()
			if tc.ctxTimeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
				defer cancel()
			}
			_, err := client(t, f).CopyDatabaseBetweenInstances(ctx, copyReq())
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error = %v, want %v", err, tc.wantErr)
			}
			var codes []string
			for _, r := range f.Requests() {
				codes = append(codes, r.Code)
			}
			if diff := cmp.Diff(tc.wantCodes, codes); diff != "" {
				t.Errorf("requests received (-want +got):\n%s", diff)
			}
			if n := len(f.Copies()); n != tc.wantCopies {
				t.Errorf("%d copies accepted, want %d", n, tc.wantCopies)
			}
		})
	}
}

// TestHTTPClientContextDone checks that the in-memory client sends nothing
// when the context is already done, as net/http does.
func TestHTTPClientContextDone(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", "https://rds.aliyuncs.com/?"+policyQuery(clk), nil)
	_, err := f.HTTPClient().Do(req)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if n := len(f.Requests()); n != 0 {
		t.Errorf("%d requests reached the fake, want 0", n)
	}
}

// TestHTTPClientDrop checks the in-memory transport error of a dropped
// connection.
func TestHTTPClientDrop(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	f.InjectFault(Fault{Drop: true})
	req, _ := http.NewRequest("POST", "https://rds.aliyuncs.com/?"+policyQuery(clk), nil)
	if _, err := f.HTTPClient().Do(req); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error = %v, want io.ErrUnexpectedEOF", err)
	}
	if got := f.Requests(); len(got) != 1 || !got[0].Dropped || got[0].Status != 0 {
		t.Errorf("record = %+v, want one dropped request", got)
	}
}

// TestServerMode runs the client over a loopback server, a drop included.
func TestServerMode(t *testing.T) {
	t.Parallel()
	f, _ := newFake(t)
	srv := f.StartServer()
	defer srv.Close()
	c, err := f.ServerClient(srv)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyDatabaseBetweenInstances(context.Background(), copyReq()); err != nil {
		t.Fatalf("copy over HTTP: %v", err)
	}
	f.InjectFault(Fault{Drop: true, AfterExecute: true})
	req := copyReq()
	req.DBNames = map[string]string{"hr": "hr2"}
	if _, err := c.CopyDatabaseBetweenInstances(context.Background(), req); !errors.Is(err, copydb.ErrOutcomeUnknown) {
		t.Errorf("dropped copy: error = %v, want ErrOutcomeUnknown", err)
	}
	if n := len(f.Copies()); n != 2 {
		t.Errorf("%d copies accepted, want 2", n)
	}
}

// TestServeHTTPDropWithoutHijacker checks that a drop aborts the handler
// when the ResponseWriter cannot be hijacked.
func TestServeHTTPDropWithoutHijacker(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	f.InjectFault(Fault{Drop: true})
	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	f.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/?"+policyQuery(clk), nil))
}
