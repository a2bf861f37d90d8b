package copydbtest

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rdskit/copydb"
)

// TestAuthentication sends hand-built requests, correct and broken, and
// checks the gateway's answer.
func TestAuthentication(t *testing.T) {
	t.Parallel()
	describe := map[string]string{"DBInstanceId": "rm-src"}
	tests := []struct {
		name       string
		method     string
		layout     string             // "query", "form" or "mixed"
		edit       func(v url.Values) // before signing
		secret     string             // "" = AccessKeySecret
		after      func(v url.Values) // after signing
		opts       []Option           // fake options
		wantStatus int
		wantCode   string
	}{
		{name: "POST query", method: "POST", layout: "query", wantStatus: 200},
		{name: "GET query", method: "GET", layout: "query", wantStatus: 200},
		{name: "POST form body", method: "POST", layout: "form", wantStatus: 200},
		{name: "POST query and form", method: "POST", layout: "mixed", wantStatus: 200},
		{name: "empty SignatureType", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Set("SignatureType", "") }, wantStatus: 200},
		{name: "space and star in values", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Set("DBName", "a b*c~d+e/f") }, wantStatus: 200},
		{name: "signed as GET sent as POST", method: "POST", layout: "query",
			after:      func(v url.Values) { v.Set("Signature", copydb.Sign("GET", v, AccessKeySecret)) },
			wantStatus: 400, wantCode: "SignatureDoesNotMatch"},
		{name: "wrong secret", method: "POST", layout: "query", secret: "wrong",
			wantStatus: 400, wantCode: "SignatureDoesNotMatch"},
		{name: "tampered after signing", method: "POST", layout: "query",
			after:      func(v url.Values) { v.Set("DBInstanceId", "rm-dst") },
			wantStatus: 400, wantCode: "SignatureDoesNotMatch"},
		{name: "signature not base64", method: "POST", layout: "query",
			after:      func(v url.Values) { v.Set("Signature", "!!!") },
			wantStatus: 400, wantCode: "SignatureDoesNotMatch"},
		{name: "unknown key", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("AccessKeyId", "LTAIunknown") },
			wantStatus: 404, wantCode: "InvalidAccessKeyId.NotFound"},
		{name: "timestamp 16 minutes behind", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Timestamp", t0.Add(-16*time.Minute).Format(timestampLayout)) },
			wantStatus: 400, wantCode: "InvalidTimeStamp.Expired"},
		{name: "timestamp 16 minutes ahead", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Timestamp", t0.Add(16*time.Minute).Format(timestampLayout)) },
			wantStatus: 400, wantCode: "InvalidTimeStamp.Expired"},
		{name: "timestamp 15 minutes behind", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Timestamp", t0.Add(-15*time.Minute).Format(timestampLayout)) },
			wantStatus: 200},
		{name: "timestamp garbled", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Timestamp", "2025-03-01 10:00:00") },
			wantStatus: 400, wantCode: "InvalidTimeStamp.Format"},
		{name: "no Timestamp", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("Timestamp") }, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "no Action", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("Action") }, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "no Version", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("Version") }, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "no AccessKeyId", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("AccessKeyId") }, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "no SignatureNonce", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("SignatureNonce") }, wantStatus: 400, wantCode: "MissingParameter"},
		{name: "no Signature", method: "POST", layout: "query",
			after: func(v url.Values) { v.Del("Signature") }, wantStatus: 400, wantCode: "IncompleteSignature"},
		{name: "no SignatureMethod", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Del("SignatureMethod") }, wantStatus: 400, wantCode: "IncompleteSignature"},
		{name: "HMAC-SHA256 SignatureMethod", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("SignatureMethod", "HMAC-SHA256") },
			wantStatus: 400, wantCode: "IncompleteSignature"},
		{name: "SignatureVersion 2.0", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("SignatureVersion", "2.0") },
			wantStatus: 400, wantCode: "IncompleteSignature"},
		{name: "other Version", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Version", "2014-05-26") },
			wantStatus: 400, wantCode: "InvalidVersion"},
		{name: "unknown action", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("Action", "DescribeRegions") },
			wantStatus: 404, wantCode: "InvalidAction.NotFound"},
		{name: "bad Format", method: "POST", layout: "query",
			edit: func(v url.Values) { v.Set("Format", "YAML") }, wantStatus: 400, wantCode: "InvalidParameter"},
		{name: "PUT", method: "PUT", layout: "query", wantStatus: 400, wantCode: "UnsupportedHTTPMethod"},
		{name: "token sent for a long-term key", method: "POST", layout: "query",
			edit:       func(v url.Values) { v.Set("SecurityToken", "tok") },
			wantStatus: 400, wantCode: "InvalidSecurityToken.Malformed"},
		{name: "STS key with its token", method: "POST", layout: "query",
			opts:   []Option{WithCredentials("STS.fakeid", "stssecret", "the-token")},
			edit:   func(v url.Values) { v.Set("AccessKeyId", "STS.fakeid"); v.Set("SecurityToken", "the-token") },
			secret: "stssecret", wantStatus: 200},
		{name: "STS key without token", method: "POST", layout: "query",
			opts:   []Option{WithCredentials("STS.fakeid", "stssecret", "the-token")},
			edit:   func(v url.Values) { v.Set("AccessKeyId", "STS.fakeid") },
			secret: "stssecret", wantStatus: 400, wantCode: "InvalidSecurityToken.Malformed"},
		{name: "STS key with another token", method: "POST", layout: "query",
			opts:   []Option{WithCredentials("STS.fakeid", "stssecret", "the-token")},
			edit:   func(v url.Values) { v.Set("AccessKeyId", "STS.fakeid"); v.Set("SecurityToken", "other") },
			secret: "stssecret", wantStatus: 400, wantCode: "InvalidSecurityToken.Mismatch"},
		{name: "default key refused once credentials are set", method: "POST", layout: "query",
			opts:       []Option{WithCredentials("LTAIother", "othersecret", "")},
			wantStatus: 404, wantCode: "InvalidAccessKeyId.NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t, tc.opts...)
			v := params("DescribeDatabases", clk.Now(), describe)
			if tc.edit != nil {
				tc.edit(v)
			}
			secret := tc.secret
			if secret == "" {
				secret = AccessKeySecret
			}
			signed(tc.method, v, secret)
			if tc.after != nil {
				tc.after(v)
			}
			var query, form string
			switch tc.layout {
			case "query":
				query = encodeParams(v)
			case "form":
				form = encodeParams(v)
			case "mixed":
				q, b := url.Values{}, url.Values{}
				for k, vs := range v {
					if strings.HasPrefix(k, "Signature") {
						q[k] = vs
					} else {
						b[k] = vs
					}
				}
				query, form = encodeParams(q), encodeParams(b)
			}
			w := serve(f, tc.method, query, form)
			var body errorBody // the success documents share RequestId
			unmarshal := json.Unmarshal
			if strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
				unmarshal = xml.Unmarshal
			}
			if err := unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("answer does not decode: %v\n%s", err, w.Body)
			}
			if diff := cmp.Diff([2]any{tc.wantStatus, tc.wantCode}, [2]any{w.Code, body.Code}); diff != "" {
				t.Errorf("status, code (-want +got):\n%s\nbody: %s", diff, w.Body)
			}
			if got := w.Header().Get("Date"); got != t0.Format(http.TimeFormat) {
				t.Errorf("Date header = %q, want the fake's clock %q", got, t0.Format(http.TimeFormat))
			}
			if got := w.Header().Get("X-Acs-Request-Id"); got == "" || got != body.RequestID {
				t.Errorf("x-acs-request-id header %q differs from body RequestId %q", got, body.RequestID)
			}
		})
	}
}

