package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rdskit/copydb"
)

// result is the -json output: one object with everything the run found.
type result struct {
	Mode        string            `json:"mode"` // demo, demo-dry-run, copy, dry-run, or invalid for a usage error
	Source      string            `json:"source"`
	Target      string            `json:"target"`
	Region      string            `json:"region,omitempty"`
	DBNames     map[string]string `json:"dbnames"`
	BackupID    string            `json:"backup_id,omitempty"`
	RestoreTime string            `json:"restore_time,omitempty"`
	Preflight   *preflightInfo    `json:"preflight"`
	Violations  []violation       `json:"violations"`
	Warnings    []string          `json:"warnings"`
	Copy        *copyInfo         `json:"copy"`
	Databases   []dbState         `json:"databases"`
	// Outcome is done, accepted (-no-wait), preflight-passed (-dry-run),
	// violations, invalid, refused, failed, wait-failed, unknown or
	// interrupted.
	Outcome  string `json:"outcome"`
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exit_code"`
}

type preflightInfo struct {
	Source         *instanceInfo `json:"source"`
	Target         *instanceInfo `json:"target"`
	Databases      []dbCopy      `json:"databases"`
	NeededBytes    int64         `json:"needed_bytes"`
	NeededEstimate string        `json:"needed_estimate"`
	FreeBytes      int64         `json:"free_bytes"`
	BackupID       string        `json:"backup_id,omitempty"`
}

type instanceInfo struct {
	ID            string `json:"id"`
	Engine        string `json:"engine"`
	EngineVersion string `json:"engine_version"`
	Region        string `json:"region"`
	Zone          string `json:"zone"`
	NetworkType   string `json:"network_type"`
	Status        string `json:"status"`
	StorageBytes  int64  `json:"storage_bytes"`
	UsedBytes     int64  `json:"used_bytes"`
	FreeBytes     int64  `json:"free_bytes"`
}

type dbCopy struct {
	Source    string `json:"source"`
	Target    string `json:"target"`
	SizeBytes int64  `json:"size_bytes"`
}

type violation struct {
	Condition string `json:"condition"`
	Message   string `json:"message"`
}

type copyInfo struct {
	Path      string `json:"path"`
	RequestID string `json:"request_id"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error,omitempty"`
}

type dbState struct {
	Source string `json:"source"`
	Target string `json:"target"`
	Status string `json:"status"`
}

