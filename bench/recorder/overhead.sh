#!/usr/bin/env bash
# Recording overhead of vmrecord next to heaptrack on the same workload: by default the
# malloc-heavy malloc_workload.c, or any command given after --.
#
#   bench/recorder/overhead.sh [--vmrecord PATH] [--runs N] [--threads T] [--calls C] [-- CMD ARGS]
#
# Prints, per tool: median wall time of N runs (the tools interleaved run by run), slowdown
# (median / plain median), the trace
# size and trace bytes per recorded event (heaptrack: output file size / its allocation count
# from heaptrack_print). Target: vmrecord's slowdown <= 1/5 of heaptrack's.
# Wall time is "total until the trace is written" for both tools (heaptrack also post-processes
# after the program exits). For vmrecord the median time until the command itself exited is
# printed too (vmrecord reports it on stderr); heaptrack has no equivalent figure.
# Two more rows give the floor under any recorder that times every call
# (clock_floor_preload.c): a preload that only forwards the malloc family to glibc, and one
# that also reads the clock twice per call as vmrecord does (its key and the call's latency),
# with no ring, no collector and no trace at all.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vmrecord=""
runs=5
threads=2
calls=1000000
command_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --vmrecord) vmrecord=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --calls) calls=$2; shift 2 ;;
    --) shift; command_args=("$@"); break ;;
    *) echo "usage: $0 [--vmrecord PATH] [--runs N] [--threads T] [--calls C] [-- CMD ARGS]" >&2
       exit 2 ;;
  esac
done
if [[ -z "$vmrecord" ]]; then
  for candidate in "$here"/../../build/recorder/linux/vmrecord "$here"/../../build/bin/vmrecord \
                   "$(command -v vmrecord || true)"; do
    if [[ -n "$candidate" && -x "$candidate" ]]; then vmrecord=$candidate; break; fi
  done
fi
[[ -x "$vmrecord" ]] || { echo "vmrecord not found: pass --vmrecord PATH" >&2; exit 2; }
command -v heaptrack >/dev/null || { echo "heaptrack is not installed" >&2; exit 2; }