// TestSignatureMismatchEchoesStringToSign checks that the message carries the
// server's string-to-sign, so a client can tell a wrong secret from an
// encoding bug.
func TestSignatureMismatchEchoesStringToSign(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	v := signed("POST", params("DescribeBackupPolicy", clk.Now(), map[string]string{"DBInstanceId": "rm-src"}), "wrong")
	w := serve(f, "POST", encodeParams(v), "")
	var body errorBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := "Specified signature is not matched with our calculation. server string to sign is:" +
		copydb.StringToSign("POST", v)
	if diff := cmp.Diff(want, body.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if body.HostID != "rds.aliyuncs.com" || body.Recommend != "https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&product=Rds" {
		t.Errorf("HostId, Recommend = %q, %q", body.HostID, body.Recommend)
	}
}

// TestNonceReplay checks that a nonce is refused within 31 minutes per key,
// accepted again afterwards, and that a refused signature does not burn it.
func TestNonceReplay(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	send := func(v url.Values, secret string) int {
		v.Set("Timestamp", clk.Now().Format(timestampLayout))
		return serve(f, "POST", encodeParams(signed("POST", v, secret)), "").Code
	}
	v := params("DescribeBackupPolicy", clk.Now(), map[string]string{"DBInstanceId": "rm-src"})
	var got []int
	got = append(got, send(v, "wrong"))         // bad signature: nonce not used
	got = append(got, send(v, AccessKeySecret)) // first use
	got = append(got, send(v, AccessKeySecret)) // replay
	clk.Advance(30 * time.Minute)
	got = append(got, send(v, AccessKeySecret)) // still within 31 minutes
	clk.Advance(2 * time.Minute)
	got = append(got, send(v, AccessKeySecret)) // 32 minutes after first use
	if diff := cmp.Diff([]int{400, 200, 400, 400, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	var codes []string
	for _, r := range f.Requests() {
		codes = append(codes, r.Code)
	}
	want := []string{"SignatureDoesNotMatch", "", "SignatureNonceUsed", "SignatureNonceUsed", ""}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}

// TestFormats checks the answer's Content-Type and document shape in XML (the
// default) and JSON.
func TestFormats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, format, action, wantType, wantPrefix string
		op                                         map[string]string
	}{
		{"default is XML", "", "DescribeBackupPolicy", "text/xml;charset=utf-8",
			"<?xml version='1.0' encoding='UTF-8'?><DescribeBackupPolicyResponse><RequestId>", map[string]string{"DBInstanceId": "rm-src"}},
		{"XML error", "XML", "DescribeBackupPolicy", "text/xml;charset=utf-8",
			"<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>", map[string]string{"DBInstanceId": "rm-none"}},
		{"JSON", "JSON", "DescribeBackupPolicy", "application/json;charset=utf-8",
			`{"RequestId":"`, map[string]string{"DBInstanceId": "rm-src"}},
		{"JSON lower case", "json", "DescribeBackupPolicy", "application/json;charset=utf-8",
			`{"RequestId":"`, map[string]string{"DBInstanceId": "rm-src"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, clk := newFake(t)
			v := params(tc.action, clk.Now(), tc.op)
			if tc.format == "" {
				v.Del("Format")
			} else {
				v.Set("Format", tc.format)
			}
			w := serve(f, "POST", encodeParams(signed("POST", v, AccessKeySecret)), "")
			if got := w.Header().Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tc.wantType)
			}
			if !strings.HasPrefix(w.Body.String(), tc.wantPrefix) {
				t.Errorf("body = %s, want prefix %s", w.Body, tc.wantPrefix)
			}
		})
	}
}

