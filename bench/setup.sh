#!/usr/bin/env bash
# Creates bench/.venv with the benchmark's peers (PyTorch, ONNX, ONNX Runtime,
# NumPy, matplotlib) and, when the project's Python package can be built, the
# `dynajit` module. Idempotent: each step is skipped when already satisfied.
# The peers are for the benchmark only; the C++ build and the tests never need them.
#
# Usage: bench/setup.sh [--no-dynajit] [--reinstall-dynajit] [--gpu]   (env PYTHON picks the interpreter)
# --reinstall-dynajit rebuilds and reinstalls the dynajit module after C++ changes.
# --gpu installs onnxruntime-gpu (same version) in place of onnxruntime, for the
#       ort-cuda engine on a CUDA machine; torch from PyPI already has CUDA.
set -euo pipefail

bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_dir="$(dirname "$bench_dir")"
venv="$bench_dir/.venv"
python="${PYTHON:-python3}"
want_dynajit=1
reinstall_dynajit=0
gpu=0
for arg in "$@"; do
  case "$arg" in
    --no-dynajit) want_dynajit=0 ;;
    --reinstall-dynajit) reinstall_dynajit=1 ;;
    --gpu) gpu=1 ;;
    *) echo "usage: bench/setup.sh [--no-dynajit] [--reinstall-dynajit] [--gpu]" >&2; exit 2 ;;
  esac
done

step() { printf '\n[setup] %s\n' "$*"; }

if [[ ! -x "$venv/bin/python" ]]; then
  step "creating $venv with $($python --version 2>&1)"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip install --progress-bar on --upgrade pip
else
  step "venv exists: $venv"
fi

vpy="$venv/bin/python"
requirements="$bench_dir/requirements.txt"
if [[ $gpu == 1 ]]; then
  # onnxruntime and onnxruntime-gpu both provide the `onnxruntime` module: one only.
  requirements="$venv/requirements-gpu.txt"
  sed 's/^onnxruntime==/onnxruntime-gpu==/' "$bench_dir/requirements.txt" > "$requirements"
  if "$vpy" -m pip show onnxruntime >/dev/null 2>&1; then
    step "replacing onnxruntime with onnxruntime-gpu"
    "$vpy" -m pip uninstall -y onnxruntime
  fi
fi

# Installed versions must match bench/requirements.txt exactly; pip's own
# check is cheap when everything is already there, but `pip install torch`
# still resolves ~30 wheels, so we compare first and skip the call.
if "$vpy" - "$requirements" <<'PY'
import sys
from importlib import metadata
missing = []
for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, version = line.partition("==")
    try:
        have = metadata.version(name)
        if version and have != version:
            missing.append(f"{name} (have {have}, want {version})")
    except metadata.PackageNotFoundError:
        missing.append(f"{name} (not installed)")
if missing:
    print("[setup] to install: " + ", ".join(missing))
    sys.exit(1)
PY
then
  step "peers already installed ($(basename "$requirements") satisfied)"
else
  step "installing peers from $(basename "$requirements") (torch is a CUDA build, ~3 GB; this takes minutes)"
  "$vpy" -m pip install --progress-bar on -r "$requirements"
fi

if [[ $want_dynajit == 1 ]]; then
  if [[ $reinstall_dynajit == 0 ]] && "$vpy" -c 'import dynajit' 2>/dev/null; then
    step "dynajit module already installed ($("$vpy" -c 'import dynajit,os;print(os.path.dirname(dynajit.__file__))'))"
  elif [[ -f "$repo_dir/pyproject.toml" ]]; then
    # A build directory of the benchmark's own (the default build-python/ belongs to
    # whoever develops the bindings; two builds in one directory would collide).
    # The first install compiles the C++ runtime (~10 minutes on 2 busy cores; 2 jobs,
    # unless CMAKE_BUILD_PARALLEL_LEVEL says otherwise); later ones are incremental.
    step "installing the dynajit module from $repo_dir (compiles the C++ runtime into build-bench/python)"
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
      "$vpy" -m pip install --progress-bar on -C build-dir="$repo_dir/build-bench/python/{wheel_tag}" \
      -C build.verbose=true "$repo_dir"
  else
    step "no $repo_dir/pyproject.toml yet: the DynaJIT engine will be reported as unavailable"
  fi
fi

step "versions:"
"$vpy" - <<'PY'
import importlib
for name in ("numpy", "onnx", "onnxruntime", "torch", "matplotlib", "dynajit"):
    try:
        m = importlib.import_module(name)
        print(f"  {name:12s} {getattr(m, '__version__', '(no __version__)')}")
    except Exception as e:  # report, setup is still usable for the other engines
        print(f"  {name:12s} unavailable: {type(e).__name__}: {e}")
PY
step "done"
