package copydb

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// skewThreshold is the clock difference, read from a Date header, that
// explains an InvalidTimeStamp.Expired answer and earns one re-signed retry.
const skewThreshold = time.Minute

// drainLimit is how much of an unread body is drained so that the connection
// can be reused.
const drainLimit = 4 << 10

// call is the state of one API call across its attempts. The retry loop
// (go-retryablehttp) drives it: RoundTrip signs and sends one attempt,
// checkRetry decides whether another is safe, backoff says how long to wait.
type call struct {
	c          *Client
	ctx        context.Context
	action     string
	creds      Credentials
	idempotent bool

	// kv holds the parameters as sorted name, value pairs (n0, v0, n1, ...);
	// the nonce and timestamp values are filled in per attempt.
	kv              []string
	nonceAt, timeAt int

	attempts   int
	skew       time.Duration // added to the local clock when signing
	skewRetry  bool          // the one clock-skew retry was used
	inBackoff  bool
	signatures []string // every signature sent, to scrub from errors
	lastSTS    string   // the last string to sign

	// outcome of the last attempt
	sent    bool  // the request may have reached the service
	tErr    error // transport error of the last attempt
	status  int
	header  http.Header
	body    []byte
	bodyErr error // error while reading the body
	apiErr  *APIError
	started time.Time
}

// call sends one API request with retries and decodes a successful answer
// into out.
func (c *Client) call(ctx context.Context, action string, params url.Values, creds Credentials, idempotent bool, out responseBody) error {
	st := &call{c: c, ctx: ctx, action: action, creds: creds, idempotent: idempotent}
	st.kv, st.nonceAt, st.timeAt = c.signedParams(action, params, creds)

	rc := &retryablehttp.Client{
		HTTPClient:   &http.Client{Transport: st, CheckRedirect: noRedirect},
		RetryWaitMin: c.retry.MinBackoff,
		RetryWaitMax: c.retry.MaxBackoff,
		RetryMax:     c.retry.MaxAttempts - 1,
		CheckRetry:   st.checkRetry,
		Backoff:      st.backoff,
		ErrorHandler: st.giveUp,
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, c.endpoint.String(), nil)
	if err != nil {
		return fmt.Errorf("copydb: %s: %w", action, err)
	}
	resp, err := rc.Do(req)
	if err != nil {
		return st.failure(err)
	}
	resp.Body.Close() // the body was read (bounded) in checkRetry
	return st.result(out)
}

// param is one request parameter.
type param struct{ name, value string }

// signedParams merges the operation's parameters with the common ones and
// returns them as sorted name, value pairs, with the indexes of the nonce and
// timestamp values that each attempt fills in. Any Signature in params is
// dropped; a common parameter replaces an operation parameter of its name.
func (c *Client) signedParams(action string, params url.Values, creds Credentials) (kv []string, nonceAt, timeAt int) {
	common := []param{
		{"AccessKeyId", creds.AccessKeyID},
		{"Action", action},
		{"Format", string(c.format)},
		{"RegionId", c.region},
		{"SecurityToken", creds.SecurityToken},
		{"SignatureMethod", "HMAC-SHA1"},
		{"SignatureNonce", ""},
		{"SignatureVersion", "1.0"},
		{"Timestamp", ""},
		{"Version", APIVersion},
	}
	all := make([]param, 0, len(params)+len(common))
	for _, p := range common {
		if p.name != "SecurityToken" || p.value != "" {
			all = append(all, p)
		}
	}
	for name, values := range params {
		if name == "Signature" || slices.ContainsFunc(common, func(p param) bool { return p.name == name }) {
			continue
		}
		for _, v := range values {
			all = append(all, param{name, v})
		}
	}
	slices.SortStableFunc(all, func(a, b param) int { return strings.Compare(a.name, b.name) })
	kv = make([]string, 0, 2*len(all))
	for _, p := range all {
		switch p.name {
		case "SignatureNonce":
			nonceAt = len(kv) + 1
		case "Timestamp":
			timeAt = len(kv) + 1
		}
		kv = append(kv, p.name, p.value)
	}
	return kv, nonceAt, timeAt
}

