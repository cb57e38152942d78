#!/usr/bin/env bash
# What vmrecord's system-call tracer (recorder/linux/syscall_tracer.h) costs on real programs:
# each program runs plain, under `vmrecord --no-syscall-tracer` (hooked calls only) and under
# `vmrecord` (the tracer on), the three interleaved run by run; prints the median wall time of
# each, the slowdowns, and the tracer's share: (tracer - plain) / (hooked only - plain), the
# added time as a ratio to the recording without the tracer. Also the calls the tracer recorded
# (each one costs two ptrace stops).
#
#   bench/recorder/syscall_tracer_cost.sh BUILD_DIR [--runs N]
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [--runs N]}
shift
runs=5
if [[ "${1:-}" == "--runs" ]]; then runs=$2; fi
vmrecord="$build/recorder/linux/vmrecord"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
here=$(cd "$(dirname "$0")/../.." && pwd)

programs=()
labels=()
if [[ -x /usr/bin/python3 ]]; then
  labels+=("python3, 4 threads allocating")
  programs+=("/usr/bin/python3 -c 'import threading
def work():
    for r in range(30):
        x = [bytearray(50000) for i in range(400)]
ts = [threading.Thread(target=work) for i in range(4)]
[t.start() for t in ts]
[t.join() for t in ts]'")
fi
if command -v node >/dev/null; then
  labels+=("node, 2 M objects")
  programs+=("node -e 'let a = []; for (let i = 0; i < 2e6; i++) a.push({i}); a = null;'")
fi
if command -v dotnet >/dev/null; then
  nice -n 15 dotnet build "$here/traces/clr/workloads/batch" -c Release -nologo -v quiet \
    --artifacts-path "$work/dn" >/dev/null
  labels+=("dotnet batch (a real CLR)")
  programs+=("dotnet $work/dn/bin/batch/release/batch.dll 1 0")
fi

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

printf '%-32s %9s %9s %9s %8s %8s %12s %8s\n' program plain hooked traced "hooked x" "traced x" \
  "tracer/rec" "traced"
for i in "${!programs[@]}"; do
  cmd=${programs[$i]}
  : >"$work/plain" >"$work/hooked" >"$work/traced"
  traced_calls=0
  for ((r = 0; r < runs; r++)); do
    t0=$(now); eval "$cmd" >/dev/null 2>&1; t1=$(now)
    echo "$t1 - $t0" | bc >>"$work/plain"
    t0=$(now); eval "$vmrecord --no-syscall-tracer -o $work/h.pb -- $cmd" >/dev/null 2>&1; t1=$(now)
    echo "$t1 - $t0" | bc >>"$work/hooked"
    t0=$(now); eval "$vmrecord -o $work/t.pb -- $cmd" >/dev/null 2>"$work/err"; t1=$(now)
    echo "$t1 - $t0" | bc >>"$work/traced"
    traced_calls=$(sed -n 's/.*made themselves: \([0-9]*\) recorded.*/\1/p' "$work/err")
  done
  p=$(median <"$work/plain"); h=$(median <"$work/hooked"); t=$(median <"$work/traced")
  awk -v l="${labels[$i]}" -v p="$p" -v h="$h" -v t="$t" -v n="$traced_calls" 'BEGIN {
    printf "%-32s %8.3fs %8.3fs %8.3fs %7.2fx %7.2fx %12.2f %8d\n", l, p, h, t, h / p, t / p,
           (h > p) ? (t - p) / (h - p) : 0, n }'
done
