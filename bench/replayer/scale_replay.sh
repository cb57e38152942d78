#!/usr/bin/env bash
# Replay memory against trace length: generates synthetic CLR traces of growing length (the same
# workload run longer: `vmreplay synth --profile=server-gc --threads 32 --events N`, with the
# loader's live blocks capped at 20,000 so that the host heap plateaus, as a real runtime's does,
# instead of growing with the run; uncapped, the replayed heap itself grows: 90 MiB of RSS at
# 10^7 events, 737 MiB at 10^8), replays each on sim with --latency=off, and prints the
# replayer's peak RSS (GNU time's "Maximum resident set size") next to the event count. The
# reader and writer hold one chunk at a time and the replay's state is the live mappings and
# blocks, so RSS must stay flat while the trace grows 100x. (32 threads: one simulated day of the
# default 4 ends at 2 x 10^8 events.)
#
#   bench/replayer/scale_replay.sh BUILD_DIR [EVENTS ...]     (default: 10^7 10^8 10^9)
#
# 10^9 events take ~11 GB of disk (in $TMPDIR) and ~7 minutes on 2 cores.
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR [EVENTS ...]}
shift
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(10000000 100000000 1000000000)
vmreplay="$build/replayer/vmreplay"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[[ -x /usr/bin/time ]] || { echo "needs GNU time (apt-get install time)" >&2; exit 2; }

printf '%12s %12s %10s %10s %12s %12s %11s\n' events trace_bytes synth_s replay_s events_per_s \
  max_rss_kib divergences
for n in "${sizes[@]}"; do
  t=$work/scale_$n.pb
  # A long enough simulated run that the event cap, not the duration, ends it.
  s0=$(date +%s.%N)
  "$vmreplay" synth --profile=server-gc --threads 32 --events "$n" --duration-s 86400 \
    --loader-blocks-max 20000 -o "$t" >/dev/null
  s1=$(date +%s.%N)
  /usr/bin/time -f '%M %e' -o "$work/time" "$vmreplay" "$t" --backend=sim --latency=off --json \
    >"$work/out.json" 2>/dev/null
  read -r rss secs <"$work/time"
  div=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['runs'][0]['divergences'])" \
    "$work/out.json")
  ev=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['runs'][0]['events'])" \
    "$work/out.json")
  awk -v n="$ev" -v b="$(stat -c %s "$t")" -v s="$(echo "$s1 - $s0" | bc)" -v r="$secs" \
    -v m="$rss" -v d="$div" \
    'BEGIN { printf "%12.0f %12.0f %10.1f %10.1f %12.0f %12d %11d\n", n, b, s, r, n / r, m, d }'
  rm -f "$t"
done
