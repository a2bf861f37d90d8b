package copydb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is one request as the test server received it.
type seen struct {
	Method string
	Params url.Values
	SigOK  bool
}

// testServer is an httptest server that verifies signatures, records every
// request and answers with a scripted handler; n counts requests from 1.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
}

func newTestServer(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) *testServer {
	t.Helper()
	ts := &testServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		params := r.Form
		ok := params.Get("Signature") != "" && Sign(r.Method, params, testSecret) == params.Get("Signature")
		ts.mu.Lock()
		ts.reqs = append(ts.reqs, seen{r.Method, params, ok})
		n := len(ts.reqs)
		ts.mu.Unlock()
		h(n, w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) requests() []seen {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]seen(nil), ts.reqs...)
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// hookHandler calls onRecord for every log record before writing it.
type hookHandler struct {
	slog.Handler
	onRecord func(slog.Record)
}

func (h hookHandler) Handle(ctx context.Context, r slog.Record) error {
	if h.onRecord != nil {
		h.onRecord(r)
	}
	return h.Handler.Handle(ctx, r)
}

func captureLogger(onRecord func(slog.Record)) (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	h := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})
	return slog.New(hookHandler{h, onRecord}), buf
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func apiErrorBody(code, msg string) string {
	return fmt.Sprintf(`{"RequestId":"REQ-%s","HostId":"rds.aliyuncs.com","Code":%q,"Message":%q,"Recommend":"https://api.aliyun.com/troubleshoot?q=%s"}`, code, code, msg, code)
}

const okBody = `{"RequestId":"803D11AF-C370-465B-AB46-CB3A642DC303","DBInstanceId":"rm-ut5ajk3xxxxxxx"}`

// manualCtx is a context whose deadline "passes" when fire is called, so a
// test can stage a deadline without waiting for one.
type manualCtx struct {
	context.Context
	done chan struct{}
	once sync.Once
}

