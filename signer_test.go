package copydb

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// The documented example of signature version 1.0 (protocol.md).
func TestSignDocumentedExample(t *testing.T) {
	t.Parallel()
	params := url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {"DescribeRegions"},
		"Format":           {"XML"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {"2016-02-23T12:46:24Z"},
		"Version":          {"2014-05-26"},
	}
	const wantSTS = "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML" +
		"%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf" +
		"%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := StringToSign("GET", params); got != wantSTS {
		t.Errorf("StringToSign:\n got %s\nwant %s", got, wantSTS)
	}
	const want = "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
	if got := Sign("GET", params, "testsecret"); got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
	// A Signature parameter already present is not signed.
	params.Set("Signature", "whatever")
	if got := Sign("GET", params, "testsecret"); got != want {
		t.Errorf("Sign with a Signature parameter = %q, want %q", got, want)
	}
}

func TestPercentEncode(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"documented check", "a b*c~d+e/f:g=h&i'j(k)l!m", "a%20b%2Ac~d%2Be%2Ff%3Ag%3Dh%26i%27j%28k%29l%21m"},
		{"utf-8", "中文", "%E4%B8%AD%E6%96%87"},
		{"unreserved", "AZaz09-_.~", "AZaz09-_.~"},
		{"empty", "", ""},
		{"percent", "100%", "100%25"},
		{"json names", `{"test1":"test2"}`, "%7B%22test1%22%3A%22test2%22%7D"},
		{"invalid utf-8 byte", "\xff", "%FF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := PercentEncode(tt.in); got != tt.want {
				t.Errorf("PercentEncode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStringToSignSortsAndRepeats(t *testing.T) {
	t.Parallel()
	params := url.Values{"b": {"2"}, "a": {"x y", "z"}, "Signature": {"s"}}
	want := "POST&%2F&a%3Dx%2520y%26a%3Dz%26b%3D2"
	if got := StringToSign("post", params); got != want {
		t.Errorf("StringToSign = %q, want %q", got, want)
	}
}

func TestCanonicalQueryNeverWritesPlus(t *testing.T) {
	t.Parallel()
	params := url.Values{"DbNames": {`{"a b":"c*d"}`}, "Action": {"X"}, "Signature": {"ignored"}}
	got := canonicalQuery(params)
	want := "Action=X&DbNames=%7B%22a%20b%22%3A%22c%2Ad%22%7D"
	if got != want {
		t.Errorf("canonicalQuery = %q, want %q", got, want)
	}
	back, err := url.ParseQuery(got)
	if err != nil || back.Get("DbNames") != `{"a b":"c*d"}` {
		t.Errorf("query does not round-trip: %v %v", back, err)
	}
}

// referenceEncode is an independent percent-encoder built on the standard
// library, for the fuzz comparison.
func referenceEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	e = strings.ReplaceAll(e, "%7E", "~")
	return e
}

func FuzzPercentEncode(f *testing.F) {
	for _, s := range []string{"", "a b*c~d+e/f:g=h&i'j(k)l!m", "中文", "\x00\xff", "%", "~~"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := PercentEncode(s)
		if want := referenceEncode(s); got != want {
			t.Fatalf("PercentEncode(%q) = %q, reference %q", s, got, want)
		}
		if back, err := url.PathUnescape(got); err != nil || back != s {
			t.Fatalf("PercentEncode(%q) = %q does not decode back: %q %v", s, got, back, err)
		}
		// The string to sign built from the canonical query equals the
		// textbook form: METHOD&%2F&percentEncode(k=v pairs).
		params := url.Values{s: {s}, "k": {s + "=&"}}
		pairs := make([]string, 0, 2)
		for _, k := range signedKeys(params) {
			pairs = append(pairs, PercentEncode(k)+"="+PercentEncode(params[k][0]))
		}
		textbook := "POST&%2F&" + PercentEncode(strings.Join(pairs, "&"))
		if sts := StringToSign("POST", params); sts != textbook {
			t.Fatalf("StringToSign = %q, textbook %q", sts, textbook)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("output not UTF-8")
		}
	})
}
