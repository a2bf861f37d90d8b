package copydb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Every error this package returns can be matched against
// them with [errors.Is]; the service's error codes map onto them through one
// table (see [APIError.Is]), and [Client.Preflight] reports the conditions it
// finds broken with the same sentinels, so one check covers both.
var (
	// ErrInvalidRequest matches a request refused before anything was sent
	// (every [*ValidationError]) and the service's parameter errors
	// (MissingParameter, InvalidParameter, ErrorParametersConflict, ...).
	ErrInvalidRequest = errors.New("copydb: invalid request")

	// ErrOutcomeUnknown matches a copy that may or may not have started: the
	// request was sent, but no definite answer came back (a timeout or reset
	// after sending, a 5xx, a cancelled context after sending, an unreadable
	// success body). Such a copy is never retried automatically; check the
	// target (or let [Client.Copy] reconcile) before sending it again.
	ErrOutcomeUnknown = errors.New("copydb: outcome unknown, the request may have been executed")

	// ErrThrottled matches Throttling, Throttling.User, Throttling.Api and an
	// HTTP 429: the service refused the request before acting on it.
	ErrThrottled = errors.New("copydb: throttled")

	// ErrStorageLimitExceeded matches StorageLimitExceeded: the destination
	// instance has less free space than the databases to copy.
	ErrStorageLimitExceeded = errors.New("copydb: not enough free storage on the destination instance")

	// ErrInstanceNotFound matches InvalidDBInstanceId.NotFound and
	// InvalidDBInstance.NotFound. The service also answers so for an instance
	// that belongs to another account.
	ErrInstanceNotFound = errors.New("copydb: instance not found")

	// ErrIncorrectInstanceState matches IncorrectDBInstanceState: an instance
	// is not Running (or is locked).
	ErrIncorrectInstanceState = errors.New("copydb: instance is not in a state that allows the copy")

	// ErrDatabaseExists matches InvalidDBName.Duplicate: the destination
	// already has a database with a target name.
	ErrDatabaseExists = errors.New("copydb: database already exists on the destination instance")

	// ErrInvalidCredentials matches an unknown, disabled or malformed
	// AccessKeyId or SecurityToken, and missing credentials.
	ErrInvalidCredentials = errors.New("copydb: invalid credentials")

	// ErrSignatureMismatch matches SignatureDoesNotMatch and
	// IncompleteSignature. The *APIError's message says whether the service
	// signed the same string as the client (then the AccessKeySecret is wrong)
	// or another one.
	ErrSignatureMismatch = errors.New("copydb: signature does not match")

	// ErrPermissionDenied matches Forbidden.RAM and the other Forbidden codes:
	// the credentials are valid but lack a permission.
	ErrPermissionDenied = errors.New("copydb: permission denied")

	// ErrClockSkew matches InvalidTimeStamp.Expired: the local clock differs
	// from the service's by more than about 15 minutes.
	ErrClockSkew = errors.New("copydb: request timestamp refused, check the local clock")

	// ErrUnsupportedEngine matches EngineNotSupported,
	// TargetInstanceEngineNotSupported, ReadOnlyInstanceNotSupport and
	// IncorrectDBInstanceType: the operation is for primary SQL Server
	// instances only.
	ErrUnsupportedEngine = errors.New("copydb: engine or instance type not supported")

	// ErrVersionMismatch matches InvalidInstanceVersion, IncorrectMinorVersion
	// and UnsupportedCopyDb...: source and destination versions differ.
	ErrVersionMismatch = errors.New("copydb: source and destination versions differ")

	// ErrRegionMismatch matches InvalidInstancesRegion.Malformed: the
	// instances are in different regions.
	ErrRegionMismatch = errors.New("copydb: source and destination are in different regions")

	// ErrNetworkTypeMismatch is reported by [Client.Preflight] when the
	// instances' network types (Classic, VPC) differ. The service documents no
	// code of its own for it.
	ErrNetworkTypeMismatch = errors.New("copydb: source and destination network types differ")

	// ErrSourceDatabaseNotFound matches InvalidDBName.NotFound: a database to
	// copy does not exist on the source instance.
	ErrSourceDatabaseNotFound = errors.New("copydb: database not found on the source instance")

	// ErrBackupNotFound matches InvalidBackupSetID and
	// InvalidBackupIdOrRestoreTime.NotFound.
	ErrBackupNotFound = errors.New("copydb: backup set not found")

	// ErrRestoreTimeOutOfRange matches InvalidRestoreTimeSpecified: the
	// restore time is outside the backup retention period.
	ErrRestoreTimeOutOfRange = errors.New("copydb: restore time outside the backup retention period")
)