func newManualCtx() *manualCtx {
	return &manualCtx{Context: context.Background(), done: make(chan struct{})}
}
func (c *manualCtx) Done() <-chan struct{} { return c.done }
func (c *manualCtx) Err() error {
	select {
	case <-c.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}
func (c *manualCtx) fire() { c.once.Do(func() { close(c.done) }) }

func TestFaultMatrix(t *testing.T) {
	t.Parallel()
	noWait := RetryPolicy{MaxAttempts: 3}
	html := func(status int) func(int, http.ResponseWriter, *http.Request) {
		return func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", status, http.StatusText(status))
		}
	}
	apiErr := func(status int, code string) func(int, http.ResponseWriter, *http.Request) {
		return func(_ int, w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, status, apiErrorBody(code, "the service says no"))
		}
	}

	type env struct {
		ts     *testServer
		opts   []Option
		ctx    context.Context
		logged func(slog.Record) // set by a row to act on log records
	}
	tests := []struct {
		name    string
		handler func(n int, w http.ResponseWriter, r *http.Request)
		policy  RetryPolicy
		setup   func(t *testing.T, e *env) // extra options, contexts
		check   func(t *testing.T, reqs []seen, log string)

		wantRequests int
		wantOK       bool
		wantIs       []error
		wantNotIs    []error
		wantCode     string
		wantStatus   int // of the *APIError or *ResponseError
		wantInErr    string
	}{
		{
			name:         "200",
			handler:      func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) },
			wantRequests: 1, wantOK: true,
		},
		{
			name: "throttling then 200",
			handler: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					writeJSON(w, 400, apiErrorBody("Throttling.User", "Request was denied due to user flow control."))
					return
				}
				writeJSON(w, 200, okBody)
			},
			wantRequests: 2, wantOK: true,
			check: func(t *testing.T, reqs []seen, _ string) {
				if reqs[0].Params.Get("SignatureNonce") == reqs[1].Params.Get("SignatureNonce") {
					t.Errorf("nonce reused across attempts: %s", reqs[0].Params.Get("SignatureNonce"))
				}
				if reqs[0].Params.Get("Signature") == reqs[1].Params.Get("Signature") {
					t.Errorf("signature reused across attempts")
				}
			},
		},
		{
			name:         "throttling every time",
			handler:      apiErr(400, "Throttling"),
			wantRequests: 3, wantIs: []error{ErrThrottled}, wantNotIs: []error{ErrOutcomeUnknown},
			wantCode: "Throttling", wantStatus: 400, wantInErr: "after 3 attempts",
		},
		{
			name: "429 without a body then 200",
			handler: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				writeJSON(w, 200, okBody)
			},
			wantRequests: 2, wantOK: true,
		},
		{
			name: "Retry-After 3600 is capped",
			handler: func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", "3600")
					writeJSON(w, 503, apiErrorBody("Throttling.Api", "slow down"))
					return
				}
				writeJSON(w, 200, okBody)
			},
			policy:       RetryPolicy{MaxAttempts: 2, MaxBackoff: time.Microsecond},
			wantRequests: 2, wantOK: true,
			check: func(t *testing.T, _ []seen, log string) {
				if !strings.Contains(log, "reason=Throttling.Api wait=1µs") {
					t.Errorf("retry wait not capped at MaxBackoff; log:\n%s", log)
				}
			},
		},
		{name: "500 json", handler: apiErr(500, "InternalError"), wantRequests: 1,
			wantIs: []error{ErrOutcomeUnknown}, wantCode: "InternalError", wantStatus: 500},
		{name: "502 json", handler: apiErr(502, "BadGateway"), wantRequests: 1,
			wantIs: []error{ErrOutcomeUnknown}, wantCode: "BadGateway", wantStatus: 502},
		{name: "503 json", handler: apiErr(503, "ServiceUnavailable"), wantRequests: 1,
			wantIs: []error{ErrOutcomeUnknown}, wantCode: "ServiceUnavailable", wantStatus: 503},
		{name: "504 json", handler: apiErr(504, "GatewayTimeout"), wantRequests: 1,
			wantIs: []error{ErrOutcomeUnknown}, wantCode: "GatewayTimeout", wantStatus: 504},
		{name: "500 html", handler: html(500), wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 500, wantInErr: "500 Internal Server Error"},
		{name: "502 html", handler: html(502), wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 502, wantInErr: "<h1>502 Bad Gateway</h1>"},
		{name: "503 html", handler: html(503), wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 503},
		{name: "504 html", handler: html(504), wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 504},
		{
			name:    "connection refused then up",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) },
			setup: func(t *testing.T, e *env) {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				closed := ln.Addr().String()
				ln.Close()
				var dials atomic.Int32
				tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					if dials.Add(1) == 1 {
						addr = closed
					}
					return (&net.Dialer{}).DialContext(ctx, network, addr)
				}}
				t.Cleanup(tr.CloseIdleConnections)
				e.opts = append(e.opts, WithHTTPClient(&http.Client{Transport: tr}))
			},
			wantRequests: 1, wantOK: true,
			check: func(t *testing.T, _ []seen, log string) {
				if !strings.Contains(log, "sent=false") || !strings.Contains(log, "connection refused") {
					t.Errorf("the refused dial is not logged as unsent:\n%s", log)
				}
			},
		},
		{
			name: "reset after reading the request",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				if tc, ok := conn.(*net.TCPConn); ok {
					tc.SetLinger(0)
				}
				conn.Close()
			},
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown},
		},
		{
			name:    "server answers after the deadline",
			handler: func(int, http.ResponseWriter, *http.Request) { t.Error("replaced in setup") },
			setup: func(t *testing.T, e *env) {
				mc := newManualCtx()
				e.ctx = mc
				// The deadline passes once the server holds the request; it
				// answers only after the client has given up.
				e.ts = newTestServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
					mc.fire()
					<-r.Context().Done()
				})
			},
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown, context.DeadlineExceeded},
		},
		{name: "malformed 200", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{"RequestId":`) },
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 200, wantInErr: "unreadable success answer"},
		{name: "empty 200", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) },
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 200, wantInErr: "empty body"},
		{name: "html 200", handler: html(200), wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 200, wantInErr: "neither JSON nor XML"},
		{name: "200 without RequestId", handler: func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, `{}`) },
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantInErr: "without a RequestId"},
		{name: "error-shaped 200", handler: apiErr(200, "StorageLimitExceeded"), wantRequests: 1,
			wantIs: []error{ErrStorageLimitExceeded}, wantNotIs: []error{ErrOutcomeUnknown}, wantCode: "StorageLimitExceeded", wantStatus: 200},
		{
			name: "body larger than the limit",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(200)
				io.WriteString(w, `{"RequestId":"`+strings.Repeat("x", 2<<20)+`"}`)
			},
			wantRequests: 1, wantIs: []error{ErrOutcomeUnknown}, wantInErr: "answer too large",
		},
		{
			name:    "cancel during backoff",
			handler: apiErr(400, "Throttling"),
			policy:  RetryPolicy{MaxAttempts: 3, MinBackoff: time.Hour, MaxBackoff: time.Hour},
			setup: func(t *testing.T, e *env) {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				e.ctx = ctx
				e.logged = func(r slog.Record) {
					if r.Message == "copydb: retrying" {
						cancel()
					}
				}
			},
			wantRequests: 1, wantIs: []error{context.Canceled, ErrThrottled}, wantNotIs: []error{ErrOutcomeUnknown},
			wantCode: "Throttling", wantInErr: "gave up waiting to retry",
		},
		{
			name:    "already cancelled context",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) },
			setup: func(t *testing.T, e *env) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				e.ctx = ctx
			},
			wantRequests: 0, wantIs: []error{context.Canceled}, wantNotIs: []error{ErrOutcomeUnknown},
		},
		{
			name:         "nonce reused is not retried",
			handler:      apiErr(400, "SignatureNonceUsed"),
			wantRequests: 1, wantCode: "SignatureNonceUsed", wantStatus: 400, wantNotIs: []error{ErrOutcomeUnknown},
		},
		{
			name: "expired timestamp with a skewed Date",
			handler: func(n int, w http.ResponseWriter, r *http.Request) {
				serverNow := time.Now().Add(2 * time.Hour)
				w.Header().Set("Date", serverNow.UTC().Format(http.TimeFormat))
				ts, _ := time.Parse(timeLayout, r.Form.Get("Timestamp"))
				if d := ts.Sub(serverNow); d > 15*time.Minute || d < -15*time.Minute {
					writeJSON(w, 400, apiErrorBody("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."))
					return
				}
				writeJSON(w, 200, okBody)
			},
			wantRequests: 2, wantOK: true,
			check: func(t *testing.T, reqs []seen, log string) {
				if !strings.Contains(log, "clock skew detected") {
					t.Errorf("skew not logged:\n%s", log)
				}
			},
		},
		{
			name: "expired timestamp without skew is not retried",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				writeJSON(w, 400, apiErrorBody("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."))
			},
			wantRequests: 1, wantIs: []error{ErrClockSkew}, wantCode: "InvalidTimeStamp.Expired",
		},
		{
			name: "expired timestamp is retried at most once",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Date", time.Now().Add(-3*time.Hour).UTC().Format(http.TimeFormat))
				writeJSON(w, 400, apiErrorBody("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."))
			},
			wantRequests: 2, wantIs: []error{ErrClockSkew}, wantCode: "InvalidTimeStamp.Expired",
		},
		{name: "storage limit", handler: apiErr(403, "StorageLimitExceeded"), wantRequests: 1,
			wantIs: []error{ErrStorageLimitExceeded}, wantNotIs: []error{ErrOutcomeUnknown, ErrThrottled}, wantCode: "StorageLimitExceeded", wantStatus: 403},
		{
			name: "signature mismatch echoing credentials",
			handler: func(_ int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 400, apiErrorBody("SignatureDoesNotMatch",
					"Specified signature is not matched with our calculation. server string to sign is:"+StringToSign(r.Method, r.Form)))
			},
			wantRequests: 1, wantIs: []error{ErrSignatureMismatch}, wantCode: "SignatureDoesNotMatch",
			wantInErr: "the service signed the same string as the client: the AccessKeySecret is wrong",
		},
		{
			name: "signature mismatch from an encoding difference",
			handler: func(_ int, w http.ResponseWriter, r *http.Request) {
				sts := strings.Replace(StringToSign(r.Method, r.Form), "%2522", "%22", 1)
				writeJSON(w, 400, apiErrorBody("SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:"+sts))
			},
			wantRequests: 1, wantIs: []error{ErrSignatureMismatch}, wantInErr: "in parameter DbNames; an encoding difference",
		},
		{
			name: "XML error answer",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				w.WriteHeader(400)
				io.WriteString(w, `<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>X1</RequestId><HostId>rds.aliyuncs.com</HostId><Code>InvalidDBName.Duplicate</Code><Message>Specified DB name already exists.</Message></Error>`)
			},
			setup:        func(t *testing.T, e *env) { e.opts = append(e.opts, WithFormat(FormatXML)) },
			wantRequests: 1, wantIs: []error{ErrDatabaseExists}, wantCode: "InvalidDBName.Duplicate", wantStatus: 400,
			check: func(t *testing.T, reqs []seen, _ string) {
				if got := reqs[0].Params.Get("Format"); got != "XML" {
					t.Errorf("Format = %q, want XML", got)
				}
			},
		},
		{
			name: "XML success answer",
			handler: func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/xml")
				io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><CopyDatabaseBetweenInstancesResponse><RequestId>X2</RequestId></CopyDatabaseBetweenInstancesResponse>`)
			},
			setup:        func(t *testing.T, e *env) { e.opts = append(e.opts, WithFormat(FormatXML)) },
			wantRequests: 1, wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &env{ctx: context.Background()}
			e.ts = newTestServer(t, tt.handler)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			logger, logBuf := captureLogger(func(r slog.Record) {
				if e.logged != nil {
					e.logged(r)
				}
			})
			policy := tt.policy
			if policy.MaxAttempts == 0 {
				policy = noWait
			}
			opts := append([]Option{
				WithRegion("cn-hangzhou"), WithEndpoint(e.ts.URL),
				WithCredentials(StaticCredentials(testKeyID, testSecret, testToken)),
				WithRetry(policy), WithLogger(logger),
			}, e.opts...)
			c, err := New(opts...)
			if err != nil {
				t.Fatal(err)
			}
			req := validRequest()
			req.DBNames = map[string]string{`sales "2024"`: "sales_copy"}
			resp, err := c.CopyDatabaseBetweenInstances(e.ctx, req)

			reqs := e.ts.requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d", len(reqs), tt.wantRequests)
			}
			var sigs []string
			for i, r := range reqs {
				if !r.SigOK {
					t.Errorf("request %d: signature does not verify", i+1)
				}
				if r.Method != http.MethodPost || r.Params.Get("Action") != ActionCopyDatabaseBetweenInstances {
					t.Errorf("request %d: %s %s", i+1, r.Method, r.Params.Get("Action"))
				}
				if got := r.Params.Get("SecurityToken"); got != testToken {
					t.Errorf("request %d: SecurityToken = %q", i+1, got)
				}
				sigs = append(sigs, r.Params.Get("Signature"))
			}
			if tt.wantOK {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if resp.RequestID == "" {
					t.Errorf("no RequestID in %+v", resp)
				}
			} else if err == nil {
				t.Fatalf("err = nil, resp = %+v", resp)
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
			if tt.wantCode != "" {
				var ae *APIError
				if !errors.As(err, &ae) {
					t.Fatalf("errors.As(*APIError) = false; err = %v", err)
				}
				if ae.Code != tt.wantCode || (tt.wantStatus != 0 && ae.StatusCode != tt.wantStatus) {
					t.Errorf("APIError code %s status %d, want %s %d", ae.Code, ae.StatusCode, tt.wantCode, tt.wantStatus)
				}
				if ae.Attempts != tt.wantRequests {
					t.Errorf("APIError.Attempts = %d, want %d", ae.Attempts, tt.wantRequests)
				}
				if ae.RequestID == "" {
					t.Errorf("APIError without RequestID")
				}
			} else if tt.wantStatus != 0 {
				var re *ResponseError
				if !errors.As(err, &re) || re.StatusCode != tt.wantStatus {
					t.Errorf("want *ResponseError with status %d; err = %v", tt.wantStatus, err)
				}
			}
			if err != nil {
				if tt.wantInErr != "" && !strings.Contains(err.Error(), tt.wantInErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantInErr)
				}
				msg := err.Error()
				if strings.Contains(msg, "\n") {
					t.Errorf("error text is not one line: %q", msg)
				}
				if strings.Contains(msg, "Signature=") || strings.Contains(msg, "?") && strings.Contains(msg, "AccessKeyId") {
					t.Errorf("error text carries a query string: %s", msg)
				}
				assertNoSecret(t, "error text", msg, sigs...)
				assertNoSecret(t, "%+v of the error", fmt.Sprintf("%+v %#v", err, err), sigs...)
			}
			log := logBuf.String()
			assertNoSecret(t, "log", log, sigs...)
			if tt.check != nil {
				tt.check(t, reqs, log)
			}
		})
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	other := newTestServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, okBody) })
	ts := newTestServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	})
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"default client", nil},
		{"caller's *http.Client that follows redirects", []Option{WithHTTPClient(ts.Client())}},
	} {
		c, err := New(append([]Option{WithRegion("cn-hangzhou"), WithEndpoint(ts.URL), WithAccessKey(testKeyID, testSecret), WithRetry(RetryPolicy{MaxAttempts: 3})}, tc.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.CopyDatabaseBetweenInstances(context.Background(), validRequest())
		var re *ResponseError
		if !errors.As(err, &re) || re.StatusCode != 307 || !strings.Contains(err.Error(), "not followed") {
			t.Errorf("%s: err = %v, want a *ResponseError for the 307", tc.name, err)
		}
		if errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("%s: a redirect is not an unknown outcome", tc.name)
		}
		assertNoSecret(t, "error", err.Error())
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the other host saw %d requests", n)
	}
	if n := len(ts.requests()); n != 2 {
		t.Errorf("the endpoint saw %d requests, want 2 (one per client)", n)
	}
}

