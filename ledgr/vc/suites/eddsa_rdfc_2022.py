"""``eddsa-rdfc-2022`` (W3C vc-di-eddsa v1.0 §3.2): Ed25519 over RDFC-1.0 canonical N-Quads.

The proof configuration is canonicalized with the document's ``@context`` (§3.2.5 step 4), so the
proof's own terms (``cryptosuite``, ``verificationMethod`` …) resolve through the same contexts.
"""

from __future__ import annotations

from typing import Any

from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.suites.base import DataIntegrityProofSuite, with_document_context


class EddsaRdfc2022(DataIntegrityProofSuite):
    name = "eddsa-rdfc-2022"
    cryptosuite = "eddsa-rdfc-2022"

    def transformation(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                       loader: DocumentLoader | None) -> bytes:
        """§3.2.3: RDFC-1.0 canonical N-Quads of the unsecured document (JSON-LD safe mode)."""
        return canonical_nquads(unsecured_document, loader=loader).encode("utf-8")

    def proof_configuration(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                            loader: DocumentLoader | None) -> bytes:
        """§3.2.5: RDFC-1.0 of the proof options with the document's ``@context``."""
        config = with_document_context(unsecured_document, options)
        return canonical_nquads(config, loader=loader).encode("utf-8")
