"""``Ed25519Signature2020`` (W3C CCG Ed25519 Signature 2020; vc-di-eddsa test vectors, Appendix).

The legacy suite hashes exactly like ``eddsa-rdfc-2022`` (SHA-256 of the RDFC-1.0 canonical proof
options with the document's ``@context``, then of the document) but its proof ``type`` is
``Ed25519Signature2020`` (no ``cryptosuite``) and its terms come from the suite context
``https://w3id.org/security/suites/ed25519-2020/v1``, which issuing appends to the document's
``@context`` when it is missing — as the spec's vector does.

Some issuers (e.g. SpruceID didkit) instead leave the document's ``@context`` alone and put the suite
context inside the proof. JSON-LD applies an embedded ``@context`` on top of the enclosing one, so the
proof configuration is then canonicalized with the document's contexts followed by the proof's.
"""

from __future__ import annotations

from typing import Any

from ledgr.errors import InvalidDocument
from ledgr.vc.canonical import canonical_nquads
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.suites.base import Cryptosuite, context_list, with_document_context

SUITE_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"


class Ed25519Signature2020(Cryptosuite):
    name = "Ed25519Signature2020"
    proof_type = "Ed25519Signature2020"
    cryptosuite = None

    def prepare_document(self, unsecured_document: dict[str, Any]) -> dict[str, Any]:
        contexts = context_list(unsecured_document)
        if SUITE_CONTEXT in contexts:
            return unsecured_document
        return {**unsecured_document, "@context": [*contexts, SUITE_CONTEXT]}

    def check_options(self, options: dict[str, Any]) -> None:
        super().check_options(options)
        if "cryptosuite" in options:
            raise InvalidDocument("Ed25519Signature2020 proofs carry no 'cryptosuite'")

    def document_for_verification(self, unsecured_document: dict[str, Any],
                                  options: dict[str, Any]) -> dict[str, Any] | None:
        """The suite's terms must be defined by its context, in the document or in the proof."""
        contexts = [*context_list(unsecured_document), *context_list(options)]
        if SUITE_CONTEXT not in contexts:
            raise InvalidDocument(f"an Ed25519Signature2020 proof needs the context {SUITE_CONTEXT}")
        return unsecured_document

    def transformation(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                       loader: DocumentLoader | None) -> bytes:
        return canonical_nquads(unsecured_document, loader=loader).encode("utf-8")

    def proof_configuration(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                            loader: DocumentLoader | None) -> bytes:
        config = with_document_context(unsecured_document, options)
        document_contexts = context_list(unsecured_document)
        extra = [c for c in context_list(options) if c not in document_contexts]
        if extra:
            config["@context"] = [*document_contexts, *extra]
        return canonical_nquads(config, loader=loader).encode("utf-8")
