// Package floor is the smallest honest client for CopyDatabaseBetweenInstances:
// plain net/http, a hand-written version 1.0 signer, a fresh nonce from
// crypto/rand and a timestamp on every call, and the RequestId decoded from the
// JSON answer. It is the floor the benchmarks hold copydb against, so it uses
// nothing but the standard library.
package floor

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Client sends signed CopyDatabaseBetweenInstances calls to one endpoint.
type Client struct {
	HTTP     *http.Client
	Endpoint string // e.g. "http://127.0.0.1:8080/"
	KeyID    string
	Secret   string
	Region   string
}

// Request carries the operation parameters.
type Request struct {
	DBInstanceID       string
	TargetDBInstanceID string
	DBNamesJSON        string
	SyncUserPrivilege  string // YES or NO
}

// Call signs and sends one request and returns the RequestId of the answer.
func (c *Client) Call(ctx context.Context, in Request) (string, error) {
	p := url.Values{
		"Action":             {"CopyDatabaseBetweenInstances"},
		"Version":            {"2014-08-15"},
		"Format":             {"JSON"},
		"AccessKeyId":        {c.KeyID},
		"SignatureMethod":    {"HMAC-SHA1"},
		"SignatureVersion":   {"1.0"},
		"SignatureNonce":     {nonce()},
		"Timestamp":          {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
		"RegionId":           {c.Region},
		"DBInstanceId":       {in.DBInstanceID},
		"TargetDBInstanceId": {in.TargetDBInstanceID},
		"DbNames":            {in.DBNamesJSON},
		"SyncUserPrivilege":  {in.SyncUserPrivilege},
	}
	canon := canonical(p)
	query := canon + "&Signature=" + Escape(signCanonical(http.MethodPost, canon, c.Secret))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+"?"+query, http.NoBody)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		RequestID string `json:"RequestId"`
		Code      string `json:"Code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return out.RequestID, fmt.Errorf("floor: status %d, code %q", resp.StatusCode, out.Code)
	}
	if err != nil {
		return "", err
	}
	return out.RequestID, nil
}

// nonce returns 16 random bytes from crypto/rand as 32 hex digits.
func nonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Sign returns the version 1.0 signature of params (Signature excluded).
func Sign(method string, params url.Values, secret string) string {
	return signCanonical(method, canonical(params), secret)
}

// canonical returns the sorted, percent-encoded k=v pairs joined with &.
// It is both the signed text and the query sent on the wire.
func canonical(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.Grow(512)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(Escape(k))
		b.WriteByte('=')
		b.WriteString(Escape(params.Get(k)))
	}
	return b.String()
}

func signCanonical(method, canon, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(method + "&%2F&" + Escape(canon)))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Escape percent-encodes s: A-Z a-z 0-9 - _ . ~ stay, every other byte is
// %XX in upper-case hex.
func Escape(s string) string {
	const hexdig = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexdig[c>>4])
		b.WriteByte(hexdig[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}