// RoundTrip signs and sends one attempt through the user's HTTPClient. The
// outer request carries no query at all, so nothing signed can leak through
// the errors net/http wraps around it.
func (st *call) RoundTrip(outer *http.Request) (*http.Response, error) {
	st.inBackoff = false
	st.attempts++
	st.sent, st.tErr, st.status, st.header, st.body, st.bodyErr, st.apiErr = false, nil, 0, nil, nil, nil, nil
	c := st.c

	nonce, err := c.nonce()
	if err != nil {
		return nil, err
	}
	st.kv[st.nonceAt] = nonce
	st.kv[st.timeAt] = c.now().Add(st.skew).UTC().Format(timeLayout)
	query := joinPairs(st.kv)
	sts := stringToSignFromQuery(http.MethodPost, query)
	sig := signString(sts, st.creds.AccessKeySecret)
	st.lastSTS = sts
	st.signatures = append(st.signatures, sig)

	var tr attemptTrace
	ctx := httptrace.WithClientTrace(outer.Context(), tr.clientTrace())
	u := *c.endpoint
	u.RawQuery = query + "&Signature=" + PercentEncode(sig)
	req := outer.Clone(ctx)
	req.URL = &u
	req.Host = ""
	req.Body = http.NoBody
	req.GetBody = nil
	req.ContentLength = 0
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json, text/xml;q=0.9")

	st.started = time.Now()
	if st.logging(slog.LevelDebug) {
		st.log(slog.LevelDebug, "copydb: sending", slog.String("host", c.endpoint.Host),
			slog.String("access_key_id", MaskAccessKeyID(st.creds.AccessKeyID)), slog.String("nonce", nonce))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if resp != nil && resp.Body != nil {
			resp.Body.Close()
		}
		st.sent = !tr.provablyNotSent(err)
		st.tErr = st.sanitize(err)
		if st.logging(slog.LevelDebug) {
			st.log(slog.LevelDebug, "copydb: transport error", slog.Bool("sent", st.sent), slog.String("error", st.tErr.Error()))
		}
		return nil, st.tErr
	}
	if resp == nil {
		st.sent = true
		st.tErr = errors.New("http client returned neither a response nor an error")
		return nil, st.tErr
	}
	st.sent = true
	if resp.Body == nil {
		resp.Body = http.NoBody
	}
	return resp, nil
}

// attemptTrace records how far an attempt got on the connection.
type attemptTrace struct {
	getConn, gotConn, wrote bool
}

func (t *attemptTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:      func(string) { t.getConn = true },
		GotConn:      func(httptrace.GotConnInfo) { t.gotConn = true },
		WroteHeaders: func() { t.wrote = true },
	}
}

// provablyNotSent reports whether the request certainly never reached the
// service: the failure happened while looking up, dialling or shaking hands,
// before a connection existed to write on.
func (t *attemptTrace) provablyNotSent(err error) bool {
	if t.wrote {
		return false
	}
	if t.getConn && !t.gotConn {
		return true
	}
	return isDialError(err)
}

// isDialError reports errors that can only arise before a request is
// written: DNS, dial and TLS handshake failures.
func isDialError(err error) bool {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var recErr tls.RecordHeaderError
	return errors.As(err, &dnsErr) ||
		errors.As(err, &opErr) && opErr.Op == "dial" ||
		errors.As(err, &recErr) ||
		isCertError(err)
}

// isCertError reports a failed certificate check in the TLS handshake.
func isCertError(err error) bool {
	var certErr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invErr x509.CertificateInvalidError
	return errors.As(err, &certErr) || errors.As(err, &uaErr) || errors.As(err, &hostErr) || errors.As(err, &invErr)
}

// permanent reports not-sent errors that a retry cannot cure: certificate
// problems and names that do not exist.
func permanent(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound || isCertError(err)
}

// checkRetry reads the answer (bounded) and decides whether another attempt
// is safe and useful.
func (st *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		if resp != nil {
			st.readBody(resp)
		}
		return false, nil
	}
	more := st.attempts < st.c.retry.MaxAttempts
	if err != nil {
		if !st.sent {
			return more && !permanent(err), nil
		}
		return more && st.idempotent, nil
	}
	st.readBody(resp)
	if st.bodyErr != nil {
		return more && st.idempotent, nil
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, nil
	}
	st.apiErr = st.decodeError()
	if st.apiErr != nil && errors.Is(st.apiErr, ErrThrottled) {
		return more, nil
	}
	if st.apiErr == nil && resp.StatusCode == http.StatusTooManyRequests {
		return more, nil
	}
	if st.apiErr != nil && st.apiErr.Code == "InvalidTimeStamp.Expired" && !st.skewRetry && more {
		if skew, ok := st.measureSkew(resp.Header.Get("Date")); ok {
			st.skew, st.skewRetry = skew, true
			st.log(slog.LevelInfo, "copydb: clock skew detected, signing again with the service's time", slog.Duration("skew", skew))
			return true, nil
		}
	}
	if st.idempotent && more {
		switch resp.StatusCode {
		case 500, 502, 503, 504:
			return true, nil
		}
	}
	return false, nil
}

