// Package copydb is a client for one ApsaraDB RDS operation,
// CopyDatabaseBetweenInstances (RDS API 2014-08-15): it copies SQL Server
// databases from one RDS instance to another, optionally from a backup set or
// a point in time.
//
//	client, err := copydb.New(copydb.WithRegion("cn-hangzhou"))
//	if err != nil { ... }
//	resp, err := client.CopyDatabaseBetweenInstances(ctx, &copydb.CopyDatabaseBetweenInstancesRequest{
//		DBInstanceID:       "rm-uf6wjk5xxxxxxx",
//		TargetDBInstanceID: "rm-ut5ajk3xxxxxxx",
//		DBNames:            map[string]string{"sales": "sales_copy"},
//	})
//	switch {
//	case errors.Is(err, copydb.ErrStorageLimitExceeded): ...
//	case errors.Is(err, copydb.ErrOutcomeUnknown): ... // check the target before sending again
//	}
//
// Besides the raw call, [Client.Preflight] checks the documented conditions
// of a copy before it is sent, [Client.WaitForCopy] follows a running copy to
// the end and [Client.Copy] does all three safely in one call.
//
// # Authentication
//
// Requests are signed with signature version 1.0 (HMAC-SHA1); [Sign] and
// [StringToSign] expose the algorithm. Credentials come from
// [WithAccessKey], [WithCredentials] or, by default, [DefaultCredentials]
// (the ALIBABA_CLOUD_* environment variables, then
// ~/.alibabacloud/credentials). They are fetched once per call, before any
// I/O; a missing key is reported like any invalid field.
//
// No AccessKeySecret, SecurityToken or Signature ever appears in an error, a
// log line or the fmt output of any value of this package; an AccessKeyId is
// shown at most as its first 4 characters ([MaskAccessKeyID]).
//
// # Retries and idempotency
//
// CopyDatabaseBetweenInstances is not idempotent: sending it twice can start
// two copies. The client therefore retries it only when the service cannot
// have acted: the connection never carried the request (DNS, dial, TLS
// handshake failures) or the service refused it for its rate (Throttling*,
// HTTP 429), with capped, fully jittered exponential backoff that honours a
// (capped) Retry-After. Every attempt is signed afresh, with a new nonce and
// timestamp. A request that may have run (a timeout or reset after sending, a
// 5xx, a context that ends after sending) is never resent: the call returns
// an error matching [ErrOutcomeUnknown]. One more attempt is made after
// InvalidTimeStamp.Expired when the answer's Date header shows that the
// local clock is off, signed with the corrected time. The read operations
// (Describe*) are idempotent and are also retried on 5xx and timeouts.
// [WithRetry] sets the policy; the context bounds everything, backoff
// included.
//
// # Errors
//
// Every error can be matched with [errors.Is] against the sentinels
// ([ErrStorageLimitExceeded], [ErrThrottled], [ErrInstanceNotFound], ...),
// mapped from the service's error codes through one table, never from
// message text. [errors.As] reaches the details: [*APIError] (code, message,
// request id, HTTP status, attempts) for what the service said,
// [*ValidationError] for a request refused before sending (all of them,
// joined; see [ValidationErrors]), [*OutcomeUnknownError],
// [*TransportError] and [*ResponseError]. Error strings are one line and
// carry no URL, header or secret.
//
// # Testing
//
// Package [github.com/rdskit/copydb/copydbtest] is an in-process fake of the
// service, strict about signatures and the copy's conditions, in the spirit
// of net/http/httptest: plug its HTTPClient into [WithHTTPClient] and test
// your code without a cloud account. [HTTPClientFunc] scripts single
// answers.
package copydb

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Version is this library's version, sent in the User-Agent header.
const Version = "0.1.0"

// APIVersion is the RDS API version every request carries.
const APIVersion = "2014-08-15"

// HTTPClient sends one HTTP request and returns its response. *http.Client
// satisfies it. The client calls it once per attempt, with a request that is
// already signed; it must not retry or follow redirects on its own (an
// *http.Client given to [WithHTTPClient] is copied with redirects turned
// off).
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// HTTPClientFunc adapts a function to [HTTPClient], so that a test can
// answer requests without a socket.
type HTTPClientFunc func(*http.Request) (*http.Response, error)

