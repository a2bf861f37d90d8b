// Command ratios reads raw `go test -bench` output on stdin and prints
// copydb's ratios to the floor and to the official SDK (medians, the centre
// benchstat reports), each checked against the targets of issue 6, followed
// by the footprint figures given as flags.
//
//	go test -bench . -count 6 | tee raw.txt
//	ratios -modules 12 -size-copydb N -size-sdk N -size-nethttp N < raw.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// samples holds every value of one metric, by benchmark and then by client.
type samples map[string]map[string][]float64

func (s samples) add(bench, client string, v float64) {
	if s[bench] == nil {
		s[bench] = map[string][]float64{}
	}
	s[bench][client] = append(s[bench][client], v)
}

func (s samples) median(bench, client string) (float64, bool) {
	v := slices.Clone(s[bench][client])
	if len(v) == 0 {
		return 0, false
	}
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2, true
	}
	return v[len(v)/2], true
}

// parse reads benchmark lines such as
//
//	BenchmarkCall/client=copydb-2   1000   52000 ns/op   9000 B/op   90 allocs/op
//
// and returns ns/op and allocs/op samples, the benchmark names in order of
// first appearance, and the number of runs of the most repeated one.
func parse(r io.Reader) (ns, allocs samples, order []string, runs int, err error) {
	ns, allocs = samples{}, samples{}
	count := map[string]int{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name, client, ok := strings.Cut(strings.TrimPrefix(f[0], "Benchmark"), "/client=")
		if !ok {
			continue
		}
		if i := strings.LastIndexByte(client, '-'); i > 0 {
			if _, err := strconv.Atoi(client[i+1:]); err == nil {
				client = client[:i] // GOMAXPROCS suffix
			}
		}
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				ns.add(name, client, v)
				count[name+"/"+client]++
				runs = max(runs, count[name+"/"+client])
			case "allocs/op":
				allocs.add(name, client, v)
			}
		}
	}
	return ns, allocs, order, runs, sc.Err()
}

// A target bounds copydb's ratio to another client for one benchmark and
// metric; own compares the clients' own costs (see ratio).
type target struct {
	bench, metric, other string
	own                  bool
	max                  float64
	text                 string
}

var targets = []target{
	{"Call", "sec/op", "floor", false, 1.15, "within 1.15x of the floor over loopback"},
	{"CallInMemory", "sec/op", "floor", false, 1.3, "within 1.3x of the floor in memory"},
	{"Call", "sec/op", "sdk", false, 0.5, "at least 2x faster than the SDK over loopback"},
	{"Call", "allocs/op", "sdk", false, 1.0 / 3, "a third of the SDK's allocs (loopback, process-wide)"},
	{"CallInMemory", "allocs/op", "sdk", true, 1.0 / 3, "a third of the SDK's allocs (in memory, own)"},
	{"Sign", "sec/op", "floor", false, 1.5, "signing within 1.5x of the floor's signer"},
}

func main() {
	modules := flag.Int("modules", 0, "lines of `go list -m all` for the library module")
	sizeCopydb := flag.Int64("size-copydb", 0, "stripped size of size-copydb in `bytes`")
	sizeSDK := flag.Int64("size-sdk", 0, "stripped size of size-sdk in `bytes`")
	sizeNet := flag.Int64("size-nethttp", 0, "stripped size of size-nethttp in `bytes`")
	flag.Parse()

	ns, allocs, order, runs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
	if len(order) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark lines with /client= on stdin")
		os.Exit(1)
	}
	// ratio divides copydb's median by other's (see ratioOf).
	ratio := func(bench, metric, other string, own bool) (float64, bool) {
		return ratioOf(ns, allocs, bench, metric, "copydb", other, own)
	}
	cell := func(v float64, ok bool) string {
		if !ok {
			return "n/a"
		}
		return fmt.Sprintf("%.2f", v)
	}

	fmt.Printf("Ratios of medians (%d runs each; below 1 means copydb is cheaper)\n\n", runs)
	fmt.Printf("%-19s %-10s %13s %11s %10s\n", "benchmark", "metric", "copydb/floor", "copydb/sdk", "floor/sdk")
	for _, b := range order {
		for _, own := range []bool{false, true} {
			if _, ok := ns.median(b, "none"); own && !ok {
				continue
			}
			name := b
			if own {
				name += " (own)"
			}
			for _, metric := range []string{"sec/op", "allocs/op"} {
				f, okf := ratio(b, metric, "floor", own)
				s, oks := ratio(b, metric, "sdk", own)
				fs, okfs := ratioOf(ns, allocs, b, metric, "floor", "sdk", own)
				fmt.Printf("%-19s %-10s %13s %11s %10s\n", name, metric, cell(f, okf), cell(s, oks), cell(fs, okfs))
			}
		}
	}
	fmt.Println("\n(own) takes the client=none baseline, the shared in-memory transport and handler, off both sides.")
	fmt.Println("floor/sdk is where the hand-written floor itself lands against the SDK in the same setup.")

	fmt.Printf("\nTargets\n\n")
	for _, t := range targets {
		r, ok := ratio(t.bench, t.metric, t.other, t.own)
		what := fmt.Sprintf("copydb/%s %s", t.other, t.metric)
		fmt.Printf("%-52s %-22s %5s  limit %.2f  %s\n", t.text, what, cell(r, ok), t.max, verdict(r, t.max, ok))
	}
	if *modules > 0 {
		fmt.Printf("%-52s %-22s %5d  limit %-4d  %s\n", "library module graph (go list -m all)", "lines", *modules, 12,
			verdict(float64(*modules), 12, true))
	}
	if *sizeCopydb > 0 && *sizeNet > 0 {
		r := float64(*sizeCopydb) / float64(*sizeNet)
		fmt.Printf("%-52s %-22s %5.3f  limit 1.10  %s\n", "stripped binary size", "copydb/nethttp bytes", r, verdict(r, 1.10, true))
	}
	if *sizeCopydb > 0 || *sizeSDK > 0 || *sizeNet > 0 {
		fmt.Printf("\nStripped binaries (-trimpath -ldflags=\"-s -w\"): net/http %s, copydb %s, sdk %s\n",
			mib(*sizeNet), mib(*sizeCopydb), mib(*sizeSDK))
	}
}

// ratioOf divides client's median by other's. With own set, the median of
// client=none (the shared transport and handler without a client) is first
// taken off both, leaving each client's own cost.
func ratioOf(ns, allocs samples, bench, metric, client, other string, own bool) (float64, bool) {
	m := ns
	if metric == "allocs/op" {
		m = allocs
	}
	a, ok1 := m.median(bench, client)
	b, ok2 := m.median(bench, other)
	if own {
		z, ok := m.median(bench, "none")
		if !ok {
			return 0, false
		}
		a, b = a-z, b-z
	}
	if !ok1 || !ok2 || b <= 0 {
		return 0, false
	}
	return a / b, true
}

// verdict says whether r is within limit and, if not, by how much it misses.
func verdict(r, limit float64, ok bool) string {
	switch {
	case !ok:
		return "NOT MEASURED"
	case r <= limit:
		return "met"
	default:
		return fmt.Sprintf("NOT MET (%.0f%% over)", (r/limit-1)*100)
	}
}

func mib(n int64) string {
	if n == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d B (%.2f MiB)", n, float64(n)/(1<<20))
}
