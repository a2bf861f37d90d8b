package copydbtest

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// hostID is the HostId the service puts in its error bodies.
const hostID = "rds.aliyuncs.com"

// xmlHeader is the declaration the service writes before an XML body.
const xmlHeader = "<?xml version='1.0' encoding='UTF-8'?>"

// answer is what the fake decided to do with one request.
type answer struct {
	status int
	header http.Header
	body   []byte
	code   string // the error code answered, for the record
	drop   bool   // close the connection without an answer
	gone   error  // the request's context ended before the answer: nobody listens
}

// apiError is an error the service answers with.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// errorf returns an apiError whose message is formatted.
func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// missing is the service's MissingParameter error for a parameter.
func missing(name string) *apiError {
	return errorf(http.StatusBadRequest, "MissingParameter",
		"The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

// invalid is the service's InvalidParameter error for a parameter.
func invalid(name string) *apiError {
	return errorf(http.StatusBadRequest, "InvalidParameter", "The specified parameter %q is not valid.", name)
}

// errorBody is the service's error document, in JSON or XML.
type errorBody struct {
	XMLName   xml.Name `json:"-" xml:"Error"`
	RequestID string   `json:"RequestId" xml:"RequestId"`
	HostID    string   `json:"HostId" xml:"HostId"`
	Code      string
	Message   string
	Recommend string
}

// newRequestID returns an upper-case, UUID-shaped request id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// encode renders v as the service does in the format (xml or json).
func encode(format string, v any) []byte {
	var buf bytes.Buffer
	if format == formatJSON {
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			panic("copydbtest: encoding JSON: " + err.Error())
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	buf.WriteString(xmlHeader)
	if err := xml.NewEncoder(&buf).Encode(v); err != nil {
		panic("copydbtest: encoding XML: " + err.Error())
	}
	return buf.Bytes()
}

// baseHeader returns the headers every answer carries.
func baseHeader(now time.Time, requestID string) http.Header {
	h := make(http.Header)
	h.Set("Date", now.UTC().Format(http.TimeFormat))
	if requestID != "" {
		h.Set("X-Acs-Request-Id", requestID)
	}
	return h
}

// contentType returns the Content-Type of a body in the format.
func contentType(format string) string {
	if format == formatJSON {
		return "application/json;charset=utf-8"
	}
	return "text/xml;charset=utf-8"
}

// success renders a successful answer.
func success(now time.Time, format, requestID string, v any) answer {
	h := baseHeader(now, requestID)
	h.Set("Content-Type", contentType(format))
	return answer{status: http.StatusOK, header: h, body: encode(format, v)}
}

// failure renders an error answer.
func failure(now time.Time, format, requestID string, e *apiError) answer {
	h := baseHeader(now, requestID)
	h.Set("Content-Type", contentType(format))
	body := errorBody{
		RequestID: requestID,
		HostID:    hostID,
		Code:      e.code,
		Message:   e.message,
		Recommend: "https://api.aliyun.com/troubleshoot?q=" + e.code + "&product=Rds",
	}
	return answer{status: e.status, header: h, body: encode(format, body), code: e.code}
}

// htmlBadGateway is the page a proxy in front of the service answers with.
const htmlBadGateway = "<html><body><h1>502 Bad Gateway</h1></body></html>"

// htmlPage renders the proxy's HTML page with the status.
func htmlPage(now time.Time, status int) answer {
	h := baseHeader(now, "")
	h.Set("Content-Type", "text/html")
	return answer{status: status, header: h, body: []byte(htmlBadGateway)}
}

// itoa formats n in decimal.
func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
