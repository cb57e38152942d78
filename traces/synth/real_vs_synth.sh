#!/usr/bin/env bash
# The synthetic profiles against the real .NET recordings they stand for (traces/synth/README.md):
# lifts the bundled recordings, generates each profile for as long (7 s of simulated time,
# seeds 1-3), and prints the fitting figures side by side with each synthetic figure's
# distance |log2(synthetic / real)| to the real one.
# Usage: traces/synth/real_vs_synth.sh BUILD_DIR   (from the repository root)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: traces/synth/real_vs_synth.sh BUILD_DIR}
vmreplay="$build/replayer/vmreplay"
table="$build/traces/synth/vmreplay_figure_table"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

compare() {  # REAL_NAME PROFILE...
  local real=$1
  shift
  "$vmreplay" lift --clr "traces/clr/$real.pb" -o "$tmp/$real.pb" -q >/dev/null
  local columns=("real=$tmp/$real.pb")
  for profile in "$@"; do
    for seed in 1 2 3; do
      "$vmreplay" synth --profile="$profile" --seed="$seed" --duration-s=7 --threads=2 \
        -o "$tmp/$profile.$seed.pb"
      columns+=("$profile/$seed=$tmp/$profile.$seed.pb")
    done
  done
  "$table" --real=0 "${columns[@]}"
  echo
}

echo "== before: the .NET Framework host profiles against real .NET 10 on Linux"
compare ws-regions-requests workstation-gc
compare server-requests server-gc
echo "== after: the profiles derived from the real recordings"
compare ws-regions-requests linux-workstation
compare server-requests linux-server
