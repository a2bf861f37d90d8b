package copydb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Defaults of [Client.WaitForCopy].
const (
	// DefaultPollMinDelay is the shortest wait between two polls; the first
	// poll is sent at once.
	DefaultPollMinDelay = 2 * time.Second
	// DefaultPollMaxDelay is the longest wait between two polls.
	DefaultPollMaxDelay = 30 * time.Second
	// DefaultInstanceCheckEvery is how often, in polls, the target instance
	// itself is checked (on the first poll and every n-th after it).
	DefaultInstanceCheckEvery = 5
	// maxPollFailures is how many polls in a row may fail for a passing
	// reason (throttling, a transport error) before the wait gives up.
	maxPollFailures = 3
)

// SleepFunc waits d, or until ctx ends and then returns ctx.Err(). Tests
// give one to [WithSleep] or [WithCopySleep] that advances a fake clock
// instead of sleeping.
type SleepFunc func(ctx context.Context, d time.Duration) error

// WaitOption configures [Client.WaitForCopy]. Options check their input.
type WaitOption func(*waitSettings) error

type waitSettings struct {
	timeout            time.Duration
	minDelay, maxDelay time.Duration
	progress           func(WaitProgress)
	sleep              SleepFunc
	instanceEvery      int
}

// WithWaitTimeout bounds the wait, measured on the client's clock (see
// [WithClock]). [Client.WaitForCopy] needs this or a context deadline.
func WithWaitTimeout(d time.Duration) WaitOption {
	return func(s *waitSettings) error {
		if d <= 0 {
			return fmt.Errorf("copydb: WithWaitTimeout: %v: must be positive", d)
		}
		s.timeout = d
		return nil
	}
}

// WithPollDelay sets the shortest and longest wait between polls: the wait
// doubles from minDelay to maxDelay, each one a random time in its upper
// half (and never below minDelay). The defaults are [DefaultPollMinDelay]
// and [DefaultPollMaxDelay].
func WithPollDelay(minDelay, maxDelay time.Duration) WaitOption {
	return func(s *waitSettings) error {
		if minDelay <= 0 || maxDelay < minDelay {
			return fmt.Errorf("copydb: WithPollDelay: need 0 < min <= max, got %v, %v", minDelay, maxDelay)
		}
		s.minDelay, s.maxDelay = minDelay, maxDelay
		return nil
	}
}

// WithProgress calls fn after every poll with the state of each database
// being copied. fn runs on the waiting goroutine; it should return quickly.
func WithProgress(fn func(WaitProgress)) WaitOption {
	return func(s *waitSettings) error {
		if fn == nil {
			return errors.New("copydb: WithProgress: nil func")
		}
		s.progress = fn
		return nil
	}
}

// WithSleep replaces the wait between polls (a timer that honours the
// context). Tests pass a func that moves a fake clock and returns at once.
func WithSleep(fn SleepFunc) WaitOption {
	return func(s *waitSettings) error {
		if fn == nil {
			return errors.New("copydb: WithSleep: nil func")
		}
		s.sleep = fn
		return nil
	}
}

// WithInstanceCheckEvery sets how often, in polls, the target instance's
// state is read besides its databases: on the first poll and every n-th
// poll after it. The default is [DefaultInstanceCheckEvery].
func WithInstanceCheckEvery(n int) WaitOption {
	return func(s *waitSettings) error {
		if n < 1 {
			return fmt.Errorf("copydb: WithInstanceCheckEvery: %d: must be at least 1", n)
		}
		s.instanceEvery = n
		return nil
	}
}

// DatabaseState is the state of one database of a copy, as one poll saw it.
type DatabaseState struct {
	// Source and Target are the database's names on each instance.
	Source, Target string
	// Status is the target database's DBStatus ("Creating", "Running"), or
	// "" while it has not appeared on the target.
	Status string
}

// WaitProgress is what one poll of [Client.WaitForCopy] saw.
type WaitProgress struct {
	// Poll counts the polls, from 1.
	Poll int
	// Elapsed is the time since the wait began, on the client's clock.
	Elapsed time.Duration
	// Databases are the states of the databases, sorted by source name.
	Databases []DatabaseState
	// Done is set on the poll that saw every database Running.
	Done bool
}

// WaitFailure says why [Client.WaitForCopy] stopped before the copy ended.
type WaitFailure string

