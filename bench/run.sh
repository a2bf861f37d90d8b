#!/usr/bin/env bash
# Runs the benchmarks of bench/ and prints, in order: the machine, the exact
# command, the benchstat table (one column per client), copydb's ratios to the
# floor and to the official SDK checked against the targets of issue 6, and
# the footprint (module graph of the library, stripped binary sizes).
#
# The test binary is built once and run COUNT times with -test.count 1, so the
# runs of the three clients interleave in time and a burst of load on the
# machine spreads over all of them instead of hitting one client's six runs.
#
# Environment: COUNT (default 6), BENCHTIME (default 1s), BENCH (default .).
# The raw output is kept in bench/results/latest.raw (ignored by git).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
count="${COUNT:-6}"
benchtime="${BENCHTIME:-1s}"
bench="${BENCH:-.}"
benchstat="golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$here/results"
raw="$here/results/latest.raw"

cd "$here"
echo "## machine"
echo "cores: $(nproc)"
go version
grep -m1 'model name' /proc/cpuinfo | sed 's/^model name[[:space:]]*: /cpu: /' || true
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

go test -c -o "$tmp/bench.test" .
cmd=("$tmp/bench.test" -test.run '^$' -test.bench "$bench" -test.benchtime "$benchtime" -test.count 1)
echo "## command (in bench/): go test -c -o bench.test . && for i in \$(seq $count); do ./bench.test ${cmd[*]:1}; done"
: >"$raw"
for _ in $(seq "$count"); do
	"${cmd[@]}" >>"$raw"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "## benchstat -col /client (base: floor)"
# client=none is the in-memory transport and handler alone (no client).
go run "$benchstat" -col '/client@(floor copydb sdk none)' "$raw"
echo

echo "## footprint"
modules="$(cd "$root" && go list -m all | wc -l | tr -d ' ')"
echo "go list -m all (library module, at the repo root): $modules lines"
declare -A size
for p in copydb sdk nethttp; do
	go build -trimpath -ldflags="-s -w" -o "$tmp/size-$p" "./cmd/size-$p"
	size[$p]="$(wc -c <"$tmp/size-$p" | tr -d ' ')"
	echo "size-$p (go build -trimpath -ldflags=\"-s -w\"): ${size[$p]} bytes"
done
echo

echo "## ratios"
go run ./cmd/ratios -modules "$modules" \
	-size-copydb "${size[copydb]}" -size-sdk "${size[sdk]}" -size-nethttp "${size[nethttp]}" <"$raw"
