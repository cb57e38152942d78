#!/usr/bin/env bash
# README command 2 (and CI): install, build with warnings as errors, run the whole test suite,
# then build and run it again under AddressSanitizer + UndefinedBehaviorSanitizer.
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

echo "== build (ASan + UBSan)"
bash scripts/build.sh build-asan -DVMREPLAY_SANITIZE=ON -DVMREPLAY_BENCHMARKS=OFF
echo "== tests under ASan + UBSan"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --output-on-failure -j2)