// Reasons a wait fails.
const (
	// WaitTimeout: the limit passed (WithWaitTimeout or the context
	// deadline); the error matches [context.DeadlineExceeded].
	WaitTimeout WaitFailure = "timeout"
	// WaitCanceled: the context was cancelled; matches [context.Canceled].
	WaitCanceled WaitFailure = "canceled"
	// WaitDatabaseVanished: a target database seen on an earlier poll is
	// gone.
	WaitDatabaseVanished WaitFailure = "database-vanished"
	// WaitDatabaseDeleting: a target database turned Deleting.
	WaitDatabaseDeleting WaitFailure = "database-deleting"
	// WaitInstanceUnhealthy: the target instance entered a terminal state or
	// was locked; matches [ErrIncorrectInstanceState].
	WaitInstanceUnhealthy WaitFailure = "instance-unhealthy"
	// WaitPollFailed: reading the target failed (for instance it is not
	// found, or throttling persisted); Err is the read's error.
	WaitPollFailed WaitFailure = "poll-failed"
)

// unhealthyStates are instance states a copy cannot finish from. Every other
// state (Running, Restoring, ImportingFromOthers, a class change, ...) is
// taken as passing: a false alarm would abandon a copy that still runs,
// while a missed one only costs the wait's limit.
var unhealthyStates = []string{"Deleting", "Deleted", "Released", "Stopped", "Stopping"}

// WaitError reports a wait that ended before every database was Running.
// It unwraps to Err: [context.DeadlineExceeded] for a timeout,
// [ErrIncorrectInstanceState] for an unhealthy instance, the read's error
// for a failed poll.
type WaitError struct {
	// TargetDBInstanceID is the instance waited on.
	TargetDBInstanceID string
	// Reason says why the wait ended.
	Reason WaitFailure
	// Detail explains it in one line.
	Detail string
	// Last is what the last successful poll saw.
	Last WaitProgress
	// Err is the underlying error, if any.
	Err error
}

// Error returns one line naming the instance and the reason.
func (e *WaitError) Error() string {
	s := "copydb: waiting for the copy to " + e.TargetDBInstanceID + ": " + e.Detail
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *WaitError) Unwrap() error { return e.Err }

// WaitForCopy polls the target instance's databases until every target name
// of req is Running. It needs a limit, a context deadline or
// [WithWaitTimeout]; without one it returns an error matching
// [ErrInvalidRequest] at once, having sent nothing. It polls at once, then
// with jittered, doubling waits between [DefaultPollMinDelay] and
// [DefaultPollMaxDelay] (see [WithPollDelay]), and calls the
// [WithProgress] func after each poll.
//
// The wait ends with a [*WaitError] when the limit passes, when a target
// database seen before disappears or turns Deleting, when the target
// instance (read on the first poll and every few after it) is in a
// terminal state (Deleting, Released, Stopped, ...) or locked, or when
// reading fails other than in passing (throttling and transport errors are
// tolerated a few times in a row). A database that has not appeared yet is
// waited for: the service may take a moment to show it.
func (c *Client) WaitForCopy(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest, opts ...WaitOption) error {
	s, err := newWaitSettings(opts)
	if err != nil {
		return err
	}
	if err := checkWaitable(ctx, c, req, s); err != nil {
		return err
	}
	return c.wait(ctx, req, s)
}

func newWaitSettings(opts []WaitOption) (*waitSettings, error) {
	s := &waitSettings{minDelay: DefaultPollMinDelay, maxDelay: DefaultPollMaxDelay, instanceEvery: DefaultInstanceCheckEvery, sleep: sleepCtx}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("copydb: nil WaitOption")
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkWaitable refuses a wait that could never end or names nothing to
// wait for.
func checkWaitable(ctx context.Context, c *Client, req *CopyDatabaseBetweenInstancesRequest, s *waitSettings) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("copydb: wait not started: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok && s.timeout == 0 {
		return &ValidationError{Field: "WaitForCopy", Reason: "needs a limit: give the context a deadline or use WithWaitTimeout"}
	}
	return req.validate(c.now())
}

// sleepCtx is the default SleepFunc: a timer that honours ctx.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pollDelay returns the wait after the n-th poll (n from 1): a random time
// in [max(min, hi/2), hi] with hi = min(max, min·2ⁿ⁻¹).
func pollDelay(n int, minDelay, maxDelay time.Duration, jitter func(int64) int64) time.Duration {
	hi := maxDelay
	if n-1 < 62 && minDelay <= maxDelay>>uint(n-1) {
		hi = minDelay << uint(n-1)
	}
	lo := max(minDelay, hi/2)
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(jitter(int64(hi-lo)+1))
}

// transient reports read errors worth another poll.
func transient(err error) bool {
	var te *TransportError
	var re *ResponseError
	return errors.Is(err, ErrThrottled) || errors.Is(err, ErrOutcomeUnknown) || errors.As(err, &te) || errors.As(err, &re)
}

