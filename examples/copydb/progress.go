package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rdskit/copydb"
)

// isTerminal reports whether w is a terminal that can redraw lines: an
// *os.File that is a character device (the standard library's way, without
// golang.org/x/term), with TERM other than "dumb".
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	return os.Getenv("TERM") != "dumb"
}

// heartbeat is how often plain (non-terminal) output repeats the states
// when none changes, so that a log shows the wait is alive.
const heartbeat = time.Minute

// progress shows the wait: on a terminal, one live line per database,
// redrawn in place; otherwise plain timestamped lines when a state changes.
type progress struct {
	j        *job
	w        io.Writer
	quiet    bool // -json: nothing is shown
	terminal bool
	tick     time.Duration

	mu       sync.Mutex
	start    time.Time
	last     copydb.WaitProgress
	seen     bool
	printed  map[string]string // plain output: the state last printed per target name
	lastLine time.Duration     // plain output: elapsed time of the last printed line
	drawn    int               // terminal: lines of the live block on screen

	stop, done chan struct{}
}

func newProgress(j *job) *progress {
	terminal := isTerminal
	if j.env.terminal != nil {
		terminal = j.env.terminal
	}
	tick := j.env.tick
	if tick == 0 {
		tick = time.Second
	}
	return &progress{j: j, w: j.stdout, quiet: j.cfg.json, terminal: terminal(j.stdout), tick: tick, printed: map[string]string{}}
}

// begin prints the heading and, on a terminal, starts redrawing the elapsed
// time every tick.
func (p *progress) begin() {
	p.start = p.j.env.clock()
	if p.quiet {
		return
	}
	fmt.Fprintf(p.w, "Waiting for the copy to finish on %s (limit %s):\n", p.j.res.Target, formatElapsed(p.j.cfg.timeout))
	if !p.terminal || p.tick < 0 {
		return
	}
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(p.tick)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.mu.Lock()
				if p.seen {
					p.redraw()
				}
				p.mu.Unlock()
			}
		}
	}()
}

// end stops the redrawing. The live block always ends with a newline, so
// whatever is printed next starts on a line of its own.
func (p *progress) end() {
	if p.stop != nil {
		close(p.stop)
		<-p.done
		p.stop = nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.seen && !p.quiet {
		p.redraw()
	}
}

// update is the WithProgress callback.
func (p *progress) update(wp copydb.WaitProgress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last, p.seen = wp, true
	if p.quiet {
		return
	}
	if p.terminal {
		p.redraw()
		return
	}
	p.plain()
}

// final returns the last states seen.
func (p *progress) final() []dbState {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.seen {
		return nil
	}
	return statesOf(p.last.Databases)
}

func (p *progress) elapsed() time.Duration { return p.j.env.clock().Sub(p.start) }

// plain prints a timestamped line for each database whose state changed,
// and every heartbeat a line for each database.
func (p *progress) plain() {
	now := p.j.env.clock()
	el := now.Sub(p.start)
	all := el-p.lastLine >= heartbeat
	width := p.nameWidth()
	var b strings.Builder
	for _, d := range p.last.Databases {
		st := stateText(d.Status)
		if prev, ok := p.printed[d.Target]; ok && prev == st && !all {
			continue
		}
		p.printed[d.Target] = st
		fmt.Fprintf(&b, "%s  %6s  %-*s  %s\n", now.UTC().Format(time.RFC3339), formatElapsed(el), width, dbLabel(d), st)
	}
	if b.Len() > 0 {
		p.lastLine = el
		io.WriteString(p.w, b.String())
	}
}

// redraw writes the live block again in place: up over the lines drawn
// before, then each line cleared and rewritten. It is written in one call,
// so an interruption never leaves half a block.
func (p *progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	width := p.nameWidth()
	el := formatElapsed(p.elapsed())
	for _, d := range p.last.Databases {
		fmt.Fprintf(&b, "\r\x1b[2K  %-*s  %-24s %6s\n", width, dbLabel(d), stateText(d.Status), el)
	}
	p.drawn = len(p.last.Databases)
	io.WriteString(p.w, b.String())
}

func (p *progress) nameWidth() int {
	w := 0
	for _, d := range p.last.Databases {
		w = max(w, len(dbLabel(d)))
	}
	return w
}

func dbLabel(d copydb.DatabaseState) string {
	if d.Source == d.Target {
		return d.Target
	}
	return d.Source + " -> " + d.Target
}

// stateText is the state as the service reports it, or a note while the
// database has not appeared on the target yet.
func stateText(s string) string {
	if s == "" {
		return "(not on the target yet)"
	}
	return s
}
