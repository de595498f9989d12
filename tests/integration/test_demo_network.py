"""The README's main job (``python -m ledgr.demo``) runs end to end against three real node processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


def test_network_demo_issues_resolves_verifies_and_revokes_across_nodes(tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "ledgr.demo", "--dir", str(tmp_path / "net")],
                         capture_output=True, text=True, timeout=240, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.stdout
    for step in ("created a DID through node0", "resolved it from node2 as a certified read",
                 "verified it on node1", "revoked it on node0; node2 now reports it revoked",
                 "stopped node1; node0 and node2 still commit", "every step behaved as expected"):
        assert step in out, out
