package copydbtest

import (
	"net/http"
	"strconv"
	"time"
)

// Fault describes a failure the fake plays for the next Times requests of an
// Action. Faults are played after authentication (a faulted request has
// passed the signature check and used its nonce, as at the real gateway,
// which throttles in front of the backend) and after the action was found.
//
// A fault has up to three effects, applied in this order: wait Delay (or
// until the request's context ends, in which case nothing more happens),
// then drop the connection (Drop), or answer an error (Code, Status or
// HTML). A fault with only a Delay answers normally after it. Without
// AfterExecute the action is not executed when the fault drops or answers an
// error; with AfterExecute the action runs first and its effect stays (an
// accepted copy IS accepted) but the client sees the fault: the case of a
// request whose outcome is unknown.
type Fault struct {
	// Action limits the fault to one action; "" matches every action.
	Action string
	// Times is how many matching requests the fault affects; less than 1
	// means 1.
	Times int
	// Status is the HTTP status answered. Zero takes the code's usual
	// status: 400 for Throttling codes, 503 for ServiceUnavailable, 502 for
	// HTML, 500 otherwise.
	Status int
	// Code is the error code answered, such as "Throttling.User",
	// "ServiceUnavailable" or "InternalError". Zero with a Status takes
	// ServiceUnavailable for 503 and InternalError otherwise.
	Code string
	// Message is the error message. Zero takes the service's message for
	// the code.
	Message string
	// HTML answers the HTML page of a proxy in front of the service
	// ("502 Bad Gateway", text/html) instead of an error document.
	HTML bool
	// RetryAfter, when positive, is sent as a Retry-After header in whole
	// seconds (rounded up) with the error.
	RetryAfter time.Duration
	// Drop closes the connection after reading the request, without an
	// answer. In server mode the connection is hijacked and closed; through
	// [Fake.HTTPClient] the call returns a transport error wrapping
	// [io.ErrUnexpectedEOF].
	Drop bool
	// AfterExecute runs the action before the fault's effects.
	AfterExecute bool
	// Delay holds the answer back this long in real time, or until the
	// request's context ends.
	Delay time.Duration
}

// pendingFault is an injected fault with its remaining count.
type pendingFault struct {
	Fault
	left int
}

// defaultMessages are the service's messages for the codes faults use.
var defaultMessages = map[string]string{
	"Throttling":         "Request was denied due to request throttling.",
	"Throttling.User":    "Request was denied due to user flow control.",
	"Throttling.Api":     "Request was denied due to api flow control.",
	"ServiceUnavailable": "The request has failed due to a temporary failure of the server.",
	"InternalError":      "The request processing has failed due to some unknown error, exception or failure.",
}

// InjectFault queues flt. Queued faults are matched in the order they were
// injected; each request plays at most one fault.
func (f *Fake) InjectFault(flt Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, &pendingFault{Fault: flt, left: max(flt.Times, 1)})
}

// takeFault returns the first queued fault matching the action and counts
// it down. f.mu is held.
func (f *Fake) takeFault(action string) *Fault {
	for i, p := range f.faults {
		if p.Action != "" && p.Action != action {
			continue
		}
		p.left--
		if p.left == 0 {
			f.faults = append(f.faults[:i:i], f.faults[i+1:]...)
		}
		flt := p.Fault
		return &flt
	}
	return nil
}

// applyFault plays the fault's effects on a request; done reports whether
// they decided the answer.
func (f *Fake) applyFault(r *http.Request, c *call, flt *Fault) (a answer, done bool) {
	if flt.Delay > 0 {
		t := time.NewTimer(flt.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return answer{gone: r.Context().Err()}, true
		}
	}
	if flt.Drop {
		return answer{drop: true}, true
	}
	status, code := flt.Status, flt.Code
	if flt.HTML {
		if status == 0 {
			status = http.StatusBadGateway
		}
		return htmlPage(c.now, status), true
	}
	if status == 0 && code == "" {
		return answer{}, false
	}
	if code == "" {
		code = "InternalError"
		if status == http.StatusServiceUnavailable {
			code = "ServiceUnavailable"
		}
	}
	if status == 0 {
		status = defaultStatus(code)
	}
	msg := flt.Message
	if msg == "" {
		msg = defaultMessages[code]
	}
	a = failure(c.now, c.format, c.requestID, &apiError{status: status, code: code, message: msg})
	if flt.RetryAfter > 0 {
		secs := (flt.RetryAfter + time.Second - 1) / time.Second
		a.header.Set("Retry-After", strconv.FormatInt(int64(secs), 10))
	}
	return a, true
}

// defaultStatus is the usual HTTP status of a fault's code.
func defaultStatus(code string) int {
	switch code {
	case "Throttling", "Throttling.User", "Throttling.Api":
		return http.StatusBadRequest
	case "ServiceUnavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
