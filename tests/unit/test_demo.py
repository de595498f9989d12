"""The offline demo (``python -m ledgr.demo``, run by ``scripts/demo``) succeeds end to end."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_offline_and_exits_0() -> None:
    run = subprocess.run([sys.executable, "-m", "ledgr.demo"], capture_output=True, text=True, timeout=120,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    assert "demo succeeded" in out
    assert out.count("[ok]") == 9 and "[FAIL]" not in out
    assert "tampered familyName rejected" in out and "revoked credential rejected" in out
    assert "replayed in another session rejected" in out
    assert '"proofValue"' in out
