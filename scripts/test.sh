#!/usr/bin/env bash
# README command 2 (and CI): install, build with warnings as errors, run the whole test suite
# and the gate, build and install the .deb, the concurrent tests under ThreadSanitizer, then
# build and run everything again under AddressSanitizer + UndefinedBehaviorSanitizer, the fuzz
# targets for a short while (clang, ASan + UBSan; fuzz/README.md), and last README command 1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== format check"
git ls-files '*.cc' '*.h' | xargs clang-format --dry-run --Werror

echo "== build (RelWithDebInfo, -Werror)"
bash scripts/build.sh build-test -DVMREPLAY_BENCHMARKS=ON
echo "== tests"
(cd build-test && ctest --output-on-failure -j2)

# Regression gate on the bundled corpus: exit 1 (regression) or 2 (error) fails CI here.
echo "== gate (gate/baseline.json)"
build-test/replayer/vmreplay gate --baseline gate/baseline.json

# The Debian package, installed with apt-get and run from the installed files.
echo "== Debian package (cpack, apt-get install, run, remove)"
bash scripts/deb_check.sh build-test

# The concurrent parts of replay (threaded replay, and decoding on a thread of its own) and the
# recorder's ring merge: their tests (and the libraries under them) also run under
# ThreadSanitizer.
echo "== build concurrent tests (TSan)"
cmake -S . -B build-tsan -DVMREPLAY_WERROR=ON -DVMREPLAY_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread >/dev/null
cmake --build build-tsan -j"$(nproc)" --target replayer_threaded_replay_test \
  replayer_chunk_read_ahead_test recorder_record_merger_test
echo "== concurrent tests under TSan"
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/replayer/replayer_threaded_replay_test
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/replayer/replayer_chunk_read_ahead_test
TSAN_OPTIONS=halt_on_error=1 build-tsan/tests/recorder/recorder_record_merger_test

echo "== build (ASan + UBSan)"
bash scripts/build.sh build-asan -DVMREPLAY_SANITIZE=ON -DVMREPLAY_BENCHMARKS=OFF
echo "== tests under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2)

# The trace library's unit tests under clang's UBSan (GCC's misses nullptr + offset), the
# seed corpora and regression inputs, then 25 s of fuzzing per target, two at a time.
echo "== fuzz (clang, ASan + UBSan)"
bash scripts/fuzz.sh 25

# README command 1 as a user runs it (a Release build of its own): it must keep working.
echo "== README command 1 (scripts/demo.sh)"
demo_log=$(mktemp)
bash scripts/demo.sh >"$demo_log" 2>&1 || { tail -40 "$demo_log"; exit 1; }
echo "demo: ok ($(grep -c . "$demo_log") lines of output)"
rm -f "$demo_log"
