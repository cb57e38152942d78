#!/usr/bin/env bash
# Builds the Debian package from a build tree, installs it with apt-get as a user would, runs
# the installed vmreplay and vmrecord on the installed sample trace and a real command, then
# removes the package again. Usage: scripts/deb_check.sh BUILD_DIR (root or sudo)
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
rm -f "$build"/vmreplay_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/vmreplay_*.deb)
echo "deb_check: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
dpkg-deb -f "$deb" Depends
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -qq "$(realpath "$deb")" >/dev/null
trap '$SUDO apt-get remove -y -qq vmreplay >/dev/null' EXIT
[ "$(dpkg-query -W -f='${Status}' vmreplay)" = "install ok installed" ]
/usr/bin/vmreplay --version
/usr/bin/vmreplay /usr/share/vmreplay/traces/synth/server-gc.pb --backend=sim --latency=off |
  grep -E '^(backend|peak commit)'
tmp=$(mktemp -d)
/usr/bin/vmrecord -o "$tmp/true.pb" -- /bin/true
/usr/bin/vmreplay info "$tmp/true.pb" | grep '^events'
rm -rf "$tmp"
man -w vmreplay-replay >/dev/null 2>&1 || [ -f /usr/share/man/man1/vmreplay-replay.1 ]
# The Python reader, from the package, with Debian's python3.
/usr/bin/python3 -m vmreplay_trace summary /usr/share/vmreplay/traces/synth/server-gc.pb | head -2
echo "deb_check: installed package works"
