#!/usr/bin/env bash
# The Python bindings' tests: makes a venv (build-python/venv), installs the pinned
# test and build requirements (bindings/python/requirements-test.txt), builds and
# installs the repo's `dynajit` package into it with pip, and runs pytest on
# tests/python (outputs vs ONNX Runtime, input rules, zero copies, threads, the
# README example).
#
# The package is built without build isolation so that the persistent build
# directory (build-python/<wheel tag>, see pyproject.toml) and ccache are reused;
# ccache is told to ignore the checkout's location, so a fresh clone still hits
# the cache. Needs python3 with venv and its C headers (Debian: python3-venv,
# python3-dev), cmake, ninja and the C++ dependencies of scripts/install-deps.sh.
# Extra arguments go to pytest. DJ_JOBS sets the build's parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
venv=build-python/venv
python=${PYTHON:-python3}

if ! "$venv/bin/python" -c "import sys" 2>/dev/null; then
  echo "test-python: creating $venv with $("$python" --version 2>&1)" >&2
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))"; then
  echo "test-python: Python.h is missing for $("$venv/bin/python" --version); install python3-dev" >&2
  exit 1
fi
echo "test-python: installing the test requirements" >&2
"$venv/bin/pip" install -q --disable-pip-version-check -r bindings/python/requirements-test.txt

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$repo CCACHE_NOHASHDIR=1
export CMAKE_BUILD_PARALLEL_LEVEL=${DJ_JOBS:-$(nproc)}
echo "test-python: building and installing the dynajit package (first build takes a few minutes)" >&2
"$venv/bin/pip" install -q --disable-pip-version-check --no-build-isolation --no-deps .

echo "test-python: running pytest tests/python" >&2
# Run from the repo root: no `dynajit` folder there, so the import is the installed package.
"$venv/bin/python" -m pytest -p no:cacheprovider -q tests/python "$@"
