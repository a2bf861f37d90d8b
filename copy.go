package copydb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults of [Client.Copy]'s reconciliation.
const (
	// DefaultReconcilePolls is how many times Copy reads the target after a
	// copy whose outcome is unknown before it sends the copy again.
	DefaultReconcilePolls = 5
	// DefaultReconcileInterval is the wait before each of those reads.
	DefaultReconcileInterval = 2 * time.Second
)

// CopyOption configures [Client.Copy]. Options check their input.
type CopyOption func(*copySettings) error

type copySettings struct {
	skipPreflight     bool
	wait              bool
	waitOpts          []WaitOption
	reconcilePolls    int
	reconcileInterval time.Duration
	sleep             SleepFunc
}

// WithoutPreflight skips [Client.Preflight]. Copy then cannot prove that the
// target names were absent before the copy, so after an outcome-unknown
// failure it neither reconciles nor resends: it returns the error matching
// [ErrOutcomeUnknown].
func WithoutPreflight() CopyOption {
	return func(s *copySettings) error {
		s.skipPreflight = true
		return nil
	}
}

// WithWaitForCopy makes Copy wait, after the copy is accepted, until the
// databases are Running, as [Client.WaitForCopy] does with opts. The wait
// needs a limit (a context deadline or [WithWaitTimeout]); Copy checks that
// before sending anything.
func WithWaitForCopy(opts ...WaitOption) CopyOption {
	return func(s *copySettings) error {
		s.wait = true
		s.waitOpts = append(s.waitOpts, opts...)
		return nil
	}
}

// WithReconcileGrace sets how many times, and how far apart, Copy reads the
// target after a copy whose outcome is unknown, before it concludes the copy
// was not accepted and sends it again. The defaults are
// [DefaultReconcilePolls] and [DefaultReconcileInterval].
func WithReconcileGrace(polls int, interval time.Duration) CopyOption {
	return func(s *copySettings) error {
		if polls < 1 || interval < 0 {
			return fmt.Errorf("copydb: WithReconcileGrace: need polls >= 1 and interval >= 0, got %d, %v", polls, interval)
		}
		s.reconcilePolls, s.reconcileInterval = polls, interval
		return nil
	}
}

// WithCopySleep replaces every wait of Copy (reconciliation, and the wait
// for the copy unless [WithSleep] is among its options), as [WithSleep]
// does for [Client.WaitForCopy].
func WithCopySleep(fn SleepFunc) CopyOption {
	return func(s *copySettings) error {
		if fn == nil {
			return errors.New("copydb: WithCopySleep: nil func")
		}
		s.sleep = fn
		return nil
	}
}

// CopyPath says how [Client.Copy] got the copy accepted.
type CopyPath string

// The paths of [Client.Copy].
const (
	// CopyPathSent: the copy was sent once and accepted.
	CopyPathSent CopyPath = "sent"
	// CopyPathReconciledFound: the copy's outcome was unknown, and the
	// target names then appeared on the target: the copy had been accepted.
	CopyPathReconciledFound CopyPath = "reconciled-found"
	// CopyPathResent: the outcome was unknown, the names did not appear
	// within the grace period, the copy was sent again and accepted.
	CopyPathResent CopyPath = "resent"
	// CopyPathResentClash: as CopyPathResent, but the second send found the
	// names already on the target: the first copy had been accepted after
	// all.
	CopyPathResentClash CopyPath = "resent-clash"
)

// CopyResult is what [Client.Copy] did.
type CopyResult struct {
	// Path says how the copy was accepted; "" when it was not (or it is
	// unknown).
	Path CopyPath
	// RequestID is the service's id of the accepted copy request, when known
	// (an outcome-unknown request may have none).
	RequestID string
	// Attempts is how many times the copy was sent: 1, or 2 after a resend.
	Attempts int
	// Preflight is the preflight's report; nil when skipped.
	Preflight *PreflightReport
	// Unknown is the outcome-unknown error that started the reconciliation;
	// nil on CopyPathSent.
	Unknown error
	// Waited is set when the wait for the copy ended with every database
	// Running.
	Waited bool
}