// TestXMLErrorDocument decodes a whole XML error.
func TestXMLErrorDocument(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t)
	v := params("DescribeBackupPolicy", clk.Now(), map[string]string{"DBInstanceId": "rm-none"})
	v.Set("Format", "XML")
	w := serve(f, "POST", encodeParams(signed("POST", v, AccessKeySecret)), "")
	var got errorBody
	if err := xml.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := errorBody{
		XMLName:   xml.Name{Local: "Error"},
		RequestID: w.Header().Get("X-Acs-Request-Id"),
		HostID:    "rds.aliyuncs.com",
		Code:      "InvalidDBInstanceId.NotFound",
		Message:   "Specified instance does not exist or not support.",
		Recommend: "https://api.aliyun.com/troubleshoot?q=InvalidDBInstanceId.NotFound&product=Rds",
	}
	if diff := cmp.Diff(want, got); diff != "" || w.Code != 400 {
		t.Errorf("status %d, error (-want +got):\n%s", w.Code, diff)
	}
}

// TestRequestsRedacted checks that the record holds no secret.
func TestRequestsRedacted(t *testing.T) {
	t.Parallel()
	f, clk := newFake(t, WithCredentials("STS.fakeid", "stssecret", "the-token"))
	v := params("DescribeDatabases", clk.Now(), map[string]string{"DBInstanceId": "rm-src", "PageSize": "10"})
	v.Set("AccessKeyId", "STS.fakeid")
	v.Set("SecurityToken", "the-token")
	signed("POST", v, "stssecret")
	serve(f, "POST", encodeParams(v), "")
	got := f.Requests()
	if len(got) != 1 {
		t.Fatalf("got %d requests, want 1", len(got))
	}
	want := Request{
		Time: t0, Method: "POST", Action: "DescribeDatabases", Format: "JSON", RegionID: "cn-hangzhou",
		AccessKeyID: "STS.****", Nonce: v.Get("SignatureNonce"),
		Params:    url.Values{"DBInstanceId": {"rm-src"}, "PageSize": {"10"}},
		RequestID: got[0].RequestID, Status: 200,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if s := strings.Join([]string{got[0].AccessKeyID, got[0].Params.Encode()}, " "); strings.Contains(s, "the-token") ||
		strings.Contains(s, v.Get("Signature")) || strings.Contains(s, "fakeid") {
		t.Errorf("record leaks a secret: %s", s)
	}
}
