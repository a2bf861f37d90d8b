package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/rdskit/copydb"
)

// Exit codes, documented in the usage text.
const (
	exitOK          = 0   // the copy is done (or, with -dry-run, the preflight passed; with -no-wait, the copy was accepted)
	exitFailed      = 1   // the service refused the copy, a read failed, or the wait ended before the copy did
	exitUsage       = 2   // bad flags or invalid input: nothing was sent
	exitViolations  = 3   // the preflight found violated conditions: nothing was sent
	exitUnknown     = 4   // the copy's outcome is still unknown after reconciliation
	exitInterrupted = 130 // interrupted (Ctrl-C)
)

const defaultTimeout = 2 * time.Hour

// env is what run takes from the world; tests replace parts of it. The zero
// env is the real one.
type env struct {
	// now is the clock of timestamps and elapsed times, and of the client
	// (and of the demo's fake). nil means time.Now.
	now func() time.Time
	// sleep replaces every wait between polls. nil means a real timer.
	sleep copydb.SleepFunc
	// terminal reports whether w is a terminal that can redraw lines. nil
	// means isTerminal.
	terminal func(w io.Writer) bool
	// newClient makes the client of real (non-demo) use from the options
	// run chose. nil means copydb.New. Tests return a client wired to a
	// copydbtest fake.
	newClient func(opts ...copydb.Option) (*copydb.Client, error)
	// creds are the credentials of real use. nil means
	// copydb.DefaultCredentials().
	creds copydb.CredentialsProvider
	// demoCopyDuration is how long the demo fake's copy stays Creating; 0
	// means demoDefaultCopyDuration.
	demoCopyDuration time.Duration
	// tick is how often the live status lines are redrawn between polls on a
	// terminal; 0 means every second, negative never.
	tick time.Duration
}

func (e *env) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

// config is the parsed command line.
type config struct {
	demo          bool
	source        string
	target        string
	dbs           dbFlag
	backupID      string
	restoreTime   string
	syncUsers     bool
	region        string
	endpoint      string
	dryRun        bool
	noWait        bool
	skipPreflight bool
	timeout       time.Duration
	json          bool
	verbose       bool
}

// dbFlag collects repeated -db src[:dst] flags.
type dbFlag []string

func (d *dbFlag) String() string { return strings.Join(*d, ",") }

func (d *dbFlag) Set(v string) error {
	*d = append(*d, v)
	return nil
}

const usageText = `Usage: copydb [flags]
       copydb -source rm-... -target rm-... -db src[:dst] [-db ...] [flags]

copydb checks the documented conditions of a CopyDatabaseBetweenInstances copy
(preflight), sends the copy, and waits until every copied database is Running
on the target instance.

Without -source and -target (no flags at all, -demo, or only output flags
such as -json or -v) it runs a demo against the built-in fake of the service
(package copydbtest) in this process: no cloud account is used and nothing
real is touched. In the demo, backup set ` + demoBackupID + ` of the source holds every
database (try -backup-id ` + demoBackupID + ` or -restore-time).

Credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET
and ALIBABA_CLOUD_SECURITY_TOKEN, then from the file named by
ALIBABA_CLOUD_CREDENTIALS_FILE or ~/.alibabacloud/credentials (profile
ALIBABA_CLOUD_PROFILE or "default").

Flags:
`

const exitCodesText = `
Exit codes:
  0    done: every database is Running on the target (with -dry-run: the
       preflight passed; with -no-wait: the copy was accepted)
  1    the service refused the copy or failed, a read failed, or the wait
       ended before the copy did (timeout, target unhealthy)
  2    bad usage or invalid input; nothing was sent
  3    the preflight found violated conditions; nothing was sent
  4    the copy's outcome is unknown even after reconciliation: check the
       target before sending it again
  130  interrupted (Ctrl-C); a copy already accepted goes on at the service
`

