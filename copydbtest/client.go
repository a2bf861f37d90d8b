package copydbtest

import (
	"net/http/httptest"

	"github.com/rdskit/copydb"
)

// Region is the region of the clients [Fake.Client] and [Fake.ServerClient]
// make, and of instances added without a RegionID.
const Region = "cn-hangzhou"

// HTTPClient returns a [copydb.HTTPClient] that serves requests with the fake
// in memory, with no sockets: plug it into [copydb.WithHTTPClient]. It
// honours the request's context, fires the request's
// [net/http/httptrace.ClientTrace] hooks as a connection would, and reports
// a dropped connection as a *url.Error wrapping [io.ErrUnexpectedEOF].
func (f *Fake) HTTPClient() copydb.HTTPClient {
	return memClient{f: f}
}

// Options returns the client options that match the fake: its first
// credentials, region [Region], its clock, and retries (3 attempts) with no
// waits. [Fake.Client] and [Fake.ServerClient] start from them.
func (f *Fake) Options() []copydb.Option {
	k := f.keys[0]
	return []copydb.Option{
		copydb.WithCredentials(copydb.StaticCredentials(k.id, k.secret, k.token)),
		copydb.WithRegion(Region),
		copydb.WithClock(f.now),
		copydb.WithRetry(copydb.RetryPolicy{MaxAttempts: 3}),
	}
}

// InMemoryEndpoint is the endpoint [Fake.Client] gives its client. No
// request goes there: [Fake.HTTPClient] answers in memory. The reserved .invalid
// name makes plain, in logs too, that the real service is not involved.
const InMemoryEndpoint = "https://copydbtest.invalid/"

// Client returns a client wired to the fake in memory ([Fake.HTTPClient],
// endpoint [InMemoryEndpoint]) with [Fake.Options]; opts are applied last and
// override them.
func (f *Fake) Client(opts ...copydb.Option) (*copydb.Client, error) {
	all := append(f.Options(), copydb.WithEndpoint(InMemoryEndpoint), copydb.WithHTTPClient(f.HTTPClient()))
	return copydb.New(append(all, opts...)...)
}

// ServerClient returns a client that talks HTTP to srv, a server started
// with [Fake.StartServer], with [Fake.Options]; opts are applied last.
func (f *Fake) ServerClient(srv *httptest.Server, opts ...copydb.Option) (*copydb.Client, error) {
	all := append(f.Options(), copydb.WithEndpoint(srv.URL), copydb.WithHTTPClient(srv.Client()))
	return copydb.New(append(all, opts...)...)
}
