package copydbtest

import (
	"crypto/hmac"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rdskit/copydb"
)

// apiVersion is the only Version the fake serves.
const apiVersion = "2014-08-15"

// timestampLayout is the layout of the Timestamp parameter.
const timestampLayout = "2006-01-02T15:04:05Z"

// Formats of an answer.
const (
	formatJSON = "JSON"
	formatXML  = "XML"
)

// maxSkew is how far a Timestamp may be from the fake's clock.
const maxSkew = 15 * time.Minute

// nonceTTL is how long a SignatureNonce stays used.
const nonceTTL = 31 * time.Minute

// commonParams are the parameters every request carries; the rest are the
// operation's own.
var commonParams = map[string]bool{
	"Action": true, "Version": true, "Format": true, "AccessKeyId": true,
	"SignatureMethod": true, "SignatureVersion": true, "SignatureNonce": true,
	"SignatureType": true, "Timestamp": true, "RegionId": true,
	"SecurityToken": true, "Signature": true,
}

// nonceKey identifies a used nonce: nonces are per access key.
type nonceKey struct{ keyID, nonce string }

// nonceEntry is a used nonce in the order of use, for expiry.
type nonceEntry struct {
	key nonceKey
	at  time.Time
}

// ServeHTTP answers one RPC request as the service would. When a fault
// drops the connection, it hijacks and closes it, or, when the
// ResponseWriter cannot be hijacked, panics with [net/http.ErrAbortHandler]
// so that the server aborts the response.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := f.handle(r)
	switch {
	case a.drop:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		_ = conn.Close()
	case a.gone != nil:
		// The client went away; there is nobody to answer.
	default:
		for k, vs := range a.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}
}

// call is one request being handled.
type call struct {
	now       time.Time
	params    url.Values
	format    string
	action    string
	requestID string
}

// param returns the first value of a parameter.
func (c *call) param(name string) string { return c.params.Get(name) }

// handle decides the answer to r: authentication, fault injection, then the
// action, and records the request.
func (f *Fake) handle(r *http.Request) answer {
	c := &call{now: f.now(), requestID: newRequestID(), format: formatXML}
	rec := Request{Time: c.now, Method: r.Method}
	a := f.handleCall(r, c, &rec)
	rec.RequestID = c.requestID
	switch {
	case a.drop:
		rec.Dropped = true
	case a.gone == nil:
		rec.Status, rec.Code = a.status, a.code
	}
	f.mu.Lock()
	f.requests = append(f.requests, rec)
	f.mu.Unlock()
	return a
}

// handleCall does the work of handle and fills in the record.
func (f *Fake) handleCall(r *http.Request, c *call, rec *Request) answer {
	fail := func(e *apiError) answer { return failure(c.now, c.format, c.requestID, e) }
	if err := r.ParseForm(); err != nil {
		return fail(errorf(http.StatusBadRequest, "InvalidParameter", "The request parameters could not be parsed."))
	}
	c.params = r.Form
	c.action = c.param("Action")
	rec.Action, rec.Format, rec.RegionID = c.action, c.param("Format"), c.param("RegionId")
	rec.AccessKeyID, rec.Nonce = maskKey(c.param("AccessKeyId")), c.param("SignatureNonce")
	rec.Params = make(url.Values)
	for k, vs := range c.params {
		if !commonParams[k] {
			rec.Params[k] = vs
		}
	}
	switch format := c.param("Format"); {
	case format == "" || strings.EqualFold(format, formatXML):
	case strings.EqualFold(format, formatJSON):
		c.format = formatJSON
	default:
		return fail(invalid("Format"))
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return fail(errorf(http.StatusBadRequest, "UnsupportedHTTPMethod", "This http method is not supported."))
	}

	f.mu.Lock()
	err := f.authenticate(r.Method, c)
	var flt *Fault
	if err == nil {
		if _, ok := actions[c.action]; !ok {
			err = errorf(http.StatusNotFound, "InvalidAction.NotFound",
				"Specified api is not found, please check your url and method.")
		} else {
			flt = f.takeFault(c.action)
		}
	}
	f.mu.Unlock()
	if err != nil {
		return fail(err)
	}

	if flt != nil && !flt.AfterExecute {
		if a, done := f.applyFault(r, c, flt); done {
			return a
		}
	}
	f.mu.Lock()
	v, aerr := actions[c.action](f, c)
	f.mu.Unlock()
	if flt != nil && flt.AfterExecute {
		if a, done := f.applyFault(r, c, flt); done {
			return a
		}
	}
	if aerr != nil {
		return fail(aerr)
	}
	return success(c.now, c.format, c.requestID, v)
}

