package copydb

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// upperHex is the alphabet of the %XX escapes the service expects.
const upperHex = "0123456789ABCDEF"

// unreserved reports whether b stays literal under the RPC percent-encoding:
// A-Z a-z 0-9 - _ . ~ (RFC 3986 unreserved characters).
func unreserved(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		b == '-' || b == '_' || b == '.' || b == '~'
}

// PercentEncode encodes s as the RPC signature (version 1.0) requires: every
// byte of its UTF-8 form except A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case
// hex. A space is %20 (never +) and * is %2A, unlike [url.QueryEscape].
func PercentEncode(s string) string {
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
	appendEncoded(&b, s)
	return b.String()
}

// appendEncoded writes PercentEncode(s) to b.
func appendEncoded(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

// signedKeys returns the parameter names that take part in the signature, in
// the order the service sorts them: every name but Signature, by byte order.
func signedKeys(params url.Values) []string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// StringToSign returns the string that signature version 1.0 signs for a
// request with this HTTP method and these parameters:
//
//	METHOD & %2F & percentEncode(k1=v1&k2=v2&...)
//
// where the pairs are percent-encoded with [PercentEncode] and sorted by name.
// The Signature parameter itself is left out. A name with several values
// contributes one pair per value, in the order given.
func StringToSign(method string, params url.Values) string {
	return stringToSignFromQuery(method, canonicalQuery(params))
}

// canonicalQuery returns the parameters but Signature as the sorted,
// percent-encoded query k1=v1&k2=v2 that signature version 1.0 signs. It is
// also the query sent on the wire (with Signature appended): unlike
// [url.Values.Encode] it never writes a space as +.
func canonicalQuery(params url.Values) string {
	var kv []string
	for _, k := range signedKeys(params) {
		for _, v := range params[k] {
			kv = append(kv, k, v)
		}
	}
	return joinPairs(kv)
}

// joinPairs percent-encodes the name, value pairs of kv (n0, v0, n1, v1, ...)
// into one query string n0=v0&n1=v1, in one allocation.
func joinPairs(kv []string) string {
	size := 0
	for _, s := range kv {
		size += len(s) + 1
		for i := 0; i < len(s); i++ {
			if !unreserved(s[i]) {
				size += 2
			}
		}
	}
	var b strings.Builder
	b.Grow(size)
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte('&')
		}
		appendEncoded(&b, kv[i])
		b.WriteByte('=')
		appendEncoded(&b, kv[i+1])
	}
	return b.String()
}

// stringToSignFromQuery builds the string to sign from a canonical query.
// Percent-encoding the query a second time only touches three bytes: the
// encoded pairs hold nothing but unreserved characters and %XX escapes.
func stringToSignFromQuery(method, q string) string {
	var b strings.Builder
	b.Grow(len(method) + 5 + len(q) + len(q)/2)
	b.WriteString(strings.ToUpper(method))
	b.WriteString("&%2F&")
	for i := 0; i < len(q); i++ {
		switch c := q[i]; c {
		case '%':
			b.WriteString("%25")
		case '=':
			b.WriteString("%3D")
		case '&':
			b.WriteString("%26")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Sign returns the version 1.0 signature of a request: the Base64 form of
// HMAC-SHA1 over [StringToSign](method, params) keyed with
// accessKeySecret + "&". Any Signature parameter in params is ignored.
func Sign(method string, params url.Values, accessKeySecret string) string {
	return signString(StringToSign(method, params), accessKeySecret)
}

// signString computes Base64(HMAC-SHA1(secret + "&", s)).
func signString(s, accessKeySecret string) string {
	key := make([]byte, 0, len(accessKeySecret)+1)
	key = append(key, accessKeySecret...)
	key = append(key, '&')
	mac := hmac.New(sha1.New, key)
	mac.Write([]byte(s))
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}
