#!/usr/bin/env bash
# Configures and builds DynaJIT into build/ (or $DJ_BUILD_DIR) with ccache.
# Extra arguments go to CMake's configure step (e.g. -DDJ_SANITIZE=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${DJ_BUILD_DIR:-build}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# Hash paths relative to the checkout, so the pip build (scripts/test-python.sh) and
# a fresh clone elsewhere hit the same cached objects.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
jobs=${DJ_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${DJ_BUILD_TYPE:-RelWithDebInfo} "$@" >/dev/null
echo "build: compiling into $build_dir with $jobs jobs (first build takes a few minutes)" >&2
cmake --build "$build_dir" -j "$jobs"
