#!/usr/bin/env bash
# End-to-end replay throughput on a real 10-million-event recording: records a malloc-heavy
# Python loop with vmrecord (about 10 M calls: bytes(2000) allocates and frees once per
# iteration, plus the interpreter's own), then replays the trace on each backend, read-ahead
# off and on (auto picks off for a trace this compact), and prints the median `replay events/s`
# of N runs, the backends interleaved run by run.
#
#   bench/replayer/real_trace_replay.sh [--build DIR] [--runs N] [--python PATH]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build="$here/../../build"
runs=5
python=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --python) python=$2; shift 2 ;;
    *) echo "usage: $0 [--build DIR] [--runs N] [--python PATH]" >&2; exit 2 ;;
  esac
done
vmrecord="$build/recorder/linux/vmrecord"
vmreplay="$build/replayer/vmreplay"
[[ -x "$vmrecord" && -x "$vmreplay" ]] || { echo "build vmrecord and vmreplay first" >&2; exit 2; }
# The interpreter itself, not a wrapper script (a pyenv shim would exec it as a child).
if [[ -z "$python" ]]; then
  python=$(command -v python3)
  if command -v pyenv >/dev/null 2>&1; then python=$(pyenv which python3 2>/dev/null || echo "$python"); fi
  python=$(readlink -f "$python")
fi

work=$(mktemp -d /tmp/vmreplay_real_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
trace="$work/python10m.pb"
"$vmrecord" -o "$trace" -- "$python" -c "for i in range(5000000): b = bytes(2000)" 2> "$work/record.log"
events=$("$vmreplay" info "$trace" | sed -n 's/^events *\([0-9]*\).*/\1/p')
printf 'trace: %s -c "for i in range(5000000): b = bytes(2000)": %s events, %s bytes/event\n' \
  "$python" "$events" "$(echo "scale=2; $(stat -c %s "$trace") / $events" | bc)"

configs=("sim off" "sim on" "arena off" "os off" "sim:mimalloc off")
for c in "${configs[@]}"; do : > "$work/$(echo "$c" | tr ' :' '__').rates"; done
for ((i = 0; i < runs; i++)); do
  for c in "${configs[@]}"; do
    read -r backend ahead <<< "$c"
    heap=system
    if [[ "$backend" == *:* ]]; then heap=${backend#*:}; backend=${backend%%:*}; fi
    "$vmreplay" "$trace" --backend="$backend" --heap="$heap" --read-ahead="$ahead" 2>&1 |
      sed -n 's/^replay events\/s *\([0-9]*\).*/\1/p' >> "$work/$(echo "$c" | tr ' :' '__').rates"
  done
done
printf '%-22s %14s\n' "backend/heap read-ahead" "events/s"
for c in "${configs[@]}"; do
  median=$(sort -n "$work/$(echo "$c" | tr ' :' '__').rates" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  printf '%-22s %14s\n' "$c" "$median"
done