// run is the whole command: it parses args, does the job and returns the
// exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, stdout, stderr, &env{})
}

func runWith(ctx context.Context, args []string, stdout, stderr io.Writer, e *env) int {
	cfg, code, ok := parseFlags(args, stdout, stderr)
	if !ok {
		return code
	}
	j := &job{cfg: cfg, env: e, stdout: stdout, stderr: stderr, start: e.clock()}
	return j.run(ctx)
}

// parseFlags parses and checks the command line. When ok is false, the
// caller returns code; a usage error found after parsing is also reported
// as the JSON object on stdout with -json.
func parseFlags(args []string, stdout, stderr io.Writer) (cfg *config, code int, ok bool) {
	cfg = &config{}
	fs := flag.NewFlagSet("copydb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&cfg.demo, "demo", false, "run the demo against the built-in fake service (the default without -source and -target)")
	fs.StringVar(&cfg.source, "source", "", "source instance id (rm-...)")
	fs.StringVar(&cfg.target, "target", "", "target instance id (rm-...); must differ from -source")
	fs.Var(&cfg.dbs, "db", "database to copy, `src[:dst]` (dst defaults to src); repeat for several")
	fs.StringVar(&cfg.backupID, "backup-id", "", "copy from this backup set of the source")
	fs.StringVar(&cfg.restoreTime, "restore-time", "", "copy the databases as they were at this `time` (RFC 3339, converted to UTC)")
	fs.BoolVar(&cfg.syncUsers, "sync-users", false, "copy users and their permissions too (SyncUserPrivilege)")
	fs.StringVar(&cfg.region, "region", os.Getenv(copydb.EnvRegionID), "region id, such as cn-hangzhou (default from "+copydb.EnvRegionID+")")
	fs.StringVar(&cfg.endpoint, "endpoint", "", "API endpoint `URL` (default: the region's)")
	fs.BoolVar(&cfg.dryRun, "dry-run", false, "run the preflight only; nothing is changed")
	fs.BoolVar(&cfg.noWait, "no-wait", false, "do not wait for the copy to finish once it is accepted")
	fs.BoolVar(&cfg.skipPreflight, "skip-preflight", false, "send the copy without the preflight (an unknown outcome is then not reconciled)")
	fs.DurationVar(&cfg.timeout, "timeout", defaultTimeout, "overall limit, the wait for the copy included")
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object with the result on stdout, and nothing else")
	fs.BoolVar(&cfg.verbose, "v", false, "log each request and answer to stderr (redacted: no secret, signature or full AccessKeyId)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), exitCodesText)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, exitOK, false
		}
		return nil, exitUsage, false
	}
	usageErr := func(format string, a ...any) (*config, int, bool) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(stderr, "copydb: %s\nRun copydb -h for usage.\n", msg)
		if cfg.json {
			r := &result{Mode: "invalid", DBNames: map[string]string{}, Violations: []violation{}, Warnings: []string{},
				Source: cfg.source, Target: cfg.target, Outcome: "invalid", Error: msg, ExitCode: exitUsage}
			if err := writeJSON(stdout, r); err != nil {
				fmt.Fprintf(stderr, "copydb: writing the result: %v\n", err)
			}
		}
		return nil, exitUsage, false
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q: every input is a flag", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	realUse := cfg.source != "" || cfg.target != "" || len(cfg.dbs) > 0
	if cfg.demo && realUse {
		return usageErr("-demo runs against the built-in fake: it cannot be combined with -source, -target or -db")
	}
	if !realUse {
		cfg.demo = true
		for _, name := range []string{"region", "endpoint"} {
			if set[name] {
				return usageErr("-%s needs -source, -target and -db (without them copydb runs the demo)", name)
			}
		}
	} else {
		var missing []string
		for _, m := range []struct {
			name string
			ok   bool
		}{{"-source", cfg.source != ""}, {"-target", cfg.target != ""}, {"-db", len(cfg.dbs) > 0}} {
			if !m.ok {
				missing = append(missing, m.name)
			}
		}
		if len(missing) > 0 {
			return usageErr("missing %s: a copy needs -source, -target and at least one -db", strings.Join(missing, ", "))
		}
	}
	if cfg.timeout <= 0 {
		return usageErr("-timeout %v: must be positive", cfg.timeout)
	}
	if cfg.dryRun && (cfg.noWait || cfg.skipPreflight) {
		return usageErr("-dry-run runs the preflight only: it cannot be combined with -no-wait or -skip-preflight")
	}
	return cfg, 0, true
}