// Do calls f(r).
func (f HTTPClientFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// Format is the response format asked of the service.
type Format string

// Response formats.
const (
	FormatJSON Format = "JSON"
	FormatXML  Format = "XML"
)

// RetryPolicy says how often and how patiently a call is retried when a retry
// is safe (see the package documentation for when it is).
type RetryPolicy struct {
	// MaxAttempts is the most times a request is sent, the first included;
	// 1 turns retries off. It must be at least 1.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the wait before a retry: the n-th retry
	// waits a random time in [0, min(MaxBackoff, MinBackoff·2ⁿ)] ("full
	// jitter"), or as long as the service's Retry-After asks, but never more
	// than MaxBackoff. Both zero retries at once (for tests).
	MinBackoff, MaxBackoff time.Duration
}

// defaultRetryPolicy is the policy of a client made without [WithRetry].
func defaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

// maxResponseBody bounds every read of a response body.
const maxResponseBody = 1 << 20

// Client calls the RDS API. Make one with [New]; it is immutable and safe
// for concurrent use by many goroutines.
type Client struct {
	endpoint  *url.URL
	region    string
	creds     CredentialsProvider
	http      HTTPClient
	retry     RetryPolicy
	format    Format
	userAgent string
	logger    *slog.Logger // nil: silent
	now       func() time.Time
	nonce     func() (string, error)
	jitter    func(n int64) int64 // uniform in [0, n)
}

// Option configures a [Client]. Options check their input; [New] returns
// the first error.
type Option func(*settings) error

type settings struct {
	endpoint  string
	region    string
	creds     CredentialsProvider
	http      HTTPClient
	retry     *RetryPolicy
	format    Format
	userAgent string
	logger    *slog.Logger
	now       func() time.Time
}

// New returns a client. Without options it signs with
// [DefaultCredentials], talks HTTPS to the endpoint of the region in
// ALIBABA_CLOUD_REGION_ID, asks for JSON and retries safe failures up to 3
// attempts with waits of 200 ms to 5 s (see [WithRetry]). It fails when no
// region or endpoint is known or an option is invalid; credentials are only
// fetched when a call is made.
func New(opts ...Option) (*Client, error) {
	var s settings
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("copydb: nil Option")
		}
		if err := o(&s); err != nil {
			return nil, err
		}
	}
	if s.region == "" {
		s.region = os.Getenv(EnvRegionID)
	}
	if s.region == "" {
		return nil, errors.New("copydb: no region: use WithRegion or set " + EnvRegionID)
	}
	if !regionPattern.MatchString(s.region) {
		return nil, fmt.Errorf("copydb: region %q: not a region id such as cn-hangzhou", truncate(s.region))
	}
	if s.endpoint == "" {
		ep, err := EndpointForRegion(s.region)
		if err != nil {
			return nil, err
		}
		s.endpoint = ep
	}
	ep, err := parseEndpoint(s.endpoint)
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint:  ep,
		region:    s.region,
		creds:     s.creds,
		http:      s.http,
		retry:     defaultRetryPolicy(),
		format:    FormatJSON,
		userAgent: "copydb/" + Version + " (Go)",
		logger:    s.logger,
		now:       s.now,
		nonce:     newNonce,
		jitter:    mrand.Int64N,
	}
	if c.creds == nil {
		c.creds = DefaultCredentials()
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	if s.retry != nil {
		c.retry = *s.retry
	}
	if s.format != "" {
		c.format = s.format
	}
	if s.userAgent != "" {
		c.userAgent += " " + s.userAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Format prints the client without its credentials.
func (c *Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "copydb.Client{endpoint: %s, region: %s, credentials: %v}", c.endpoint, c.region, c.creds)
}

// Region returns the region id the client sends as RegionId.
func (c *Client) Region() string { return c.region }

// Endpoint returns the URL the client sends requests to.
func (c *Client) Endpoint() string { return c.endpoint.String() }

// WithAccessKey signs with a fixed AccessKey pair.
func WithAccessKey(id, secret string) Option {
	return func(s *settings) error {
		if id == "" || secret == "" {
			return errors.New("copydb: WithAccessKey: id and secret must both be set")
		}
		s.creds = StaticCredentials(id, secret, "")
		return nil
	}
}

// WithCredentials signs with the credentials p returns at each call.
func WithCredentials(p CredentialsProvider) Option {
	return func(s *settings) error {
		if p == nil {
			return errors.New("copydb: WithCredentials: nil provider")
		}
		s.creds = p
		return nil
	}
}

// WithRegion sets the region (RegionId) and with it the endpoint, unless
// [WithEndpoint] names one.
func WithRegion(regionID string) Option {
	return func(s *settings) error {
		if !regionPattern.MatchString(regionID) {
			return fmt.Errorf("copydb: WithRegion: %q is not a region id such as cn-hangzhou", truncate(regionID))
		}
		s.region = regionID
		return nil
	}
}

// WithEndpoint overrides the endpoint chosen by region: an https URL, or an
// http URL of a loopback host (for tests and the fake). The path must be
// empty or "/".
func WithEndpoint(rawURL string) Option {
	return func(s *settings) error {
		if _, err := parseEndpoint(rawURL); err != nil {
			return err
		}
		s.endpoint = rawURL
		return nil
	}
}

// WithHTTPClient sends each attempt through c. An *http.Client is copied with
// redirects turned off, since following one would resend the signed request
// elsewhere.
func WithHTTPClient(c HTTPClient) Option {
	return func(s *settings) error {
		if c == nil {
			return errors.New("copydb: WithHTTPClient: nil client")
		}
		if hc, ok := c.(*http.Client); ok {
			if hc == nil {
				return errors.New("copydb: WithHTTPClient: nil *http.Client")
			}
			cp := *hc
			cp.CheckRedirect = noRedirect
			c = &cp
		}
		s.http = c
		return nil
	}
}

// WithRetry sets the retry policy. Without it a client makes at most 3
// attempts and waits between 200 ms and 5 s (MinBackoff 200 ms, MaxBackoff
// 5 s).
func WithRetry(p RetryPolicy) Option {
	return func(s *settings) error {
		switch {
		case p.MaxAttempts < 1:
			return fmt.Errorf("copydb: WithRetry: MaxAttempts %d: must be at least 1 (1 turns retries off)", p.MaxAttempts)
		case p.MaxAttempts > 100:
			return fmt.Errorf("copydb: WithRetry: MaxAttempts %d: at most 100", p.MaxAttempts)
		case p.MinBackoff < 0 || p.MaxBackoff < 0:
			return errors.New("copydb: WithRetry: backoffs must not be negative")
		case p.MaxBackoff < p.MinBackoff:
			return errors.New("copydb: WithRetry: MaxBackoff must not be less than MinBackoff")
		}
		s.retry = &p
		return nil
	}
}

// WithLogger logs each attempt, answer and retry at Debug and Info level,
// with the AccessKeyId masked and no secret, signature or query string.
// Without it the client is silent.
func WithLogger(l *slog.Logger) Option {
	return func(s *settings) error {
		s.logger = l
		return nil
	}
}

// WithUserAgent appends s to the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(s *settings) error {
		if strings.ContainsFunc(ua, func(r rune) bool { return r < 0x20 || r == 0x7f }) || len(ua) > 256 {
			return errors.New("copydb: WithUserAgent: must be at most 256 printable characters")
		}
		s.userAgent = ua
		return nil
	}
}