func TestNothingSentOnInvalidInput(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	hc := HTTPClientFunc(func(*http.Request) (*http.Response, error) {
		calls.Add(1)
		return nil, errors.New("must not be called")
	})
	tests := []struct {
		name      string
		creds     CredentialsProvider
		req       *CopyDatabaseBetweenInstancesRequest
		wantField []string
	}{
		{"invalid request", StaticCredentials(testKeyID, testSecret, ""), &CopyDatabaseBetweenInstancesRequest{DBInstanceID: "rm-a", TargetDBInstanceID: "rm-a"},
			[]string{"TargetDBInstanceId", "DbNames"}},
		{"nil request", StaticCredentials(testKeyID, testSecret, ""), nil, []string{"request"}},
		{"missing secret", StaticCredentials(testKeyID, "", ""), validRequest(), []string{"AccessKeySecret"}},
		{"provider fails, request bad too", CredentialsProviderFunc(func(context.Context) (Credentials, error) {
			return Credentials{}, errors.New("vault unreachable")
		}), &CopyDatabaseBetweenInstancesRequest{}, []string{"DBInstanceId", "TargetDBInstanceId", "DbNames", "AccessKeyId"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(WithRegion("cn-hangzhou"), WithCredentials(tt.creds), WithHTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.CopyDatabaseBetweenInstances(context.Background(), tt.req)
			if !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("err = %v, want ErrInvalidRequest", err)
			}
			var fields []string
			for _, ve := range ValidationErrors(err) {
				fields = append(fields, ve.Field)
			}
			if diff := cmp.Diff(tt.wantField, fields); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("HTTP client called %d times", n)
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
		wantEP  string
	}{
		{"central region", []Option{WithRegion("cn-hangzhou")}, "", "https://rds.aliyuncs.com/"},
		{"regional host", []Option{WithRegion("eu-central-1")}, "", "https://rds.eu-central-1.aliyuncs.com/"},
		{"endpoint override", []Option{WithRegion("cn-hangzhou"), WithEndpoint("https://rds-vpc.cn-hangzhou.aliyuncs.com")}, "", "https://rds-vpc.cn-hangzhou.aliyuncs.com/"},
		{"loopback http", []Option{WithRegion("cn-hangzhou"), WithEndpoint("http://127.0.0.1:8080/")}, "", "http://127.0.0.1:8080/"},
		{"plain http elsewhere", []Option{WithEndpoint("http://rds.aliyuncs.com/")}, "http is allowed for loopback hosts only", ""},
		{"endpoint with path", []Option{WithEndpoint("https://rds.aliyuncs.com/v1")}, "the RPC API is served at path /", ""},
		{"endpoint with user", []Option{WithEndpoint("https://u:p@rds.aliyuncs.com/")}, "user information is not allowed", ""},
		{"bad region", []Option{WithRegion("Hangzhou")}, `"Hangzhou" is not a region id`, ""},
		{"nil http client", []Option{WithHTTPClient(nil)}, "nil client", ""},
		{"retry zero attempts", []Option{WithRetry(RetryPolicy{})}, "MaxAttempts 0: must be at least 1", ""},
		{"retry inverted", []Option{WithRetry(RetryPolicy{MaxAttempts: 2, MinBackoff: 2, MaxBackoff: 1})}, "MaxBackoff must not be less than MinBackoff", ""},
		{"format", []Option{WithFormat("YAML")}, `"YAML": use FormatJSON or FormatXML`, ""},
		{"user agent", []Option{WithUserAgent("a\nb")}, "printable", ""},
		{"empty access key", []Option{WithAccessKey("", "")}, "id and secret must both be set", ""},
		{"nil option", []Option{nil}, "nil Option", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(tt.opts...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tt.wantEP {
				t.Errorf("endpoint = %s, want %s", c.Endpoint(), tt.wantEP)
			}
		})
	}
}

func TestNewRegionFromEnvironment(t *testing.T) {
	t.Setenv(EnvRegionID, "ap-northeast-1")
	c, err := New()
	if err != nil || c.Region() != "ap-northeast-1" || c.Endpoint() != "https://rds.ap-northeast-1.aliyuncs.com/" {
		t.Fatalf("New() = %v, %v", c, err)
	}
	t.Setenv(EnvRegionID, "")
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "WithRegion") {
		t.Errorf("New() without region: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	top := func(n int64) int64 { return n - 1 } // the largest value the jitter may draw
	tests := []struct {
		name     string
		min, max time.Duration
		n        int
		want     time.Duration
	}{
		{"first", 100 * time.Millisecond, time.Second, 0, 100 * time.Millisecond},
		{"doubles", 100 * time.Millisecond, time.Second, 2, 400 * time.Millisecond},
		{"capped", 100 * time.Millisecond, time.Second, 10, time.Second},
		{"no overflow", time.Second, time.Hour, 80, time.Hour},
		{"zero", 0, 0, 3, 0},
	}
	for _, tt := range tests {
		if got := fullJitter(tt.min, tt.max, tt.n, top); got != tt.want {
			t.Errorf("%s: fullJitter = %v, want %v", tt.name, got, tt.want)
		}
		if got := fullJitter(tt.min, tt.max, tt.n, func(int64) int64 { return 0 }); got != 0 {
			t.Errorf("%s: lowest jitter = %v, want 0", tt.name, got)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"3600": time.Hour, "0": 0, "99999999": 24 * time.Hour,
		now.Add(time.Minute).Format(http.TimeFormat): time.Minute,
	} {
		if got, ok := retryAfter(h, now); !ok || got != want {
			t.Errorf("retryAfter(%q) = %v, %v; want %v", h, got, ok, want)
		}
	}
	for _, h := range []string{"", "-1", "soon"} {
		if _, ok := retryAfter(h, now); ok {
			t.Errorf("retryAfter(%q) accepted", h)
		}
	}
}

// 100 goroutines share one client: no race, every nonce unique, every
// signature valid.
func TestConcurrentCallsShareOneClient(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	nonces := map[string]int{}
	hc := HTTPClientFunc(func(r *http.Request) (*http.Response, error) {
		q := r.URL.Query()
		if Sign(r.Method, q, testSecret) != q.Get("Signature") {
			return nil, errors.New("bad signature")
		}
		mu.Lock()
		nonces[q.Get("SignatureNonce")]++
		mu.Unlock()
		rec := httptest.NewRecorder()
		writeJSON(rec, 200, okBody)
		return rec.Result(), nil
	})
	c, err := New(WithRegion("cn-hangzhou"), WithAccessKey(testKeyID, testSecret), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.CopyDatabaseBetweenInstances(context.Background(), validRequest()); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(nonces) != n {
		t.Errorf("%d distinct nonces for %d calls", len(nonces), n)
	}
	for nonce, count := range nonces {
		if count != 1 {
			t.Errorf("nonce %s used %d times", nonce, count)
		}
	}
}
