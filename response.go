package copydb

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// responseBody is a decoded success answer.
type responseBody interface {
	requestID() string
}

// errorBody is the service's error answer, in JSON or under an XML <Error>
// root.
type errorBody struct {
	XMLName   xml.Name
	RequestID string `json:"RequestId" xml:"RequestId"`
	HostID    string `json:"HostId" xml:"HostId"`
	Code      string `json:"Code" xml:"Code"`
	Message   string `json:"Message" xml:"Message"`
	Recommend string `json:"Recommend" xml:"Recommend"`
}

// bodyKind sniffs a body: 'j' for JSON, 'x' for XML, 0 for anything else
// (HTML included).
func bodyKind(body []byte) byte {
	b := bytes.TrimLeftFunc(body, unicode.IsSpace)
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	switch {
	case len(b) == 0:
		return 0
	case b[0] == '{':
		return 'j'
	case b[0] == '<':
		head := strings.ToLower(string(b[:min(len(b), 512)]))
		if strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html") {
			return 0
		}
		return 'x'
	}
	return 0
}

// decodeBody decodes a success answer in either format into out.
func decodeBody(body []byte, out any) error {
	switch bodyKind(body) {
	case 'j':
		return json.Unmarshal(body, out)
	case 'x':
		return xml.Unmarshal(body, out)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty body")
	}
	return errors.New("neither JSON nor XML")
}

// mayBeError reports whether a body can hold an error document at all: a
// cheap test that spares decoding a success body twice.
func mayBeError(body []byte) bool {
	return bytes.Contains(body, []byte(`"Code"`)) || bytes.Contains(body, []byte("<Code>"))
}

// parseErrorBody returns the error an answer carries, or nil when the body is
// not a JSON object or an XML <Error> document with a Code.
func parseErrorBody(body []byte) *APIError {
	var e errorBody
	switch bodyKind(body) {
	case 'j':
		if json.Unmarshal(body, &e) != nil {
			return nil
		}
	case 'x':
		if xml.Unmarshal(body, &e) != nil || e.XMLName.Local != "Error" {
			return nil
		}
	default:
		return nil
	}
	if e.Code == "" {
		return nil
	}
	return &APIError{
		Code:      oneLine(truncate(e.Code)),
		Message:   oneLine(truncateN(e.Message, 1024)),
		RequestID: oneLine(truncate(e.RequestID)),
		HostID:    oneLine(truncate(e.HostID)),
		Recommend: oneLine(truncateN(e.Recommend, 512)),
	}
}

// bodyRequestID returns the RequestId of a JSON or XML body, or "".
func bodyRequestID(body []byte) string {
	var r struct {
		RequestID string `json:"RequestId" xml:"RequestId"`
	}
	if decodeBody(body, &r) != nil {
		return ""
	}
	return oneLine(truncate(r.RequestID))
}

// snippet returns up to 120 printable characters of a body, for an error
// message.
func snippet(body []byte) string {
	const max = 120
	var b strings.Builder
	space := false
	for len(body) > 0 && b.Len() < max {
		r, size := utf8.DecodeRune(body)
		body = body[size:]
		switch {
		case r == utf8.RuneError && size <= 1:
			continue
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// truncateN shortens s to about n bytes, on a rune boundary.
func truncateN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
