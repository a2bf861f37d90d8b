package copydbtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"strings"
)

// memClient serves requests with the fake in memory, the way an
// [net/http.Client] would over a connection.
type memClient struct{ f *Fake }

// Do sends req to the fake with no sockets. Like [net/http.Client.Do] it
// closes the request body, reports a context that ended as a *url.Error
// wrapping the context's error, fires the [net/http/httptrace] hooks of the
// request's context (GetConn, GotConn, WroteHeaders, WroteRequest,
// GotFirstResponseByte) as a connection would, and returns a *url.Error
// wrapping [io.ErrUnexpectedEOF] when a fault drops the connection.
func (m memClient) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, urlError(req, err)
		}
		body = b
	}
	if err := ctx.Err(); err != nil {
		return nil, urlError(req, err)
	}
	trace := httptrace.ContextClientTrace(ctx)
	if trace == nil {
		trace = &httptrace.ClientTrace{}
	}
	host := req.URL.Host
	if trace.GetConn != nil {
		trace.GetConn(host)
	}
	if trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{})
	}
	if trace.WroteHeaders != nil {
		trace.WroteHeaders()
	}
	if trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}

	in := req.Clone(ctx)
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	in.Form, in.PostForm, in.MultipartForm = nil, nil, nil
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:1234"
	if in.Host == "" {
		in.Host = host
	}
	a := m.f.handle(in)
	switch {
	case a.drop:
		return nil, urlError(req, io.ErrUnexpectedEOF)
	case a.gone != nil:
		return nil, urlError(req, a.gone)
	}
	if trace.GotFirstResponseByte != nil {
		trace.GotFirstResponseByte()
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", a.status, http.StatusText(a.status)),
		StatusCode:    a.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        a.header,
		Body:          io.NopCloser(bytes.NewReader(a.body)),
		ContentLength: int64(len(a.body)),
		Request:       req,
	}, nil
}

// urlError wraps err as net/http's client does.
func urlError(req *http.Request, err error) error {
	op := req.Method
	if op == "" {
		op = http.MethodGet
	}
	return &url.Error{Op: op[:1] + strings.ToLower(op[1:]), URL: req.URL.String(), Err: err}
}

// StartServer starts and returns a loopback HTTP server (see
// [net/http/httptest.NewServer]) serving the fake. The caller must Close it.
func (f *Fake) StartServer() *httptest.Server {
	return httptest.NewServer(f)
}