// WithFormat asks the service for JSON (the default) or XML answers. Both
// are decoded either way.
func WithFormat(f Format) Option {
	return func(s *settings) error {
		if f != FormatJSON && f != FormatXML {
			return fmt.Errorf("copydb: WithFormat: %q: use FormatJSON or FormatXML", truncate(string(f)))
		}
		s.format = f
		return nil
	}
}

// WithClock replaces the clock used for each request's Timestamp and for
// checking RestoreTime. Tests pair it with a fake service's clock.
func WithClock(now func() time.Time) Option {
	return func(s *settings) error {
		if now == nil {
			return errors.New("copydb: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// noRedirect stops an *http.Client from following redirects.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// defaultHTTPClient is used when no WithHTTPClient is given: TLS 1.2 or
// later with certificate checks, bounded dial and header timeouts, an overall
// bound of one minute, and no redirects.
func defaultHTTPClient() *http.Client {
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
	}
	return &http.Client{Transport: t, CheckRedirect: noRedirect, Timeout: time.Minute}
}

// newNonce returns a random (version 4) UUID from crypto/rand.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := crand.Read(b[:]); err != nil {
		return "", fmt.Errorf("copydb: nonce: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:]), nil
}

// CopyDatabaseBetweenInstancesResponse is the service's answer to an accepted
// copy. The copy itself goes on in the background; see [Client.WaitForCopy].
type CopyDatabaseBetweenInstancesResponse struct {
	// RequestID identifies the request at the service.
	RequestID string `json:"RequestId" xml:"RequestId"`
	// DBInstanceID is the instance the service names in its answer; older
	// revisions of the service return it, newer ones may leave it empty.
	DBInstanceID string `json:"DBInstanceId" xml:"DBInstanceId"`
}

func (r *CopyDatabaseBetweenInstancesResponse) requestID() string { return r.RequestID }

// CopyDatabaseBetweenInstances validates req, then sends it once (more only
// when a retry cannot start a second copy; see the package documentation).
// Nothing is sent when validation fails or ctx is already done.
func (c *Client) CopyDatabaseBetweenInstances(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest) (*CopyDatabaseBetweenInstancesResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("copydb: %s not sent: %w", ActionCopyDatabaseBetweenInstances, err)
	}
	verr := req.validate(c.now())
	creds, cerr := c.credentials(ctx)
	if err := errors.Join(verr, cerr); err != nil {
		return nil, err
	}
	params, err := req.params()
	if err != nil {
		return nil, err
	}
	out := new(CopyDatabaseBetweenInstancesResponse)
	if err := c.call(ctx, ActionCopyDatabaseBetweenInstances, params, creds, false, out); err != nil {
		return nil, err
	}
	return out, nil
}

// credentials fetches and checks the call's credentials, before any I/O.
func (c *Client) credentials(ctx context.Context) (Credentials, error) {
	creds, err := c.creds.Credentials(ctx)
	if err != nil {
		return Credentials{}, &ValidationError{Field: "AccessKeyId", Reason: "no credentials: " + oneLine(err.Error()), Err: errors.Join(ErrInvalidCredentials, err)}
	}
	if err := creds.validate(); err != nil {
		return Credentials{}, err
	}
	return creds, nil
}
