#!/usr/bin/env bash
# Installs what DynaJIT needs on Debian 12 (apt), only what is missing.
set -euo pipefail
pkgs=(cmake ninja-build g++ ccache pkg-config python3 python3-venv python3-dev
      llvm-14-dev libhalide14-0-dev libtbb-dev libgtest-dev
      libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata libedit-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
