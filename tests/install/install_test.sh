#!/usr/bin/env bash
# `cmake --install` into a temporary prefix, then use only what was installed: the programs
# (vmrecord must find its preload there), a bundled trace, the man pages and completion, and
# an out-of-tree project that finds the trace library with find_package and with pkg-config.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR [CXX_FLAGS [man|no-man]]
set -euo pipefail
build=$1 source=$2 cxx_flags=${3:-} man=${4:-man}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
export PATH=$prefix/bin:$PATH
[ "$(command -v vmreplay)" = "$prefix/bin/vmreplay" ] || fail "vmreplay not installed in bin/"
vmreplay --version | grep -q '^vmreplay ' || fail "vmreplay --version"
vmrecord --version | grep -q '^vmrecord ' || fail "vmrecord --version"

trace=$(ls "$prefix"/share/vmreplay/traces/synth/server-gc.pb) || fail "no bundled trace"
vmreplay "$trace" --backend=sim --json >"$work/replay.json"
grep -q '"schema":"vmreplay.replay/2"' "$work/replay.json" || fail "replay from install"

# vmrecord finds libvmrecord_preload.so under lib/, not next to itself; the trace it writes
# records the child's heap calls (a dropped preload would give 0 events).
preloads=$(find "$prefix" -name libvmrecord_preload.so)
[ -n "$preloads" ] || fail "preload not installed"
[ ! -e "$prefix/bin/libvmrecord_preload.so" ] || fail "preload installed next to vmrecord"
vmrecord -o "$work/ls.pb" -- ls "$prefix" >/dev/null 2>"$work/record.log" ||
  { cat "$work/record.log"; fail "vmrecord from install failed"; }
events=$(vmreplay info "$work/ls.pb" | awk '$1 == "events" {print $2}')
[ "${events:-0}" -gt 0 ] || fail "vmrecord from install recorded ${events:-no} events"

# Man pages and completion, from the installed files.
if [ "$man" = man ]; then  # configured with help2man
  for page in vmreplay vmreplay-replay vmrecord; do
    [ -f "$prefix/share/man/man1/$page.1" ] || fail "man page $page.1 missing"
  done
  grep -q -- 'latency' "$prefix/share/man/man1/vmreplay-replay.1" || fail "replay page lacks --latency"
else
  echo "install_test: no help2man at configure time: man pages not checked"
fi
completion=$(bash -c "source '$prefix/share/bash-completion/completions/vmreplay'
  COMP_WORDS=(vmreplay replay --lat); COMP_CWORD=2; _vmreplay; echo \${COMPREPLY[*]}")
[ "$completion" = "--latency" ] || fail "completion of 'vmreplay replay --lat' gave '$completion'"

# Out of tree, CMake package.
cmake -S "$source/tests/install/consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_FLAGS="$cxx_flags" >"$work/consumer.log" || { cat "$work/consumer.log"; fail "configure"; }
cmake --build "$work/consumer" >>"$work/consumer.log" || { cat "$work/consumer.log"; fail "build"; }
out=$("$work/consumer/trace_consumer" "$work/own.pb" "$trace")
expected=$(vmreplay info "$trace" | awk '$1 == "events" {print $2}')
grep -q "^wrote 2000 read 2000$" <<<"$out" || fail "consumer round trip: $out"
grep -q ": $expected events$" <<<"$out" || fail "consumer read '$out', vmreplay info says $expected"
[ "$(vmreplay info "$work/own.pb" | awk '$1 == "events" {print $2}')" = 2000 ] ||
  fail "vmreplay cannot read the consumer's trace"

# Out of tree, pkg-config (the .pc file finds its prefix from where it is).
export PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name vmreplay.pc)")
# shellcheck disable=SC2046
g++ -std=c++20 $cxx_flags "$source/tests/install/consumer/trace_consumer.cc" -o "$work/pc_consumer" \
  $(pkg-config --cflags --libs vmreplay) || fail "pkg-config build"
"$work/pc_consumer" "$work/own2.pb" | grep -q "^wrote 2000 read 2000$" || fail "pkg-config consumer"
echo "install_test: installed tree works (replay, record with $events events, man, completion, find_package, pkg-config)"
