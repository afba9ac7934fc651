#!/usr/bin/env bash
# README command 1: install, build, and run `dj run` on the bundled default
# dynamic model (batch is symbolic; we pick 4).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/dj run models/dynamic_mlp.onnx --input x=4x16:f32 "$@"
