"""``Ed25519Signature2020`` (W3C CCG Ed25519 Signature 2020; vc-di-eddsa test vectors, Appendix).

The legacy suite hashes exactly like ``eddsa-rdfc-2022`` (SHA-256 of the RDFC-1.0 canonical proof
options with the document's ``@context``, then of the document) but its proof ``type`` is
``Ed25519Signature2020`` (no ``cryptosuite``) and its terms come from the suite context
``https://w3id.org/security/suites/ed25519-2020/v1``, which issuing appends to the document's
``@context`` when it is missing — as the spec's vector does.
"""

from __future__ import annotations

from typing import Any

from ledgr.errors import InvalidDocument
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.suites.base import Cryptosuite, with_document_context

SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


def _contexts(document: dict[str, Any]) -> list[Any]:
    context = document.get("@context")
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


class Ed25519Signature2020(Cryptosuite):
    name = "Ed25519Signature2020"
    proof_type = "Ed25519Signature2020"
    cryptosuite = None

    def prepare_document(self, unsecured_document: dict[str, Any]) -> dict[str, Any]:
        contexts = _contexts(unsecured_document)
        if SUITE_CONTEXT in contexts:
            return unsecured_document
        return {**unsecured_document, "@context": [*contexts, SUITE_CONTEXT]}

    def check_options(self, options: dict[str, Any]) -> None:
        super().check_options(options)
        if "cryptosuite" in options:
            raise InvalidDocument("Ed25519Signature2020 proofs carry no 'cryptosuite'")

    def document_for_verification(self, unsecured_document: dict[str, Any],
                                  options: dict[str, Any]) -> dict[str, Any] | None:
        """The suite's terms must be defined by its context, which the document must include."""
        if SUITE_CONTEXT not in _contexts(unsecured_document):
            raise InvalidDocument(f"an Ed25519Signature2020 proof needs the context {SUITE_CONTEXT}")
        return unsecured_document

    def transformation(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                       loader: DocumentLoader | None) -> bytes:
        return canonical_nquads(unsecured_document, loader=loader).encode("utf-8")

    def proof_configuration(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                            loader: DocumentLoader | None) -> bytes:
        config = with_document_context(unsecured_document, options)
        return canonical_nquads(config, loader=loader).encode("utf-8")