work=$(mktemp -d /tmp/vmrecord_overhead.XXXXXX)
trap 'rm -rf "$work"' EXIT
if [[ ${#command_args[@]} -gt 0 ]]; then
  prog=("${command_args[@]}")
else
  cc -O2 -pthread -o "$work/malloc_workload" "$here/malloc_workload.c"
  prog=("$work/malloc_workload" "$threads" "$calls")
fi
for read_clock in 0 1; do
  cc -O2 -fPIC -shared -DREAD_CLOCK=$read_clock -o "$work/floor$read_clock.so" \
    "$here/clock_floor_preload.c"
done

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

time_one() {  # name, command...: appends one wall time (and vmrecord's own figure)
  local name=$1; shift
  local t0 t1
  t0=$(now)
  "$@" > /dev/null 2> "$work/$name.stderr"
  t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$work/$name.times"
  sed -n 's/.*command exited \([0-9.]*\) s.*/\1/p' "$work/$name.stderr" >> "$work/$name.command"
}

# All are interleaved run by run, so that a change in machine speed during the script
# (common on this shared machine) affects all of them alike.
for name in plain forward clock vmrecord coarse compact heaptrack; do
  : > "$work/$name.times"; : > "$work/$name.command"
done
for ((i = 0; i < runs; i++)); do
  time_one plain "${prog[@]}"
  time_one forward env LD_PRELOAD="$work/floor0.so" "${prog[@]}"
  time_one clock env LD_PRELOAD="$work/floor1.so" "${prog[@]}"
  time_one vmrecord "$vmrecord" -o "$work/trace.pb" -- "${prog[@]}"
  time_one coarse "$vmrecord" --timing=coarse -o "$work/coarse.pb" -- "${prog[@]}"
  time_one compact "$vmrecord" --timing=compact -o "$work/compact.pb" -- "${prog[@]}"
  rm -f "$work"/heaptrack.out*
  time_one heaptrack heaptrack -o "$work/heaptrack.out" "${prog[@]}"
done
plain=$(median < "$work/plain.times")
forward=$(median < "$work/forward.times")
clock=$(median < "$work/clock.times")
vm=$(median < "$work/vmrecord.times")
coarse=$(median < "$work/coarse.times")
coarse_bytes=$(stat -c %s "$work/coarse.pb")
compact=$(median < "$work/compact.times")
compact_bytes=$(stat -c %s "$work/compact.pb")
ht=$(median < "$work/heaptrack.times")
vm_command=$(median < "$work/vmrecord.command")
vm_events=$(sed -n 's/^vmrecord: \([0-9]*\) events.*/\1/p' "$work/vmrecord.stderr")
vm_bytes=$(stat -c %s "$work/trace.pb")
ht_file=$(ls "$work"/heaptrack.out* | head -1)
ht_bytes=$(stat -c %s "$ht_file")
ht_allocs=$(heaptrack_print -f "$ht_file" 2>/dev/null |
  sed -n 's/^calls to allocation functions: \([0-9]*\).*/\1/p')

if [[ ${#command_args[@]} -gt 0 ]]; then
  printf 'workload: %s; median of %s runs\n' "${command_args[*]}" "$runs"
else
  printf 'workload: %s threads x %s malloc/free pairs; median of %s runs\n' "$threads" "$calls" "$runs"
fi
printf '%-10s %10s %9s %12s %12s %11s\n' tool wall_s slowdown trace_bytes events bytes/event
printf '%-10s %10.3f %9s %12s %12s %11s\n' plain "$plain" 1.00x - - -
printf '%-10s %10.3f %8.2fx %12s %12s %11s   (preload forwarding only)\n' forward "$forward" \
  "$(echo "$forward / $plain" | bc -l)" - - -
printf '%-10s %10.3f %8.2fx %12s %12s %11s   (forwarding + 2 clock reads per call)\n' clock \
  "$clock" "$(echo "$clock / $plain" | bc -l)" - - -
printf '%-10s %10.3f %8.2fx %12s %12s %11.2f\n' vmrecord "$vm" "$(echo "$vm / $plain" | bc -l)" \
  "$vm_bytes" "$vm_events" "$(echo "$vm_bytes / $vm_events" | bc -l)"
printf '%-10s %10.3f %8.2fx %12s %12s %11.2f   (--timing=coarse)\n' coarse "$coarse" \
  "$(echo "$coarse / $plain" | bc -l)" "$coarse_bytes" "$vm_events" \
  "$(echo "$coarse_bytes / $vm_events" | bc -l)"
printf '%-10s %10.3f %8.2fx %12s %12s %11.2f   (--timing=compact)\n' compact "$compact" \
  "$(echo "$compact / $plain" | bc -l)" "$compact_bytes" "$vm_events" \
  "$(echo "$compact_bytes / $vm_events" | bc -l)"
printf '%-10s %10.3f %8.2fx %12s %12s %11.2f\n' heaptrack "$ht" "$(echo "$ht / $plain" | bc -l)" \
  "$ht_bytes" "$ht_allocs" "$(echo "$ht_bytes / $ht_allocs" | bc -l)"
printf 'vmrecord: command exited after %.3f s (median; %.2fx of plain), trace written after %.3f s\n' \
  "$vm_command" "$(echo "$vm_command / $plain" | bc -l)" "$vm"
vm_extra=$(echo "$vm / $plain - 1" | bc -l)
ht_extra=$(echo "$ht / $plain - 1" | bc -l)
printf 'added time: vmrecord %.2fx of plain, heaptrack %.2fx; ratio %.3f (target <= 0.200)\n' \
  "$vm_extra" "$ht_extra" "$(echo "$vm_extra / $ht_extra" | bc -l)"
printf 'slowdown ratio vmrecord/heaptrack: %.3f\n' "$(echo "($vm / $plain) / ($ht / $plain)" | bc -l)"
printf 'floor: 2 clock reads per call alone, slowdown ratio to heaptrack %.3f (added-time %.3f)\n' \
  "$(echo "$clock / $ht" | bc -l)" "$(echo "($clock / $plain - 1) / $ht_extra" | bc -l)"
clock_extra=$(echo "$clock / $plain - 1" | bc -l)
coarse_extra=$(echo "$coarse / $plain - 1" | bc -l)
printf 'vmrecord added time / the clock-only preload'"'"'s: %.2f (target <= 1.30)\n' \
  "$(echo "$vm_extra / $clock_extra" | bc -l)"
printf 'coarse added time / heaptrack'"'"'s: %.3f (target <= 0.200)\n' \
  "$(echo "$coarse_extra / $ht_extra" | bc -l)"
printf 'trace size / heaptrack'"'"'s (same run, same calls): full %.2f, coarse %.2f, compact %.2f (targets: full <= 4, compact <= 1.5)\n' \
  "$(echo "$vm_bytes / $ht_bytes" | bc -l)" "$(echo "$coarse_bytes / $ht_bytes" | bc -l)" \
  "$(echo "$compact_bytes / $ht_bytes" | bc -l)"
