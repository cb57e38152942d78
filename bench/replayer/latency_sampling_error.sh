#!/usr/bin/env bash
# How far --latency=sample:N's percentiles are from --latency=all's, on the same trace in the
# same period: each mode replays the trace R times, interleaved (all, sample, all, sample, ...),
# and the medians of each percentile are compared as ratios sample / all, per operation.
# Usage: bench/replayer/latency_sampling_error.sh VMREPLAY N REPETITIONS TRACE...
set -euo pipefail
vmreplay=$1 every=$2 reps=$3
shift 3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for trace in "$@"; do
  for ((r = 0; r < reps; r++)); do
    for mode in all "sample:$every"; do
      "$vmreplay" "$trace" --backend=sim --latency="$mode" --json >"$work/$(basename "$trace").${mode/:/_}.$r.json"
    done
  done
done
/usr/bin/python3 - "$work" "$every" "$@" <<'PY'
import glob, json, os, statistics, sys
work, every, traces = sys.argv[1], sys.argv[2], sys.argv[3:]
print("%-22s %-14s %9s %9s  %7s %7s %7s" % ("trace", "op", "calls", "timed", "p50", "p99", "p99.9"))
for trace in traces:
    name = os.path.basename(trace)
    def runs(mode):
        return [json.load(open(f))["runs"][0] for f in sorted(glob.glob("%s/%s.%s.*.json" % (work, name, mode)))]
    full, sampled = runs("all"), runs("sample_" + every)
    ops = full[0]["latency_ns"]
    for op in sorted(ops, key=lambda o: -ops[o]["count"]):
        if ops[op]["count"] < 1000:
            continue
        ratio = []
        for q in ("p50", "p99", "p999"):
            a = statistics.median(r["latency_ns"][op][q] for r in full)
            b = statistics.median(r["latency_ns"].get(op, {}).get(q, 0) for r in sampled)
            ratio.append(b / a if a else float("nan"))
        timed = statistics.median(r["latency_ns"].get(op, {}).get("count", 0) for r in sampled)
        print("%-22s %-14s %9d %9d  %7.3f %7.3f %7.3f" % (name[:22], op[:14], ops[op]["count"], timed, *ratio))
PY
