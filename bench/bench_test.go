package bench_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/rds"
	"github.com/rdskit/copydb"
	"github.com/rdskit/copydb/bench/internal/fake"
	"github.com/rdskit/copydb/bench/internal/floor"
)

// callFunc makes one CopyDatabaseBetweenInstances call with the shared inputs
// and returns the RequestId the client parsed from the answer.
type callFunc func(context.Context) (string, error)

// A contender builds a client aimed at endpoint (loopback) or, when rt is not
// nil, at the in-memory transport rt.
type contender struct {
	name string
	new  func(b *testing.B, endpoint string, rt http.RoundTripper) callFunc
}

// contenders is extended by copydb_test.go; benchstat columns follow the
// sub-benchmark name client=<name>.
var contenders = []contender{
	{"sdk", newSDK},
	{"floor", newFloor},
}

// newSDK returns the official SDK client with its defaults (retries off),
// aimed at the endpoint over plain HTTP, or at rt.
func newSDK(b *testing.B, endpoint string, rt http.RoundTripper) callFunc {
	c, err := rds.NewClientWithAccessKey(fake.Region, fake.AccessKeyID, fake.AccessKeySecret)
	if err != nil {
		b.Fatal(err)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		b.Fatal(err)
	}
	c.Domain = u.Host // the default scheme is HTTP
	if rt != nil {
		c.SetTransport(rt)
	}
	b.Cleanup(c.Shutdown)
	return func(context.Context) (string, error) {
		req := rds.CreateCopyDatabaseBetweenInstancesRequest()
		req.DBInstanceId = fake.SourceInstance
		req.TargetDBInstanceId = fake.TargetInstance
		req.DbNames = fake.DBNamesJSON
		req.SyncUserPrivilege = fake.SyncUserPrivilege
		resp, err := c.CopyDatabaseBetweenInstances(req)
		if err != nil {
			return "", err
		}
		return resp.RequestId, nil
	}
}

// newFloor returns the hand-written net/http client.
func newFloor(b *testing.B, endpoint string, rt http.RoundTripper) callFunc {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	if rt != nil {
		hc.Transport = rt
	}
	b.Cleanup(hc.CloseIdleConnections)
	c := &floor.Client{HTTP: hc, Endpoint: endpoint, KeyID: fake.AccessKeyID, Secret: fake.AccessKeySecret, Region: fake.Region}
	in := floor.Request{
		DBInstanceID:       fake.SourceInstance,
		TargetDBInstanceID: fake.TargetInstance,
		DBNamesJSON:        fake.DBNamesJSON,
		SyncUserPrivilege:  fake.SyncUserPrivilege,
	}
	return func(ctx context.Context) (string, error) { return c.Call(ctx, in) }
}

// endpoint is what every client is given; the handler counts what it verifies.
type setup struct {
	handler  *fake.Handler
	endpoint string
	rt       http.RoundTripper
	conns    *atomic.Int64 // connections the loopback server accepted
}

func loopback(b *testing.B) setup {
	h := new(fake.Handler)
	conns := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	return setup{handler: h, endpoint: srv.URL + "/", conns: conns}
}

// reportConns reports the connections the server accepted per timed call
// (since the untimed check), so that a client that does not reuse
// connections shows up in the table.
func reportConns(b *testing.B, s setup, before int64) {
	if s.conns != nil && b.N > 0 {
		b.ReportMetric(float64(s.conns.Load()-before)/float64(b.N), "conns/op")
	}
}

func inMemory() setup {
	h := new(fake.Handler)
	// The host is never dialled: the transport hands the request to h.
	return setup{handler: h, endpoint: "http://127.0.0.1:9/", rt: fake.Transport{Handler: h}}
}

// check makes one untimed call and fails the benchmark unless the server
// verified a correctly signed request and the client returned its RequestId.
func check(b *testing.B, s setup, call callFunc) {
	b.Helper()
	before := s.handler.Verified()
	id, err := call(context.Background())
	if err != nil {
		b.Fatalf("untimed call: %v", err)
	}
	if got := s.handler.Verified() - before; got != 1 {
		b.Fatalf("untimed call: server verified %d requests, want 1 (rejected so far: %d)", got, s.handler.Rejected())
	}
	if id != fake.RequestID {
		b.Fatalf("untimed call: RequestId %q, want %q", id, fake.RequestID)
	}
}

func runSerial(b *testing.B, s setup, call callFunc) {
	check(b, s, call)
	var conns int64
	if s.conns != nil {
		conns = s.conns.Load()
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		id, err := call(ctx)
		if err != nil || id != fake.RequestID {
			b.Fatalf("call: id %q, err %v", id, err)
		}
	}
	reportConns(b, s, conns)
	if r := s.handler.Rejected(); r != 0 {
		b.Fatalf("server rejected %d requests", r)
	}
}

// BenchmarkCall: one call at a time over a loopback socket.
func BenchmarkCall(b *testing.B) {
	for _, c := range contenders {
		b.Run("client="+c.name, func(b *testing.B) {
			s := loopback(b)
			runSerial(b, s, c.new(b, s.endpoint, nil))
		})
	}
}

// BenchmarkCallInMemory: one call at a time through the in-memory transport,
// the client's own cost plus the shared handler's.
func BenchmarkCallInMemory(b *testing.B) {
	for _, c := range contenders {
		b.Run("client="+c.name, func(b *testing.B) {
			s := inMemory()
			runSerial(b, s, c.new(b, s.endpoint, s.rt))
		})
	}
	b.Run("client=none", inMemoryBaseline)
}