// parseDBs turns -db values into the request's name map.
func parseDBs(values []string) (map[string]string, error) {
	names := make(map[string]string, len(values))
	var errs []error
	for _, v := range values {
		src, dst, found := strings.Cut(v, ":")
		src, dst = strings.TrimSpace(src), strings.TrimSpace(dst)
		if !found {
			dst = src
		}
		switch {
		case src == "" || dst == "":
			errs = append(errs, fmt.Errorf("-db %q: want src or src:dst with non-empty names", v))
			continue
		case strings.Contains(dst, ":"):
			errs = append(errs, fmt.Errorf("-db %q: want src or src:dst, with one colon", v))
			continue
		}
		if prev, dup := names[src]; dup {
			errs = append(errs, fmt.Errorf("-db %q: database %s is already copied to %s", v, src, prev))
			continue
		}
		names[src] = dst
	}
	return names, errors.Join(errs...)
}

// job is one run of the command.
type job struct {
	cfg            *config
	env            *env
	stdout, stderr io.Writer
	start          time.Time

	client *copydb.Client
	req    *copydb.CopyDatabaseBetweenInstancesRequest
	res    result
	prog   *progress
}

func (j *job) run(ctx context.Context) int {
	cfg := j.cfg
	j.res = result{Mode: "copy", DBNames: map[string]string{}, Violations: []violation{}, Warnings: []string{}}
	switch {
	case cfg.demo:
		j.res.Mode = "demo"
	case cfg.dryRun:
		j.res.Mode = "dry-run"
	}
	if cfg.demo && cfg.dryRun {
		j.res.Mode = "demo-dry-run"
	}

	req, err := j.request()
	if err != nil {
		return j.finish(exitUsage, "invalid", err)
	}
	j.req = req

	var logger *slog.Logger
	if cfg.verbose {
		logger = slog.New(slog.NewTextHandler(j.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.demo {
		j.client, err = j.demoClient(logger)
		if err != nil {
			return j.finish(exitFailed, "failed", fmt.Errorf("starting the demo: %w", err))
		}
		j.textf("copydb demo: this runs against the built-in fake of the RDS service (package copydbtest),\n")
		j.textf("in this process. No cloud account is used and nothing real is touched.\n")
		j.textf("To copy for real, give -source, -target and -db (see copydb -h).\n\n")
		if cfg.json {
			fmt.Fprintln(j.stderr, "copydb demo: running against the built-in fake service; nothing real is touched")
		}
	} else {
		j.client, err = j.realClient(ctx, logger)
		if err != nil {
			return j.finish(exitUsage, "invalid", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	j.describeJob()
	if cfg.dryRun {
		return j.dryRun(ctx)
	}
	return j.copy(ctx)
}

// request builds the copy request from the flags; in the demo, from the
// demo's instances.
func (j *job) request() (*copydb.CopyDatabaseBetweenInstancesRequest, error) {
	cfg := j.cfg
	req := &copydb.CopyDatabaseBetweenInstancesRequest{
		DBInstanceID:       cfg.source,
		TargetDBInstanceID: cfg.target,
		BackupID:           cfg.backupID,
		SyncUserPrivilege:  cfg.syncUsers,
	}
	if cfg.demo {
		req.DBInstanceID, req.TargetDBInstanceID = demoSource, demoTarget
		req.DBNames = demoDBNames()
	} else {
		names, err := parseDBs(cfg.dbs)
		if err != nil {
			return nil, err
		}
		req.DBNames = names
	}
	j.res.Source, j.res.Target = req.DBInstanceID, req.TargetDBInstanceID
	j.res.DBNames = req.DBNames
	j.res.BackupID = req.BackupID
	if cfg.restoreTime != "" {
		t, err := time.Parse(time.RFC3339, cfg.restoreTime)
		if err != nil {
			return nil, fmt.Errorf("-restore-time %q: not an RFC 3339 time such as 2025-06-01T08:00:00+08:00", cfg.restoreTime)
		}
		req.RestoreTime = t.UTC()
		j.res.RestoreTime = req.RestoreTime.Format(time.RFC3339)
	}
	if strings.EqualFold(req.DBInstanceID, req.TargetDBInstanceID) {
		return nil, fmt.Errorf("-source and -target are both %s: the target must be another instance", req.DBInstanceID)
	}
	return req, nil
}

// realClient makes the client for the real service, after checking that
// credentials can be found.
func (j *job) realClient(ctx context.Context, logger *slog.Logger) (*copydb.Client, error) {
	provider := j.env.creds
	if provider == nil {
		provider = copydb.DefaultCredentials()
	}
	creds, err := provider.Credentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("no usable credentials: %w", err)
	}
	opts := []copydb.Option{copydb.WithCredentials(provider), copydb.WithUserAgent("copydb-cli")}
	if j.cfg.region != "" {
		opts = append(opts, copydb.WithRegion(j.cfg.region))
	}
	if j.cfg.endpoint != "" {
		opts = append(opts, copydb.WithEndpoint(j.cfg.endpoint))
	}
	if logger != nil {
		opts = append(opts, copydb.WithLogger(logger))
	}
	if j.env.now != nil {
		opts = append(opts, copydb.WithClock(j.env.now))
	}
	newClient := j.env.newClient
	if newClient == nil {
		newClient = copydb.New
	}
	c, err := newClient(opts...)
	if err != nil {
		return nil, err
	}
	j.res.Region = c.Region()
	j.textf("Using %s in region %s, AccessKeyId %s.\n\n", c.Endpoint(), c.Region(), copydb.MaskAccessKeyID(creds.AccessKeyID))
	return c, nil
}

// describeJob prints what is about to happen.
func (j *job) describeJob() {
	req := j.req
	var parts []string
	for _, src := range slices.Sorted(maps.Keys(req.DBNames)) {
		if dst := req.DBNames[src]; dst != src {
			parts = append(parts, src+" as "+dst)
		} else {
			parts = append(parts, src)
		}
	}
	from := ""
	switch {
	case req.BackupID != "":
		from = " from backup set " + req.BackupID
	case !req.RestoreTime.IsZero():
		from = " as of " + req.RestoreTime.Format(time.RFC3339)
	}
	verb := "Copying"
	if j.cfg.dryRun {
		verb = "Checking a copy of"
	}
	j.textf("%s %s%s from %s to %s", verb, strings.Join(parts, ", "), from, req.DBInstanceID, req.TargetDBInstanceID)
	if req.SyncUserPrivilege {
		j.textf(", with users and permissions")
	}
	j.textf(".\n\n")
}

func (j *job) dryRun(ctx context.Context) int {
	report, err := j.client.Preflight(ctx, j.req)
	j.addReport(report)
	if code, outcome, ok := j.preflightFailed(ctx, err); ok {
		return j.finish(code, outcome, err)
	}
	return j.finish(exitOK, "preflight-passed", nil)
}

// preflightFailed classifies a preflight error.
func (j *job) preflightFailed(ctx context.Context, err error) (code int, outcome string, failed bool) {
	if err == nil {
		return 0, "", false
	}
	var ce *copydb.ConditionError
	switch {
	case errors.As(err, &ce):
		return exitViolations, "violations", true
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled):
		return exitInterrupted, "interrupted", true
	case len(copydb.ValidationErrors(err)) > 0:
		return exitUsage, "invalid", true
	}
	return exitFailed, "failed", true
}

func (j *job) copy(ctx context.Context) int {
	opts := []copydb.CopyOption{}
	if j.cfg.skipPreflight {
		opts = append(opts, copydb.WithoutPreflight())
	}
	if j.env.sleep != nil {
		opts = append(opts, copydb.WithCopySleep(j.env.sleep))
	}
	res, err := j.client.Copy(ctx, j.req, opts...)
	if res != nil {
		j.addReport(res.Preflight)
	}
	if res == nil || res.Attempts == 0 {
		// Nothing was sent: the options, the preflight or the context
		// stopped Copy.
		code, outcome, _ := j.preflightFailed(ctx, err)
		return j.finish(code, outcome, err)
	}
	j.res.Copy = &copyInfo{Path: string(res.Path), RequestID: res.RequestID, Attempts: res.Attempts}
	if err != nil {
		j.res.Copy.Error = err.Error()
		switch {
		case interrupted(ctx):
			return j.finish(exitInterrupted, "interrupted", err)
		case errors.Is(err, copydb.ErrOutcomeUnknown):
			return j.finish(exitUnknown, "unknown", err)
		case len(copydb.ValidationErrors(err)) > 0:
			return j.finish(exitUsage, "invalid", err)
		}
		return j.finish(exitFailed, "refused", err)
	}
	j.printCopy(res)
	if j.cfg.noWait {
		return j.finish(exitOK, "accepted", nil)
	}
	return j.wait(ctx)
}

func (j *job) wait(ctx context.Context) int {
	remaining := j.cfg.timeout - j.env.clock().Sub(j.start)
	if remaining <= 0 {
		remaining = time.Nanosecond
	}
	j.prog = newProgress(j)
	wopts := []copydb.WaitOption{
		copydb.WithWaitTimeout(remaining),
		copydb.WithProgress(j.prog.update),
	}
	if j.cfg.demo {
		// The demo's copy takes seconds: poll often so that progress shows.
		wopts = append(wopts, copydb.WithPollDelay(time.Second, 2*time.Second))
	}
	if j.env.sleep != nil {
		wopts = append(wopts, copydb.WithSleep(j.env.sleep))
	}
	j.prog.begin()
	err := j.client.WaitForCopy(ctx, j.req, wopts...)
	j.prog.end()
	j.res.Databases = j.prog.final()
	var we *copydb.WaitError
	if errors.As(err, &we) && len(j.res.Databases) == 0 {
		j.res.Databases = statesOf(we.Last.Databases)
	}
	switch {
	case err == nil:
		return j.finish(exitOK, "done", nil)
	case interrupted(ctx):
		return j.finish(exitInterrupted, "interrupted", err)
	case len(copydb.ValidationErrors(err)) > 0:
		return j.finish(exitUsage, "invalid", err)
	}
	return j.finish(exitFailed, "wait-failed", err)
}

// interrupted reports whether ctx ended because its parent was cancelled
// (Ctrl-C), not because of -timeout.
func interrupted(ctx context.Context) bool {
	return ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled)
}

// finish records the outcome, prints the summary (or the JSON object) and
// returns code.
func (j *job) finish(code int, outcome string, err error) int {
	j.res.Outcome, j.res.ExitCode = outcome, code
	if err != nil {
		j.res.Error = err.Error()
	}
	if j.cfg.json {
		if werr := writeJSON(j.stdout, &j.res); werr != nil {
			fmt.Fprintf(j.stderr, "copydb: writing the result: %v\n", werr)
		}
		if err != nil && code != exitViolations {
			fmt.Fprintf(j.stderr, "copydb: %v\n", oneLine(err))
		}
		return code
	}
	j.printSummary(code, outcome, err)
	return code
}