// measureSkew returns how far the service's clock (its Date header) is from
// ours, when that explains a refused timestamp.
func (st *call) measureSkew(date string) (time.Duration, bool) {
	if date == "" {
		return 0, false
	}
	server, err := http.ParseTime(date)
	if err != nil {
		return 0, false
	}
	skew := server.Sub(st.c.now().Add(st.skew))
	if skew < skewThreshold && skew > -skewThreshold {
		return 0, false
	}
	return skew.Round(time.Second), true
}

// readBody reads the body once, at most maxResponseBody bytes, and puts it
// back as a bytes reader for the retry loop to drain.
func (st *call) readBody(resp *http.Response) {
	st.status = resp.StatusCode
	st.header = resp.Header
	if st.body != nil || st.bodyErr != nil {
		return
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	switch {
	case err != nil:
		st.bodyErr = st.sanitize(err)
		resp.Body.Close()
	case len(data) > maxResponseBody:
		st.bodyErr = errBodyTooLarge
		io.CopyN(io.Discard, resp.Body, drainLimit)
		resp.Body.Close()
	default:
		resp.Body.Close()
	}
	if data == nil {
		data = []byte{}
	}
	st.body = data
	resp.Body = io.NopCloser(bytes.NewReader(data))
	if st.logging(slog.LevelDebug) {
		st.log(slog.LevelDebug, "copydb: answer", slog.Int("status", resp.StatusCode),
			slog.String("request_id", st.requestID()), slog.Duration("elapsed", time.Since(st.started)))
	}
}

var errBodyTooLarge = fmt.Errorf("response body larger than %d bytes", maxResponseBody)

// backoff computes the wait before the next attempt: full jitter over
// min(MaxBackoff, MinBackoff·2ⁿ), at least Retry-After, never more than
// MaxBackoff; none after a clock-skew answer.
func (st *call) backoff(minWait, maxWait time.Duration, n int, resp *http.Response) time.Duration {
	st.inBackoff = true
	var wait time.Duration
	if !(st.apiErr != nil && st.apiErr.Code == "InvalidTimeStamp.Expired") {
		wait = fullJitter(minWait, maxWait, n, st.c.jitter)
		if resp != nil {
			if ra, ok := retryAfter(resp.Header.Get("Retry-After"), st.c.now()); ok && ra > wait {
				wait = ra
			}
		}
		wait = min(wait, maxWait)
	}
	reason := "transport error"
	if st.apiErr != nil {
		reason = st.apiErr.Code
	} else if st.status != 0 {
		reason = "http " + strconv.Itoa(st.status)
	}
	st.log(slog.LevelInfo, "copydb: retrying", slog.Int("attempt", st.attempts), slog.String("reason", reason), slog.Duration("wait", wait))
	return wait
}

// fullJitter returns a random wait in [0, min(maxWait, minWait·2ⁿ)].
func fullJitter(minWait, maxWait time.Duration, n int, rnd func(int64) int64) time.Duration {
	ceiling := maxWait
	if n < 62 && minWait > 0 && minWait <= maxWait>>uint(n) {
		ceiling = minWait << uint(n)
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rnd(int64(ceiling) + 1))
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	if h == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(strings.TrimSpace(h), 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(24*time.Hour/time.Second) {
			secs = int64(24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// giveUp is the retry loop's ErrorHandler: it keeps the last response, so
// that the caller gets a typed error from it, or the transport error.
func (st *call) giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		return resp, nil
	}
	return nil, err
}

// failure turns an error from the retry loop into the call's error.
func (st *call) failure(err error) error {
	ctxErr := contextErr(st.ctx, err)
	switch {
	case st.inBackoff && ctxErr != nil:
		// The last attempt was answered (and refused); the context ended
		// while waiting to retry.
		if st.apiErr != nil {
			return fmt.Errorf("copydb: %s: gave up waiting to retry: %w: last answer: %w", st.action, ctxErr, st.apiErr)
		}
		if st.tErr != nil {
			return fmt.Errorf("copydb: %s: gave up waiting to retry: %w: last attempt: %w", st.action, ctxErr, st.transportError())
		}
		return fmt.Errorf("copydb: %s: %w", st.action, ctxErr)
	case st.tErr == nil:
		// Nonce generation or another local failure before sending.
		return fmt.Errorf("copydb: %s: %w", st.action, st.sanitize(err))
	case !st.sent:
		if ctxErr != nil {
			return fmt.Errorf("copydb: %s not sent: %w", st.action, ctxErr)
		}
		return fmt.Errorf("copydb: %s not sent after %d attempts: %w", st.action, st.attempts, st.transportError())
	case st.idempotent:
		if ctxErr != nil {
			return fmt.Errorf("copydb: %s: %w: %w", st.action, ctxErr, st.transportError())
		}
		return fmt.Errorf("copydb: %s failed after %d attempts: %w", st.action, st.attempts, st.transportError())
	default:
		return &OutcomeUnknownError{Action: st.action, Attempts: st.attempts, Err: st.transportError(), ContextErr: ctxErr}
	}
}

func (st *call) transportError() *TransportError {
	return &TransportError{Method: http.MethodPost, Host: st.c.endpoint.Host, Sent: st.sent, Err: st.tErr}
}

// result interprets the final answer.
func (st *call) result(out responseBody) error {
	if st.bodyErr != nil {
		if errors.Is(st.bodyErr, errBodyTooLarge) {
			return st.unusable(&ResponseError{StatusCode: st.status, ContentType: st.header.Get("Content-Type"),
				RequestID: st.headerRequestID(), Reason: "answer too large: " + st.bodyErr.Error()})
		}
		st.tErr = st.bodyErr
		ctxErr := contextErr(st.ctx, st.bodyErr)
		if st.idempotent {
			return fmt.Errorf("copydb: %s: reading the answer: %w", st.action, errors.Join(st.transportError(), ctxErr))
		}
		return &OutcomeUnknownError{Action: st.action, Attempts: st.attempts, RequestID: st.headerRequestID(), Err: st.transportError(), ContextErr: ctxErr}
	}
	switch {
	case st.status >= 200 && st.status < 300:
		if mayBeError(st.body) {
			if e := st.decodeError(); e != nil {
				// An error-shaped body with a success status: the service
				// said no, whatever the status.
				return e
			}
		}
		if err := decodeBody(st.body, out); err != nil {
			return st.unusable(st.responseError("unreadable success answer: " + err.Error()))
		}
		if out.requestID() == "" {
			return st.unusable(st.responseError("success answer without a RequestId"))
		}
		return nil
	case st.status >= 300 && st.status < 400:
		loc := "elsewhere"
		if u, err := url.Parse(st.header.Get("Location")); err == nil && u.Host != "" {
			loc = "to " + u.Host
		}
		return st.responseError("redirect " + loc + " not followed (the signed request is never resent to another host)")
	}
	e := st.apiErr
	if e == nil {
		e = st.decodeError()
	}
	if e == nil {
		re := st.responseError("answer is not a JSON or XML error")
		if st.status >= 500 || st.status == http.StatusRequestTimeout {
			return st.unusable(re)
		}
		return re
	}
	if st.status >= 500 && !st.idempotent && !errors.Is(e, ErrThrottled) {
		return &OutcomeUnknownError{Action: st.action, Attempts: st.attempts, RequestID: e.RequestID, Err: e}
	}
	return e
}

// unusable wraps an unusable answer: for the copy, whether it ran is unknown.
func (st *call) unusable(re *ResponseError) error {
	if st.idempotent {
		return re
	}
	return &OutcomeUnknownError{Action: st.action, Attempts: st.attempts, RequestID: re.RequestID, Err: re}
}

func (st *call) responseError(reason string) *ResponseError {
	return &ResponseError{
		StatusCode:  st.status,
		ContentType: oneLine(truncate(st.header.Get("Content-Type"))),
		Snippet:     st.scrub(snippet(st.body)),
		RequestID:   st.headerRequestID(),
		Reason:      reason,
	}
}

// requestID is the request id of the last answer, from its body or header.
func (st *call) requestID() string {
	if st.apiErr != nil && st.apiErr.RequestID != "" {
		return st.apiErr.RequestID
	}
	if id := bodyRequestID(st.body); id != "" {
		return id
	}
	return st.headerRequestID()
}

func (st *call) headerRequestID() string {
	if st.header == nil {
		return ""
	}
	return oneLine(truncate(st.header.Get("x-acs-request-id")))
}

// decodeError parses an error body; nil if the body is not one.
func (st *call) decodeError() *APIError {
	e := parseErrorBody(st.body)
	if e == nil {
		return nil
	}
	e.StatusCode = st.status
	e.Action = st.action
	e.Attempts = st.attempts
	if e.RequestID == "" {
		e.RequestID = st.headerRequestID()
	}
	if e.Code == "SignatureDoesNotMatch" {
		// The explanation is appended after scrubbing: it quotes no value,
		// and scrubbing it could garble it.
		head, why := st.explainSignatureMismatch(e.Message)
		e.Message = st.scrub(head) + why
	} else {
		e.Message = st.scrub(e.Message)
	}
	e.HostID = st.scrub(e.HostID)
	e.Recommend = st.scrub(e.Recommend)
	return e
}

// explainSignatureMismatch compares the string to sign the service echoes
// with the client's own, and says which side is likely at fault. The echoed
// string itself is dropped: it holds the AccessKeyId and SecurityToken.
func (st *call) explainSignatureMismatch(msg string) (head, why string) {
	const marker = "server string to sign is:"
	i := strings.Index(msg, marker)
	if i < 0 {
		return msg, ""
	}
	server := strings.TrimSpace(msg[i+len(marker):])
	head = strings.TrimSpace(msg[:i])
	if server == st.lastSTS {
		return head, " (the service signed the same string as the client: the AccessKeySecret is wrong)"
	}
	return head, " (the service signed a different string than the client: " + firstDifference(st.lastSTS, server) + "; an encoding difference, not a wrong secret)"
}

// firstDifference describes where two strings to sign part, without quoting
// parameter values.
func firstDifference(ours, theirs string) string {
	n := min(len(ours), len(theirs))
	i := 0
	for i < n && ours[i] == theirs[i] {
		i++
	}
	// Name the parameter being encoded at that point.
	prefix := ours[:i]
	if j := strings.LastIndex(prefix, "%26"); j >= 0 {
		prefix = prefix[j+3:]
	} else if j := strings.LastIndex(prefix, "&"); j >= 0 {
		prefix = prefix[j+1:]
	}
	name, _, _ := strings.Cut(prefix, "%3D")
	if name == "" {
		return fmt.Sprintf("they differ at byte %d", i)
	}
	return fmt.Sprintf("they differ at byte %d, in parameter %s", i, name)
}

// scrub removes every credential and signature of this call from s.
func (st *call) scrub(s string) string {
	s = scrubSecrets(s, st.creds)
	for _, sig := range st.signatures {
		s = replaceAllForms(s, sig, redacted)
	}
	return s
}

// scrubSecrets replaces the secret, the token and the full AccessKeyId in s,
// raw or percent-encoded once or twice.
func scrubSecrets(s string, c Credentials) string {
	s = replaceAllForms(s, c.AccessKeySecret, redacted)
	s = replaceAllForms(s, c.SecurityToken, redacted)
	s = replaceAllForms(s, c.AccessKeyID, MaskAccessKeyID(c.AccessKeyID))
	return s
}

func replaceAllForms(s, secret, mask string) string {
	if secret == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, mask)
	enc := PercentEncode(secret)
	if enc != secret {
		s = strings.ReplaceAll(s, enc, mask)
		s = strings.ReplaceAll(s, PercentEncode(enc), mask)
		s = strings.ReplaceAll(s, url.QueryEscape(secret), mask)
	}
	return s
}

// sanitize strips the query from any URL in err and every secret from its
// text, keeping the error chain for errors.Is and errors.As.
func (st *call) sanitize(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if strings.Contains(err.Error(), "?") || st.scrub(err.Error()) != err.Error() {
		return &scrubbedError{msg: st.scrub(stripQueries(err.Error())), err: err}
	}
	return err
}

// scrubbedError carries a cleaned message and keeps the original chain for
// errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// stripQueries cuts query strings out of URLs in an error text.
func stripQueries(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "?")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		end := strings.IndexAny(s, " \"'\n")
		if end < 0 {
			return b.String()
		}
		s = s[end:]
	}
}

// logging reports whether a record at level would be written; callers check
// it before computing costly attributes.
func (st *call) logging(level slog.Level) bool {
	return st.c.logger != nil && st.c.logger.Enabled(st.ctx, level)
}

func (st *call) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if !st.logging(level) {
		return
	}
	l := st.c.logger
	attrs = append([]slog.Attr{slog.String("action", st.action), slog.Int("attempt", st.attempts)}, attrs...)
	l.LogAttrs(st.ctx, level, msg, attrs...)
}
