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

// appendDoubleEncoded writes PercentEncode(PercentEncode(s)) to b in one pass:
// an escaped byte becomes %25XX, because the % of the first pass is escaped
// again by the second.
func appendDoubleEncoded(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%25")
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
	return stringToSign(method, params, signedKeys(params))
}

func stringToSign(method string, params url.Values, keys []string) string {
	var b strings.Builder
	size := len(method) + 4
	for _, k := range keys {
		for _, v := range params[k] {
			size += 3*(len(k)+len(v)) + 6
		}
	}
	b.Grow(size)
	b.WriteString(strings.ToUpper(method))
	b.WriteString("&%2F&")
	first := true
	for _, k := range keys {
		for _, v := range params[k] {
			if !first {
				b.WriteString("%26")
			}
			first = false
			appendDoubleEncoded(&b, k)
			b.WriteString("%3D")
			appendDoubleEncoded(&b, v)
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

// encodeQuery writes params as a query string with [PercentEncode], names in
// keys order followed by Signature. It is what goes on the wire: unlike
// [url.Values.Encode] it never writes a space as +.
func encodeQuery(params url.Values, keys []string, signature string) string {
	var b strings.Builder
	size := len(signature)*3 + 11
	for _, k := range keys {
		for _, v := range params[k] {
			size += len(k) + 3*len(v) + 2
		}
	}
	b.Grow(size)
	for _, k := range keys {
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			appendEncoded(&b, k)
			b.WriteByte('=')
			appendEncoded(&b, v)
		}
	}
	if b.Len() > 0 {
		b.WriteByte('&')
	}
	b.WriteString("Signature=")
	appendEncoded(&b, signature)
	return b.String()
}
