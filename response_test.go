package copydb

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want *APIError
	}{
		{"json", `{"RequestId":"R","HostId":"rds.aliyuncs.com","Code":"StorageLimitExceeded","Message":"Exceeding the allowed Storage of DB instance.","Recommend":"https://api.aliyun.com/troubleshoot?q=StorageLimitExceeded"}`,
			&APIError{Code: "StorageLimitExceeded", Message: "Exceeding the allowed Storage of DB instance.", RequestID: "R", HostID: "rds.aliyuncs.com", Recommend: "https://api.aliyun.com/troubleshoot?q=StorageLimitExceeded"}},
		{"xml", `<?xml version='1.0' encoding='UTF-8'?><Error><RequestId>R</RequestId><HostId>h</HostId><Code>Throttling.User</Code><Message>Request was denied due to user flow control.</Message></Error>`,
			&APIError{Code: "Throttling.User", Message: "Request was denied due to user flow control.", RequestID: "R", HostID: "h"}},
		{"multi-line message folded", `{"Code":"X","Message":"a\nb"}`, &APIError{Code: "X", Message: "a b"}},
		{"success json", `{"RequestId":"R"}`, nil},
		{"success xml", `<CopyDatabaseBetweenInstancesResponse><RequestId>R</RequestId></CopyDatabaseBetweenInstancesResponse>`, nil},
		{"xml other root with code", `<Foo><Code>X</Code></Foo>`, nil},
		{"html", `<!DOCTYPE html><html><body>502 Bad Gateway</body></html>`, nil},
		{"empty", ``, nil},
		{"garbage", `not json`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, parseErrorBody([]byte(tt.body))); diff != "" {
				t.Errorf("parseErrorBody (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	got := snippet([]byte("<html>\n\t<body>  502 Bad Gateway\x00\xff</body>" + strings.Repeat("x", 300)))
	if len(got) > 124 || strings.ContainsAny(got, "\n\t\x00") || !strings.HasPrefix(got, "<html> <body> 502 Bad Gateway </body>") {
		t.Errorf("snippet = %q", got)
	}
}

// FuzzDecodeResponse proves that nothing in the decoding of an answer
// panics, whatever the body.
func FuzzDecodeResponse(f *testing.F) {
	for _, s := range []string{
		`{"RequestId":"R","DBInstanceId":"rm-b"}`,
		`{"RequestId":"R","Code":"Throttling","Message":"x"}`,
		`<Error><Code>X</Code><Message>y</Message></Error>`,
		`<CopyDatabaseBetweenInstancesResponse><RequestId>R</RequestId></CopyDatabaseBetweenInstancesResponse>`,
		`<html>oops</html>`, "", "\xef\xbb\xbf{}", `{"RequestId":1}`, `<a><b>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = parseErrorBody(body)
		_ = bodyRequestID(body)
		var out CopyDatabaseBetweenInstancesResponse
		_ = decodeBody(body, &out)
		if s := snippet(body); len(s) > 130 || strings.ContainsAny(s, "\r\n") {
			t.Fatalf("snippet %q", s)
		}
		st := &call{status: 200, body: body, header: map[string][]string{}, action: "A"}
		_ = st.result(&out)
		st.status = 503
		_ = st.result(&out)
	})
}