// authenticate checks the common parameters and the signature as the
// gateway does, and marks the nonce used. f.mu is held.
func (f *Fake) authenticate(method string, c *call) *apiError {
	for _, name := range []string{"Action", "Version", "AccessKeyId", "SignatureNonce", "Timestamp"} {
		if c.param(name) == "" {
			return missing(name)
		}
	}
	incomplete := errorf(http.StatusBadRequest, "IncompleteSignature",
		"The request signature does not conform to Aliyun standards.")
	if c.param("Signature") == "" || c.param("SignatureMethod") != "HMAC-SHA1" || c.param("SignatureVersion") != "1.0" {
		return incomplete
	}
	if c.param("Version") != apiVersion {
		return errorf(http.StatusBadRequest, "InvalidVersion", "Specified parameter Version is not valid.")
	}
	key, ok := f.key(c.param("AccessKeyId"))
	if !ok {
		return errorf(http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	ts, err := time.Parse(timestampLayout, c.param("Timestamp"))
	if err != nil {
		return errorf(http.StatusBadRequest, "InvalidTimeStamp.Format",
			"Specified time stamp or date value is not well formatted.")
	}
	if d := ts.Sub(c.now); d > maxSkew || d < -maxSkew {
		return errorf(http.StatusBadRequest, "InvalidTimeStamp.Expired",
			"Specified time stamp or date value is expired.")
	}
	sts := copydb.StringToSign(method, c.params)
	got, err := base64.StdEncoding.DecodeString(c.param("Signature"))
	want, _ := base64.StdEncoding.DecodeString(copydb.Sign(method, c.params, key.secret))
	if err != nil || !hmac.Equal(got, want) {
		return errorf(http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if e := checkToken(key, c.params); e != nil {
		return e
	}
	return f.useNonce(nonceKey{key.id, c.param("SignatureNonce")}, c.now)
}

// key returns the accepted key with this id.
func (f *Fake) key(id string) (credential, bool) {
	for _, k := range f.keys {
		if k.id == id {
			return k, true
		}
	}
	return credential{}, false
}

// checkToken checks the SecurityToken against the key: an STS key needs
// exactly its token, a long-term key takes none.
func checkToken(key credential, params url.Values) *apiError {
	token, sent := params["SecurityToken"]
	switch {
	case key.token == "" && !sent:
		return nil
	case key.token == "" || !sent || token[0] == "":
		return errorf(http.StatusBadRequest, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.")
	case !hmac.Equal([]byte(token[0]), []byte(key.token)):
		return errorf(http.StatusBadRequest, "InvalidSecurityToken.Mismatch",
			"Specified SecurityToken mismatch with the AccessKey.")
	}
	return nil
}

// useNonce marks a nonce used at now, refusing one used within nonceTTL.
// f.mu is held.
func (f *Fake) useNonce(k nonceKey, now time.Time) *apiError {
	for len(f.nonceQueue) > 0 && now.Sub(f.nonceQueue[0].at) >= nonceTTL {
		old := f.nonceQueue[0]
		if at, ok := f.nonces[old.key]; ok && at.Equal(old.at) {
			delete(f.nonces, old.key)
		}
		f.nonceQueue = f.nonceQueue[1:]
	}
	if at, ok := f.nonces[k]; ok && now.Sub(at) < nonceTTL {
		return errorf(http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	f.nonces[k] = now
	f.nonceQueue = append(f.nonceQueue, nonceEntry{key: k, at: now})
	return nil
}