// codeSentinels maps service error codes to sentinels. A code ending in "*"
// matches every code with that prefix.
var codeSentinels = map[string]error{
	"StorageLimitExceeded":                   ErrStorageLimitExceeded,
	"InvalidDBInstanceId.NotFound":           ErrInstanceNotFound,
	"InvalidDBInstance.NotFound":             ErrInstanceNotFound,
	"IncorrectDBInstanceState":               ErrIncorrectInstanceState,
	"InvalidDBName.Duplicate":                ErrDatabaseExists,
	"InvalidDBName.NotFound":                 ErrSourceDatabaseNotFound,
	"InvalidDBName.Format":                   ErrInvalidRequest,
	"InvalidTargetDBInstanceName.Format":     ErrInvalidRequest,
	"ErrorParametersConflict":                ErrInvalidRequest,
	"MissingParameter":                       ErrInvalidRequest,
	"InvalidParameter":                       ErrInvalidRequest,
	"DBCountLimitExceeded":                   ErrInvalidRequest,
	"CanNotCopyDBHasTDEEnabled":              ErrInvalidRequest,
	"EngineNotSupported":                     ErrUnsupportedEngine,
	"TargetInstanceEngineNotSupported":       ErrUnsupportedEngine,
	"ReadOnlyInstanceNotSupport":             ErrUnsupportedEngine,
	"IncorrectDBInstanceType":                ErrUnsupportedEngine,
	"InvalidInstanceVersion":                 ErrVersionMismatch,
	"IncorrectMinorVersion":                  ErrVersionMismatch,
	"InvalidInstancesRegion.Malformed":       ErrRegionMismatch,
	"InvalidNetworkType.Mismatch":            ErrNetworkTypeMismatch, // copydbtest's code; the service documents none
	"IncorrectDBState":                       ErrIncorrectInstanceState,
	"InvalidBackupSetID":                     ErrBackupNotFound,
	"InvalidBackupIdOrRestoreTime.NotFound":  ErrBackupNotFound,
	"InvalidRestoreTimeSpecified":            ErrRestoreTimeOutOfRange,
	"SignatureDoesNotMatch":                  ErrSignatureMismatch,
	"IncompleteSignature":                    ErrSignatureMismatch,
	"InvalidTimeStamp.Expired":               ErrClockSkew,
	"InvalidAccessKeyId.NotFound":            ErrInvalidCredentials,
	"InvalidAccessKeyId.Inactive":            ErrInvalidCredentials,
	"InvalidAccessKeyId":                     ErrInvalidCredentials,
	"InvalidSecurityToken.*":                 ErrInvalidCredentials,
	"Throttling":                             ErrThrottled,
	"Throttling.*":                           ErrThrottled,
	"Forbidden":                              ErrPermissionDenied,
	"Forbidden.*":                            ErrPermissionDenied,
	"UnsupportedCopyDb*":                     ErrVersionMismatch,
	"InvalidParameter.*":                     ErrInvalidRequest,
	"MissingParameter.*":                     ErrInvalidRequest,
	"InvalidBackupIdOrRestoreTime.Malformed": ErrInvalidRequest,
}

// sentinelForCode returns the sentinel a service code maps to, or nil.
func sentinelForCode(code string) error {
	if s, ok := codeSentinels[code]; ok {
		return s
	}
	for k, s := range codeSentinels {
		if p, ok := strings.CutSuffix(k, "*"); ok && strings.HasPrefix(code, p) {
			return s
		}
	}
	return nil
}

// APIError is what the service answered when it refused a request: its error
// code and message, the request id to quote to support, the HTTP status and
// how many attempts were made. Match the kind of error with [errors.Is] and
// the sentinels (errors.Is(err, ErrStorageLimitExceeded)); reach the details
// with [errors.As].
//
// Error classification is by Code, never by message text or status; an
// answer without a code (an HTML page from a proxy, say) is a [*ResponseError].
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the service's error code, such as "StorageLimitExceeded". It is
	// empty when the body carried none.
	Code string
	// Message is the service's message, with any echoed credential masked.
	Message string
	// RequestID identifies the request at the service (from the body, or the
	// x-acs-request-id header).
	RequestID string
	// HostID is the host that answered, such as "rds.aliyuncs.com".
	HostID string
	// Recommend is the service's troubleshooting link.
	Recommend string
	// Attempts is how many times the request was sent.
	Attempts int
	// Action is the operation, such as "CopyDatabaseBetweenInstances".
	Action string
}

// Error returns one lower-case line: the action, code, status, message,
// request id and attempt count. It never holds a URL, a header or a secret.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("copydb: ")
	if e.Action != "" {
		b.WriteString(e.Action)
		b.WriteString(": ")
	}
	if e.Code != "" {
		b.WriteString(e.Code)
	} else {
		b.WriteString("unexpected answer")
	}
	b.WriteString(" (http ")
	b.WriteString(strconv.Itoa(e.StatusCode))
	b.WriteByte(')')
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message))
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	return b.String()
}