func (c *Client) wait(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest, s *waitSettings) error {
	target := req.TargetDBInstanceID
	start := c.now()
	var deadline time.Time
	if s.timeout > 0 {
		deadline = start.Add(s.timeout)
	}
	fail := func(reason WaitFailure, last WaitProgress, err error, format string, args ...any) error {
		return &WaitError{TargetDBInstanceID: target, Reason: reason, Detail: fmt.Sprintf(format, args...), Last: last, Err: err}
	}
	ctxFail := func(last WaitProgress, err error) error {
		if errors.Is(err, context.Canceled) {
			return fail(WaitCanceled, last, err, "cancelled")
		}
		return fail(WaitTimeout, last, err, "the copy did not finish in time")
	}
	sources := slices.Sorted(maps.Keys(req.DBNames))
	seen := make(map[string]bool, len(sources))
	var last WaitProgress
	failures := 0
	for poll := 1; ; poll++ {
		err := c.pollOnce(ctx, req, s, poll, sources, seen, start, &last)
		var we *WaitError
		switch {
		case err == nil:
			failures = 0
			if last.Done {
				return nil
			}
		case errors.As(err, &we):
			we.Last = last
			return we
		case ctx.Err() != nil:
			return ctxFail(last, ctx.Err())
		case transient(err) && failures < maxPollFailures:
			failures++
		default:
			return fail(WaitPollFailed, last, err, "reading the target failed")
		}
		now := c.now()
		delay := pollDelay(poll, s.minDelay, s.maxDelay, c.jitter)
		if !deadline.IsZero() {
			if !now.Before(deadline) {
				return fail(WaitTimeout, last, context.DeadlineExceeded, "the copy did not finish within %v", s.timeout)
			}
			delay = min(delay, deadline.Sub(now))
		}
		if err := s.sleep(ctx, delay); err != nil {
			return ctxFail(last, err)
		}
	}
}

// pollOnce reads the target (and, every few polls, the instance) once and
// updates last. A *WaitError ends the wait; another error is a failed read.
func (c *Client) pollOnce(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest, s *waitSettings, poll int,
	sources []string, seen map[string]bool, start time.Time, last *WaitProgress) error {
	target := req.TargetDBInstanceID
	if poll == 1 || (poll-1)%s.instanceEvery == 0 {
		attr, err := c.DescribeDBInstanceAttribute(ctx, target)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(unhealthyStates, func(st string) bool { return strings.EqualFold(st, attr.Status) }) {
			return &WaitError{TargetDBInstanceID: target, Reason: WaitInstanceUnhealthy, Err: ErrIncorrectInstanceState,
				Detail: fmt.Sprintf("target instance is %s", attr.Status)}
		}
		if !attr.Unlocked() {
			return &WaitError{TargetDBInstanceID: target, Reason: WaitInstanceUnhealthy, Err: ErrIncorrectInstanceState,
				Detail: fmt.Sprintf("target instance is locked (%s)", attr.LockMode)}
		}
	}
	dbs, err := c.DescribeDatabases(ctx, target)
	if err != nil {
		return err
	}
	status := make(map[string]string, len(dbs))
	for _, d := range dbs {
		status[d.Name] = d.Status
	}
	p := WaitProgress{Poll: poll, Elapsed: c.now().Sub(start), Databases: make([]DatabaseState, 0, len(sources)), Done: true}
	var vanished, deleting []string
	for _, src := range sources {
		dst := req.DBNames[src]
		st, ok := status[dst]
		switch {
		case !ok && seen[dst]:
			vanished = append(vanished, dst)
		case strings.EqualFold(st, "Deleting"):
			deleting = append(deleting, dst)
		}
		if ok {
			seen[dst] = true
		}
		if st != "Running" {
			p.Done = false
		}
		p.Databases = append(p.Databases, DatabaseState{Source: src, Target: dst, Status: st})
	}
	*last = p
	if s.progress != nil {
		s.progress(p)
	}
	switch {
	case len(vanished) > 0:
		return &WaitError{TargetDBInstanceID: target, Reason: WaitDatabaseVanished,
			Detail: fmt.Sprintf("database(s) %s disappeared from the target after they appeared", quoteList(vanished))}
	case len(deleting) > 0:
		return &WaitError{TargetDBInstanceID: target, Reason: WaitDatabaseDeleting,
			Detail: fmt.Sprintf("database(s) %s are being deleted on the target", quoteList(deleting))}
	}
	return nil
}
