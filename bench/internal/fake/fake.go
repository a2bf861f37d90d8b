// Package fake is the one loopback service every client in the benchmarks
// talks to, and the one set of inputs they all send.
//
// The handler checks each request the way the real service would for this
// operation: the operation parameters must be exactly the benchmark inputs, and
// the version 1.0 signature must verify with [copydb.Sign]. Only a request that
// passes is counted and answered with the success body.
package fake

import (
	"crypto/hmac"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/rdskit/copydb"
)

// The inputs shared by every client.
const (
	AccessKeyID       = "testid"
	AccessKeySecret   = "testsecret"
	Region            = "cn-hangzhou"
	SourceInstance    = "rm-source"
	TargetInstance    = "rm-target"
	SourceDB          = "db1"
	TargetDB          = "db1_copy"
	DBNamesJSON       = `{"db1":"db1_copy"}`
	SyncUserPrivilege = "YES"

	// RequestID is what the handler answers on success; a client proves it
	// parsed the response by returning it.
	RequestID = "803D11AF-C370-465B-AB46-CB3A642DC303"
)

// DBNames is DBNamesJSON as a map, for clients that take one.
func DBNames() map[string]string { return map[string]string{SourceDB: TargetDB} }

// want lists the parameters whose value is fixed by the inputs.
var want = [...][2]string{
	{"Action", "CopyDatabaseBetweenInstances"},
	{"Version", "2014-08-15"},
	{"Format", "JSON"},
	{"AccessKeyId", AccessKeyID},
	{"SignatureMethod", "HMAC-SHA1"},
	{"SignatureVersion", "1.0"},
	{"RegionId", Region},
	{"DBInstanceId", SourceInstance},
	{"TargetDBInstanceId", TargetInstance},
	{"DbNames", DBNamesJSON},
	{"SyncUserPrivilege", SyncUserPrivilege},
}

var (
	okBody = []byte(`{"RequestId":"` + RequestID + `","DBInstanceId":"` + TargetInstance + `"}`)
)

// Handler is the fake service. The zero value is ready to use.
type Handler struct {
	verified atomic.Int64
	rejected atomic.Int64
}

// Verified reports how many requests passed every check.
func (h *Handler) Verified() int64 { return h.verified.Load() }

// Rejected reports how many requests failed a check.
func (h *Handler) Rejected() int64 { return h.rejected.Load() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		h.fail(w, http.StatusNotFound, "InvalidAction.NotFound")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.fail(w, http.StatusBadRequest, "InvalidParameter")
		return
	}
	p := r.Form
	for _, kv := range want {
		if v := p[kv[0]]; len(v) != 1 || v[0] != kv[1] {
			h.fail(w, http.StatusBadRequest, "InvalidParameter."+kv[0])
			return
		}
	}
	if v := p["SignatureNonce"]; len(v) != 1 || v[0] == "" {
		h.fail(w, http.StatusBadRequest, "MissingParameter.SignatureNonce")
		return
	}
	if v := p["Timestamp"]; len(v) != 1 || !fresh(v[0]) {
		h.fail(w, http.StatusBadRequest, "InvalidTimeStamp.Expired")
		return
	}
	sig := p["Signature"]
	if len(sig) != 1 || !hmac.Equal([]byte(sig[0]), []byte(copydb.Sign(r.Method, p, AccessKeySecret))) {
		h.fail(w, http.StatusBadRequest, "SignatureDoesNotMatch")
		return
	}
	h.verified.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(okBody)
}

// fresh reports whether ts is a UTC timestamp within 15 minutes of now.
func fresh(ts string) bool {
	t, err := time.Parse("2006-01-02T15:04:05Z", ts)
	if err != nil {
		return false
	}
	d := time.Since(t)
	return -15*time.Minute < d && d < 15*time.Minute
}

func (h *Handler) fail(w http.ResponseWriter, status int, code string) {
	h.rejected.Add(1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"RequestId":"00000000-0000-0000-0000-000000000000","HostId":"rds.aliyuncs.com","Code":"` +
		code + `","Message":"rejected by the benchmark server"}`))
}

// Transport serves each request by calling the handler through
// [httptest.NewRecorder]: no sockets, so a benchmark through it measures the
// client's own cost (plus the handler's, which is the same for every client).
type Transport struct {
	Handler http.Handler
}

// RoundTrip implements [http.RoundTripper]. It hands the handler a shallow
// copy of req, as a server would hand it its own request.
func (t Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	sr := new(http.Request)
	*sr = *req
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	sr.Form, sr.PostForm = nil, nil
	sr.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	t.Handler.ServeHTTP(rec, sr)
	if req.Body != nil {
		_ = req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
