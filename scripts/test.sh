#!/usr/bin/env bash
# README command 2: install, build, and run every test:
#   1. the normal build's ctest suite (unit tests, ONNX conformance with its
#      pass floor, bundled models vs ONNX Runtime reference outputs, the C example);
#   2. the Python bindings' pytest suite (scripts/test-python.sh);
#   3. the bad-input and C API tests again under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "test: running ctest (build/)" >&2
(cd build && ctest --output-on-failure -j "${DJ_JOBS:-$(nproc)}")
echo "test: Python bindings (build-python/)" >&2
scripts/test-python.sh

if [ "${DJ_SKIP_ASAN:-0}" != "1" ]; then
  echo "test: building the sanitizer build (build-asan/)" >&2
  # Without the JIT and the CUDA backend: the sanitizer run covers the C API, loader
  # and bad-input paths; Halide's code and the CUDA tests (fibers, host-compiled
  # kernels) need no sanitizing here, and leaving them out keeps CI within its time.
  DJ_BUILD_DIR=build-asan DJ_BUILD_TYPE=Debug scripts/build.sh -DDJ_SANITIZE=ON -DDJ_BUILD_JIT=OFF -DDJ_BUILD_CUDA=OFF
  echo "test: bad-input and C API tests under AddressSanitizer" >&2
  # allocator_may_return_null: the OOM tests ask for absurd sizes and expect a status back.
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 build-asan/tests/dj_tests --gtest_brief=1 \
    --gtest_filter='*BadInput*:OnnxLoader*:CApi*'
fi