// Is reports whether target is the sentinel that e's Code maps to. (An
// answer without a code is a [*ResponseError], not an APIError.)
func (e *APIError) Is(target error) bool {
	s := sentinelForCode(e.Code)
	return s != nil && s == target
}

// oneLine folds line breaks and other control characters into spaces.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// ValidationError is one problem with a request, found before anything was
// sent. Field is the wire name of the parameter (DBInstanceId, DbNames, ...)
// and Reason says what is wrong. A request with several problems yields
// several ValidationErrors combined with [errors.Join]; [ValidationErrors]
// lists them. Every ValidationError matches [ErrInvalidRequest].
type ValidationError struct {
	// Field is the wire name of the parameter at fault.
	Field string
	// Reason says what is wrong, in lower case.
	Reason string
	// Err is an underlying cause, such as [ErrInvalidCredentials]; may be nil.
	Err error
}

// Error returns "Field: Reason".
func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// Is makes every ValidationError match [ErrInvalidRequest].
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidRequest }

// Unwrap returns the underlying cause, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// ValidationErrors returns every [*ValidationError] in err's tree, in order;
// nil if there is none.
func ValidationErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
			return
		case *ValidationError:
			out = append(out, e)
			return
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// OutcomeUnknownError reports a request that was sent but got no definite
// answer: the operation may or may not have run. It matches
// [ErrOutcomeUnknown], and through Unwrap its cause (an [*APIError] for a 5xx,
// a [*TransportError], or a [*ResponseError]) and, when the context ended,
// [context.Canceled] or [context.DeadlineExceeded].
type OutcomeUnknownError struct {
	// Action is the operation, such as "CopyDatabaseBetweenInstances".
	Action string
	// Attempts is how many times the request was sent.
	Attempts int
	// RequestID is the service's id for the last attempt, when known.
	RequestID string
	// Err is what ended the attempt.
	Err error
	// ContextErr is ctx.Err() when the context ended the attempt.
	ContextErr error
}

// Error describes the failure in one line, with the advice to check the
// destination before sending again.
func (e *OutcomeUnknownError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "copydb: %s outcome unknown after %d attempt", e.Action, e.Attempts)
	if e.Attempts != 1 {
		b.WriteByte('s')
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request id %s]", e.RequestID)
	}
	b.WriteString(": the request may have been executed; check the destination before sending it again")
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.ContextErr != nil && !errors.Is(e.Err, e.ContextErr) {
		b.WriteString(": ")
		b.WriteString(e.ContextErr.Error())
	}
	return b.String()
}

// Is makes the error match [ErrOutcomeUnknown].
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap returns the cause and, when the context ended, ctx.Err().
func (e *OutcomeUnknownError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.ContextErr != nil {
		errs = append(errs, e.ContextErr)
	}
	return errs
}

// TransportError is a failure to exchange a request with the service: DNS,
// dial, TLS, a reset or timeout. Sent says whether the request may have
// reached the service. Its text holds the method and the host, never the query
// string.
type TransportError struct {
	// Method and Host of the request; the query (and with it every signed
	// parameter) is left out on purpose.
	Method, Host string
	// Sent is false only when the request provably never left the client
	// (DNS, dial or TLS handshake failures).
	Sent bool
	// Err is the underlying error, with any URL in it stripped of its query.
	Err error
}

// Error returns the method, host and cause in one line.
func (e *TransportError) Error() string {
	return "copydb: " + e.Method + " " + e.Host + ": " + oneLine(e.Err.Error())
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// ResponseError is an answer the client could not use: a body that is not
// the expected JSON or XML (an HTML page from a proxy, say), an empty or
// oversized body, or an unexpected redirect. Snippet is a short, sanitised
// excerpt of the body.
type ResponseError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// ContentType is the answer's Content-Type header.
	ContentType string
	// Snippet is at most 120 printable characters of the body.
	Snippet string
	// RequestID is taken from the x-acs-request-id header, when present.
	RequestID string
	// Reason says what was wrong with the answer.
	Reason string
}

// Error returns the reason, status and snippet in one line.
func (e *ResponseError) Error() string {
	s := fmt.Sprintf("copydb: %s (http %d", e.Reason, e.StatusCode)
	if e.ContentType != "" {
		s += ", " + e.ContentType
	}
	s += ")"
	if e.Snippet != "" {
		s += ": " + strconv.Quote(e.Snippet)
	}
	if e.RequestID != "" {
		s += " [request id " + e.RequestID + "]"
	}
	return s
}

// Is lets a 429 answer without a readable body match [ErrThrottled].
func (e *ResponseError) Is(target error) bool {
	return target == ErrThrottled && e.StatusCode == 429
}

// contextErr returns ctx.Err() when err was caused by the context ending.
func contextErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return context.DeadlineExceeded
	}
	return nil
}