// inMemoryBaseline (client=none) sends one prebuilt signed request through
// the same in-memory transport and handler, with no client at all. It is the
// share of every CallInMemory number that is not the client's: subtract it to
// get a client's own cost.
func inMemoryBaseline(b *testing.B) {
	{
		s := inMemory()
		var req *http.Request
		capture := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			req = r
			return s.rt.RoundTrip(r)
		})
		if _, err := newFloor(b, s.endpoint, capture)(context.Background()); err != nil || req == nil {
			b.Fatalf("preparing the request: %v", err)
		}
		call := func(context.Context) (string, error) {
			resp, err := s.rt.RoundTrip(req)
			if err != nil {
				return "", err
			}
			defer resp.Body.Close()
			var out struct {
				RequestID string `json:"RequestId"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			return out.RequestID, err
		}
		runSerial(b, s, call)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkCallParallel: GOMAXPROCS goroutines share one client over loopback.
func BenchmarkCallParallel(b *testing.B) {
	for _, c := range contenders {
		b.Run("client="+c.name, func(b *testing.B) {
			s := loopback(b)
			call := c.new(b, s.endpoint, nil)
			check(b, s, call)
			conns := s.conns.Load()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					id, err := call(ctx)
					if err != nil || id != fake.RequestID {
						b.Errorf("call: id %q, err %v", id, err)
						return
					}
				}
			})
			b.StopTimer()
			reportConns(b, s, conns)
			if r := s.handler.Rejected(); r != 0 {
				b.Fatalf("server rejected %d requests", r)
			}
		})
	}
}

// signParams is the full parameter set of one call, nonce and timestamp fixed.
func signParams() url.Values {
	return url.Values{
		"Action":             {"CopyDatabaseBetweenInstances"},
		"Version":            {"2014-08-15"},
		"Format":             {"JSON"},
		"AccessKeyId":        {fake.AccessKeyID},
		"SignatureMethod":    {"HMAC-SHA1"},
		"SignatureVersion":   {"1.0"},
		"SignatureNonce":     {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"Timestamp":          {"2016-02-23T12:46:24Z"},
		"RegionId":           {fake.Region},
		"DBInstanceId":       {fake.SourceInstance},
		"TargetDBInstanceId": {fake.TargetInstance},
		"DbNames":            {fake.DBNamesJSON},
		"SyncUserPrivilege":  {fake.SyncUserPrivilege},
	}
}

// BenchmarkSign: signing alone. copydb and the floor sign the same fixed
// parameter set; the SDK's exported signer (auth.Sign) cannot be given a
// nonce or timestamp, so its number includes making them.
func BenchmarkSign(b *testing.B) {
	p := signParams()
	want := copydb.Sign(http.MethodPost, p, fake.AccessKeySecret)
	b.Run("client=copydb", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if copydb.Sign(http.MethodPost, p, fake.AccessKeySecret) == "" {
				b.Fatal("empty signature")
			}
		}
	})
	b.Run("client=sdk", func(b *testing.B) {
		req := rds.CreateCopyDatabaseBetweenInstancesRequest()
		req.DBInstanceId = fake.SourceInstance
		req.TargetDBInstanceId = fake.TargetInstance
		req.DbNames = fake.DBNamesJSON
		req.SyncUserPrivilege = fake.SyncUserPrivilege
		if err := requests.InitParams(req); err != nil {
			b.Fatal(err)
		}
		prov := credentials.NewStaticAKCredentialsProvider(fake.AccessKeyID, fake.AccessKeySecret)
		if err := auth.Sign(req, nil, fake.Region, prov); err != nil {
			b.Fatal(err)
		}
		// The SDK's signature must verify like any other.
		q := url.Values{}
		for k, v := range req.GetQueryParams() {
			q.Set(k, v)
		}
		if got := copydb.Sign(http.MethodPost, q, fake.AccessKeySecret); got != q.Get("Signature") {
			b.Fatalf("SDK signature %q does not verify (want %q)", q.Get("Signature"), got)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := auth.Sign(req, nil, fake.Region, prov); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("client=floor", func(b *testing.B) {
		if got := floor.Sign(http.MethodPost, p, fake.AccessKeySecret); got != want {
			b.Fatalf("floor signature %q, copydb %q", got, want)
		}
		b.ReportAllocs()
		for b.Loop() {
			if floor.Sign(http.MethodPost, p, fake.AccessKeySecret) == "" {
				b.Fatal("empty signature")
			}
		}
	})
}

// TestSignersAgree pins the shared signer against the documented example, so
// the handler's verdicts mean something.
func TestSignersAgree(t *testing.T) {
	p := url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	const want = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
	if got := copydb.Sign(http.MethodGet, p, "testsecret"); got != want {
		t.Errorf("copydb.Sign = %q, want %q", got, want)
	}
	if got := floor.Sign(http.MethodGet, p, "testsecret"); got != want {
		t.Errorf("floor.Sign = %q, want %q", got, want)
	}
	if got, want := floor.Escape("a b*c~d+e/f:g=h&i'j(k)l!m"), "a%20b%2Ac~d%2Be%2Ff%3Ag%3Dh%26i%27j%28k%29l%21m"; got != want {
		t.Errorf("floor.Escape = %q, want %q", got, want)
	}
	if strings.Contains(floor.Escape("中文"), "+") {
		t.Error("floor.Escape wrote +")
	}
}
