"""``eddsa-jcs-2022`` (W3C vc-di-eddsa v1.0 §3.3): Ed25519 over RFC 8785 JCS canonical JSON.

The proof carries the document's ``@context`` (§3.3.1 step 3), and verification only accepts a proof
whose ``@context`` is a prefix of the document's (§3.3.2 step 4), then checks the signature against
the document with the proof's ``@context``.
"""

from __future__ import annotations

from typing import Any

from ledgr.crypto import canonicalize
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.suites.base import DataIntegrityProofSuite, with_document_context


class EddsaJcs2022(DataIntegrityProofSuite):
    name = "eddsa-jcs-2022"
    cryptosuite = "eddsa-jcs-2022"

    def transformation(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                       loader: DocumentLoader | None) -> bytes:
        """§3.3.3: JCS of the unsecured document."""
        return canonicalize(unsecured_document)

    def proof_configuration(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                            loader: DocumentLoader | None) -> bytes:
        """§3.3.5: JCS of the proof options with the document's ``@context``."""
        return canonicalize(with_document_context(unsecured_document, options))

    def prepare_options(self, unsecured_document: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """§3.3.1 step 3: the proof repeats the document's ``@context``."""
        proof = {k: v for k, v in options.items() if k != "@context"}
        if "@context" in unsecured_document:
            proof["@context"] = unsecured_document["@context"]
        return proof

    def document_for_verification(self, unsecured_document: dict[str, Any],
                                  options: dict[str, Any]) -> dict[str, Any] | None:
        """§3.3.2 step 4: the proof's ``@context`` must be a prefix of the document's."""
        if "@context" not in options:
            return unsecured_document
        proof_context = options["@context"]
        doc_context = unsecured_document.get("@context")
        proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
        doc_list = doc_context if isinstance(doc_context, list) else [doc_context]
        if doc_list[: len(proof_list)] != proof_list:
            return None
        return {**unsecured_document, "@context": proof_context}