// Copy is the safe one-call copy: [Client.Preflight] (unless
// [WithoutPreflight]), then [Client.CopyDatabaseBetweenInstances], then,
// with [WithWaitForCopy], [Client.WaitForCopy]. A failed preflight stops it
// before anything is sent.
//
// When the copy call ends in [ErrOutcomeUnknown], Copy reconciles instead of
// guessing: the preflight proved the target names absent, so it reads the
// target's databases a few times ([WithReconcileGrace]); if any target name
// has appeared (Creating or Running) the copy was accepted
// ([CopyPathReconciledFound]). If none appears, and at least one of those
// reads succeeded, it sends the copy once more ([CopyPathResent]); when no
// read succeeded it returns the outcome-unknown error rather than resend
// blind; a name clash ([ErrDatabaseExists]) on that second send
// means the first was accepted after all ([CopyPathResentClash]). Either
// way at most one copy runs, since the service refuses a name that exists.
// A second outcome-unknown failure is returned, not retried.
//
// The result is returned with every error, saying how far Copy got.
func (c *Client) Copy(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest, opts ...CopyOption) (*CopyResult, error) {
	s := &copySettings{reconcilePolls: DefaultReconcilePolls, reconcileInterval: DefaultReconcileInterval, sleep: sleepCtx}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("copydb: nil CopyOption")
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	res := &CopyResult{}
	var ws *waitSettings
	if s.wait {
		var err error
		if ws, err = newWaitSettings(append([]WaitOption{WithSleep(s.sleep)}, s.waitOpts...)); err != nil {
			return res, err
		}
		if err := checkWaitable(ctx, c, req, ws); err != nil {
			return res, err
		}
	}
	if !s.skipPreflight {
		report, err := c.Preflight(ctx, req)
		res.Preflight = report
		if err != nil {
			return res, err
		}
	}
	res.Attempts++
	resp, err := c.CopyDatabaseBetweenInstances(ctx, req)
	switch {
	case err == nil:
		res.Path, res.RequestID = CopyPathSent, resp.RequestID
	case !errors.Is(err, ErrOutcomeUnknown) || s.skipPreflight:
		return res, err
	default:
		res.Unknown = err
		if err := c.reconcile(ctx, req, s, res); err != nil {
			return res, err
		}
	}
	if ws != nil {
		if err := c.wait(ctx, req, ws); err != nil {
			return res, err
		}
		res.Waited = true
	}
	return res, nil
}

// reconcile settles a copy whose outcome is unknown (res.Unknown): it looks
// for the target names, then sends once more.
func (c *Client) reconcile(ctx context.Context, req *CopyDatabaseBetweenInstancesRequest, s *copySettings, res *CopyResult) error {
	var oe *OutcomeUnknownError
	if errors.As(res.Unknown, &oe) {
		res.RequestID = oe.RequestID
	}
	var lastErr error
	sawAbsent := false // a poll succeeded and showed no target name
	for i := 0; i < s.reconcilePolls; i++ {
		if err := s.sleep(ctx, s.reconcileInterval); err != nil {
			return fmt.Errorf("copydb: copy outcome unknown, reconciliation interrupted: %w", errors.Join(err, res.Unknown))
		}
		dbs, err := c.DescribeDatabases(ctx, req.TargetDBInstanceID)
		if err != nil {
			if transient(err) && ctx.Err() == nil {
				lastErr = err
				continue
			}
			return fmt.Errorf("copydb: copy outcome unknown, and reading the target failed: %w", errors.Join(err, res.Unknown))
		}
		if anyTargetPresent(dbs, req.DBNames) {
			res.Path = CopyPathReconciledFound
			return nil
		}
		sawAbsent = true
	}
	if !sawAbsent {
		// Never having seen the target, nothing says the first copy did not
		// start: sending again would be a guess.
		return fmt.Errorf("copydb: copy outcome unknown, and the target could not be read to reconcile: %w", errors.Join(lastErr, res.Unknown))
	}
	res.Attempts++
	resp, err := c.CopyDatabaseBetweenInstances(ctx, req)
	switch {
	case err == nil:
		res.Path, res.RequestID = CopyPathResent, resp.RequestID
		return nil
	case errors.Is(err, ErrDatabaseExists):
		res.Path = CopyPathResentClash
		return nil
	}
	return err
}

// anyTargetPresent reports whether a target name is on the target, in a
// state other than Deleting.
func anyTargetPresent(dbs []Database, names map[string]string) bool {
	for _, d := range dbs {
		if strings.EqualFold(d.Status, "Deleting") {
			continue
		}
		for _, dst := range names {
			if strings.EqualFold(d.Name, dst) {
				return true
			}
		}
	}
	return false
}
