"""Paths shared by tests: the project root and the read-only ``../shared`` material beside it."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
VECTORS = SHARED / "w3c-vectors"
EDDSA_VECTORS = VECTORS / "vc-di-eddsa"
CONTEXT_VECTORS = VECTORS / "contexts"
