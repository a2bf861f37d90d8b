package copydbtest

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// t0 is the fake's time at the start of every test.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock { return &testClock{t: t0} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newFake returns a fake on a test clock with two compatible SQL Server
// instances: rm-src (databases sales 1 GiB, hr 2 GiB, secret with TDE) and
// rm-dst (10 GiB, database existing 1 GiB), and a backup 100001 of rm-src.
func newFake(t *testing.T, opts ...Option) (*Fake, *testClock) {
	t.Helper()
	clk := newClock()
	f := New(append([]Option{WithClock(clk.Now)}, opts...)...)
	f.AddInstance(Instance{ID: "rm-src"})
	f.AddInstance(Instance{ID: "rm-dst", StorageGB: 10})
	f.AddDatabase("rm-src", Database{Name: "sales", SizeBytes: 1 << 30})
	f.AddDatabase("rm-src", Database{Name: "hr", SizeBytes: 2 << 30})
	f.AddDatabase("rm-src", Database{Name: "secret", SizeBytes: 1 << 20, TDE: true})
	f.AddDatabase("rm-dst", Database{Name: "existing", SizeBytes: 1 << 30})
	f.AddBackup("rm-src", Backup{
		ID: "100001", Start: t0.Add(-26 * time.Hour), End: t0.Add(-25 * time.Hour),
		Databases: []string{"sales", "hr"}, Available: true,
	})
	return f, clk
}

// params returns the common parameters of a correctly signed request (the
// Signature is added by signed) plus the operation's.
func params(action string, now time.Time, op map[string]string) url.Values {
	v := url.Values{
		"Action":           {action},
		"Version":          {apiVersion},
		"Format":           {"JSON"},
		"AccessKeyId":      {AccessKeyID},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureVersion": {"1.0"},
		"SignatureNonce":   {newRequestID()},
		"Timestamp":        {now.UTC().Format(timestampLayout)},
		"RegionId":         {"cn-hangzhou"},
	}
	for k, val := range op {
		v.Set(k, val)
	}
	return v
}

// signed sets the Signature of v for the method and secret and returns v.
func signed(method string, v url.Values, secret string) url.Values {
	v.Del("Signature")
	v.Set("Signature", copydb.Sign(method, v, secret))
	return v
}

// encode writes v as a query with the RPC percent-encoding, sorted by name.
func encodeParams(v url.Values) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(v)) {
		for _, val := range v[k] {
			parts = append(parts, copydb.PercentEncode(k)+"="+copydb.PercentEncode(val))
		}
	}
	return strings.Join(parts, "&")
}

// serve sends one hand-built request to the fake: query in the URL, form as
// a form body (either may be empty).
func serve(f *Fake, method, query, form string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/?"+query, strings.NewReader(form))
	if form != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	w := httptest.NewRecorder()
	f.ServeHTTP(w, r)
	return w
}

// rpc sends a correctly signed POST with every parameter in the query and
// decodes the JSON answer.
func rpc(t *testing.T, f *Fake, clk *testClock, action string, op map[string]string) (int, map[string]any) {
	t.Helper()
	v := signed(http.MethodPost, params(action, clk.Now(), op), AccessKeySecret)
	w := serve(f, http.MethodPost, encodeParams(v), "")
	var out map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s: answer is not JSON: %v\n%s", action, err, w.Body)
	}
	return w.Code, out
}

// wantCode asserts the status and error code of an answer ("" for success).
func wantCode(t *testing.T, status int, body map[string]any, wantStatus int, wantCode string) {
	t.Helper()
	code, _ := body["Code"].(string)
	if diff := cmp.Diff([2]any{wantStatus, wantCode}, [2]any{status, code}); diff != "" {
		t.Errorf("status, code (-want +got):\n%s\nbody: %v", diff, body)
	}
}