func writeJSON(w io.Writer, r *result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func instanceOf(a *copydb.DBInstanceAttribute) *instanceInfo {
	if a == nil {
		return nil
	}
	return &instanceInfo{
		ID: a.DBInstanceID, Engine: a.Engine, EngineVersion: a.EngineVersion, Region: a.RegionID, Zone: a.ZoneID,
		NetworkType: a.NetworkType, Status: a.Status, StorageBytes: a.StorageBytes, UsedBytes: a.UsedBytes, FreeBytes: a.FreeBytes(),
	}
}

func statesOf(states []copydb.DatabaseState) []dbState {
	out := make([]dbState, 0, len(states))
	for _, s := range states {
		out = append(out, dbState{Source: s.Source, Target: s.Target, Status: s.Status})
	}
	return out
}

// addReport records the preflight's report and prints it.
func (j *job) addReport(r *copydb.PreflightReport) {
	if r == nil {
		return
	}
	p := &preflightInfo{
		Source: instanceOf(r.Source), Target: instanceOf(r.Target), Databases: []dbCopy{},
		NeededBytes: r.NeededBytes, NeededEstimate: string(r.NeededEstimate), FreeBytes: r.FreeBytes,
	}
	if r.Backup != nil {
		p.BackupID = r.Backup.BackupID
	}
	for _, d := range r.Databases {
		p.Databases = append(p.Databases, dbCopy{Source: d.Source, Target: d.Target, SizeBytes: d.SizeBytes})
	}
	j.res.Preflight = p
	for _, v := range r.Violations {
		j.res.Violations = append(j.res.Violations, violation{Condition: string(v.Condition), Message: v.Detail})
	}
	j.res.Warnings = append(j.res.Warnings, r.Warnings...)
	if j.cfg.json {
		return
	}
	j.printReport(r)
}

// printReport prints the preflight's facts as aligned tables, then each
// violation and warning on its own line.
func (j *job) printReport(r *copydb.PreflightReport) {
	w := tabwriter.NewWriter(j.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "Preflight\tSOURCE\tTARGET")
	row := func(name string, f func(a *copydb.DBInstanceAttribute) string) {
		cell := func(a *copydb.DBInstanceAttribute) string {
			if a == nil {
				return "-"
			}
			return orDash(f(a))
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", name, cell(r.Source), cell(r.Target))
	}
	row("instance", func(a *copydb.DBInstanceAttribute) string { return a.DBInstanceID })
	row("engine", func(a *copydb.DBInstanceAttribute) string { return a.Engine + " " + a.EngineVersion })
	row("region", func(a *copydb.DBInstanceAttribute) string { return a.RegionID })
	row("zone", func(a *copydb.DBInstanceAttribute) string { return a.ZoneID })
	row("network", func(a *copydb.DBInstanceAttribute) string { return a.NetworkType })
	row("status", func(a *copydb.DBInstanceAttribute) string { return a.Status })
	row("storage", func(a *copydb.DBInstanceAttribute) string { return formatBytes(a.StorageBytes) })
	row("used", func(a *copydb.DBInstanceAttribute) string { return formatBytes(a.UsedBytes) })
	row("free", func(a *copydb.DBInstanceAttribute) string { return formatBytes(a.FreeBytes()) })
	w.Flush()
	fmt.Fprintln(j.stdout)
	w = tabwriter.NewWriter(j.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "Databases to copy\tTARGET NAME\tSIZE")
	for _, d := range r.Databases {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", d.Source, d.Target, formatBytes(d.SizeBytes))
	}
	w.Flush()
	needed := "unknown: the storage condition was not checked"
	switch r.NeededEstimate {
	case copydb.EstimateDatabaseSizes:
		needed = formatBytes(r.NeededBytes) + " (the sum of the databases' sizes)"
		if slices.ContainsFunc(r.Databases, func(d copydb.DatabaseCopy) bool { return d.SizeBytes < 0 }) {
			needed = "at least " + formatBytes(r.NeededBytes) + " (the sum of the sizes known)"
		}
	case copydb.EstimateSourceUsed:
		needed = formatBytes(r.NeededBytes) + " (the source's used space: every database is copied)"
	}
	fmt.Fprintf(j.stdout, "Space needed on the target: %s; free: %s.\n", needed, formatBytes(r.FreeBytes))
	if r.Backup != nil {
		fmt.Fprintf(j.stdout, "Backup set: %s, %s to %s.\n", r.Backup.BackupID,
			r.Backup.StartTime.UTC().Format(time.RFC3339), r.Backup.EndTime.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(j.stdout)
	for _, v := range r.Violations {
		fmt.Fprintf(j.stdout, "VIOLATION [%s] %s\n", v.Condition, v.Detail)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(j.stdout, "warning: %s\n", warn)
	}
	switch n := len(r.Violations); n {
	case 0:
		fmt.Fprintln(j.stdout, "Preflight passed: no condition of the copy is violated.")
	case 1:
		fmt.Fprintln(j.stdout, "Preflight failed: 1 condition is violated.")
	default:
		fmt.Fprintf(j.stdout, "Preflight failed: %d conditions are violated.\n", n)
	}
	fmt.Fprintln(j.stdout)
}

func (j *job) printCopy(res *copydb.CopyResult) {
	what := map[copydb.CopyPath]string{
		copydb.CopyPathSent:            "accepted",
		copydb.CopyPathReconciledFound: "accepted: its answer was lost, then the databases appeared on the target",
		copydb.CopyPathResent:          "accepted when sent a second time: the first answer was lost and the databases did not appear",
		copydb.CopyPathResentClash:     "accepted: the answer was lost, and a second send found the databases already on the target",
	}[res.Path]
	if what == "" {
		what = "accepted (" + string(res.Path) + ")"
	}
	j.textf("Copy %s", what)
	if res.RequestID != "" {
		j.textf(" (request id %s)", res.RequestID)
	}
	j.textf(".\n")
}

// printSummary prints the final line: what happened and what it means.
func (j *job) printSummary(code int, outcome string, err error) {
	elapsed := formatElapsed(j.env.clock().Sub(j.start))
	if err != nil && code != exitViolations {
		fmt.Fprintf(j.stderr, "copydb: %v\n", oneLine(err))
	}
	var line string
	n, src, dst := len(j.res.DBNames), j.res.Source, j.res.Target
	switch outcome {
	case "done":
		line = fmt.Sprintf("Done: %s copied from %s to %s and Running, in %s.", plural(n, "database"), src, dst, elapsed)
	case "accepted":
		line = fmt.Sprintf("Copy accepted; not waiting (-no-wait): the databases turn Running on %s when the copy ends.", dst)
	case "preflight-passed":
		line = "Dry run: the preflight passed; nothing was sent."
	case "violations":
		line = fmt.Sprintf("Nothing was sent: fix the %s above and run again.", plural(len(j.res.Violations), "violation"))
	case "invalid":
		line = "Invalid input: nothing was sent."
	case "refused":
		line = "The service refused the copy: nothing was copied."
	case "failed":
		line = "Failed before the copy was sent: nothing was copied."
	case "wait-failed":
		line = fmt.Sprintf("The copy was accepted, but the wait ended after %s before it finished.%s", elapsed, j.lastSeen())
	case "unknown":
		sends := "it was sent once"
		if j.res.Copy != nil && j.res.Copy.Attempts > 1 {
			sends = fmt.Sprintf("it was sent %d times and the databases did not appear in between", j.res.Copy.Attempts)
		}
		line = fmt.Sprintf("Outcome unknown: the copy may have been accepted (%s). Check the databases of %s before sending it again.", sends, dst)
	case "interrupted":
		line = j.interruptedLine(elapsed)
	}
	fmt.Fprintf(j.stdout, "%s (exit %d)\n", line, code)
}

func (j *job) interruptedLine(elapsed string) string {
	if j.res.Copy == nil {
		return fmt.Sprintf("Interrupted after %s, before the copy was sent: nothing was copied.", elapsed)
	}
	if len(j.res.Databases) == 0 {
		return fmt.Sprintf("Interrupted after %s: the copy may have been sent. Check the databases of %s before sending it again.", elapsed, j.res.Target)
	}
	goesOn := "goes on at the service"
	if j.cfg.demo {
		goesOn = "would go on at the service (the demo's fake ends with this process)"
	}
	return fmt.Sprintf("Interrupted after %s: the copy was accepted and %s.%s", elapsed, goesOn, j.lastSeen())
}

// lastSeen lists the states of the last poll: " Last seen on rm-...: sales
// Creating, hr Running.", or "" before any poll.
func (j *job) lastSeen() string {
	if len(j.res.Databases) == 0 {
		return ""
	}
	var parts []string
	for _, d := range j.res.Databases {
		parts = append(parts, d.Target+" "+stateText(d.Status))
	}
	return fmt.Sprintf(" Last seen on %s: %s.", j.res.Target, strings.Join(parts, ", "))
}

// textf prints to stdout unless the output is JSON.
func (j *job) textf(format string, a ...any) {
	if j.cfg.json {
		return
	}
	fmt.Fprintf(j.stdout, format, a...)
}

// oneLine joins the lines of a joined error with "; ".
func oneLine(err error) string {
	var lines []string
	if vs := copydb.ValidationErrors(err); len(vs) > 0 {
		for _, v := range vs {
			lines = append(lines, v.Error())
		}
	} else {
		lines = strings.Split(err.Error(), "\n")
	}
	return strings.TrimPrefix(strings.Join(lines, "; "), "copydb: ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// formatBytes prints a size in binary units with one decimal: 4.2 GiB.
func formatBytes(n int64) string {
	if n < 0 {
		return "unknown"
	}
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}

// formatElapsed prints a duration rounded to the second: 4s, 1m05s, 1h02m03s.
func formatElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = 0
	}
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}
