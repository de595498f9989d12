"""Paths shared by tests: the project root and the read-only ``../shared`` material beside it.

``LEDGR_SHARED`` overrides the location of ``shared/`` (CI lays it beside the clone).
"""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEDGR_SHARED", str(ROOT.parent / "shared")))
VECTORS = SHARED / "w3c-vectors"
EDDSA_VECTORS = VECTORS / "vc-di-eddsa"
CONTEXT_VECTORS = VECTORS / "contexts"
