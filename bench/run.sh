#!/usr/bin/env bash
# Runs the benchmarks of bench/ and prints, in order: the machine, the exact
# command, the benchstat table (one column per client), copydb's ratios to the
# floor and to the official SDK checked against the targets of issue 6, and
# the footprint (module graph of the library, stripped binary sizes).
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
echo

cmd=(go test -run '^$' -bench "$bench" -benchtime "$benchtime" -count "$count" .)
echo "## command (in bench/): ${cmd[*]}"
"${cmd[@]}" >"$raw"
echo

echo "## benchstat -col /client"
go run "$benchstat" -col '/client@(floor copydb sdk)' "$raw"
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
