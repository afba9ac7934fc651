"""The README's Python example runs as written, from the repo root."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_readme_example_runs():
    proc = subprocess.run(
        [sys.executable, str(REPO / "bindings/python/examples/readme_example.py")],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "name='tokens'" in lines[0] and "('batch', 'seq', 32)" in lines[0]
    assert lines[1:3] == ["(1, 7, 32)", "(4, 33, 32)"]
    assert lines[3].startswith("refused: input 'tokens' has dtype float64")
    assert lines[4] == "2 runs"
