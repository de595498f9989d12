"""The shape every proof suite shares, named after the algorithm steps of W3C vc-di-eddsa v1.0.

vc-di-eddsa defines each cryptosuite as five steps: *transformation* (document → canonical bytes),
*proof configuration* (proof options → canonical bytes), *hashing* (SHA-256 of both, proof config
hash first), *proof serialization* (sign the hash data) and *proof verification*. The suites here are
pure functions over key bytes: the caller resolves the verification method to a
:class:`~ledgr.crypto.PublicKey` first (architecture "crypto suites are pure functions over keys").

Documents passed to ``create_proof`` / ``verify_proof`` are *unsecured*: without a ``proof`` member.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey, multibase, sha256
from ledgr.errors import InvalidDocument, InvalidEncoding, VerificationFailed
from ledgr.vc.loader import DocumentLoader

CREDENTIALS_V2 = "https://www.w3.org/ns/credentials/v2"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"

# XML Schema 1.1 dateTimeStamp (a dateTime with a mandatory time zone), as Data Integrity §2.1
# requires for ``created`` and ``expires``.
_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$")


def context_list(document: dict[str, Any]) -> list[Any]:
    """The document's ``@context`` as a list (empty when absent)."""
    context = document.get("@context")
    if context is None:
        return []
    return list(context) if isinstance(context, list) else [context]


def parse_date_time_stamp(value: object, name: str) -> datetime:
    """Parse an XML Schema ``dateTimeStamp`` (e.g. ``2023-02-24T23:36:38Z``) into an aware datetime."""
    if not isinstance(value, str) or not _DATE_TIME_STAMP.match(value):
        raise InvalidDocument(f"proof {name!r} must be an XML Schema dateTimeStamp "
                              f"like 2024-01-01T00:00:00Z, got {value!r}")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDocument(f"proof {name!r} is not a valid date-time: {value!r}") from exc


def decode_proof_value(value: object) -> bytes:
    """Multibase base58btc ``proofValue`` (vc-di-eddsa §2.2.1: the ``z`` header is required)."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise VerificationFailed("proofValue must be a multibase base58btc string (starting with 'z')")
    try:
        return multibase.decode(value)
    except InvalidEncoding as exc:
        raise VerificationFailed(f"proofValue is not valid base58btc: {exc.detail}") from exc


class Cryptosuite(ABC):
    """One Data Integrity proof suite (a ``type`` plus, for DataIntegrityProof, a ``cryptosuite``)."""

    name: str
    proof_type: str
    cryptosuite: str | None = None
    #: members of the proof that are not part of the proof configuration
    signature_members: tuple[str, ...] = ("proofValue",)

    # -- the spec's algorithm steps -------------------------------------------------------------

    @abstractmethod
    def transformation(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                       loader: DocumentLoader | None) -> bytes:
        """Canonical bytes of the unsecured document (vc-di-eddsa §3.x.3 Transformation)."""

    @abstractmethod
    def proof_configuration(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                            loader: DocumentLoader | None) -> bytes:
        """Canonical bytes of the proof options with the document's ``@context`` (§3.x.5)."""

    def hashing(self, transformed_data: bytes, canonical_proof_config: bytes) -> bytes:
        """SHA-256(proof config) ‖ SHA-256(transformed document) (§3.x.4 Hashing)."""
        return sha256(canonical_proof_config) + sha256(transformed_data)

    def serialization(self, hash_data: bytes, private_key: PrivateKey) -> bytes:
        """Ed25519 signature of the hash data (§3.x.6 Proof Serialization)."""
        return private_key.sign(hash_data)

    def verification(self, hash_data: bytes, proof_bytes: bytes, public_key: PublicKey) -> bool:
        """Ed25519 verification of the signature over the hash data (§3.x.7 Proof Verification)."""
        return public_key.verify(hash_data, proof_bytes)

    # -- create / verify (§3.x.1, §3.x.2) -------------------------------------------------------

    def check_options(self, options: dict[str, Any]) -> None:
        """The proof options name this suite (otherwise PROOF_TRANSFORMATION_ERROR in the spec)."""
        if options.get("type") != self.proof_type:
            raise InvalidDocument(f"{self.name}: proof type must be {self.proof_type!r}, "
                                  f"got {options.get('type')!r}")
        if self.cryptosuite is not None and options.get("cryptosuite") != self.cryptosuite:
            raise InvalidDocument(f"{self.name}: cryptosuite must be {self.cryptosuite!r}, "
                                  f"got {options.get('cryptosuite')!r}")
        for name in ("created", "expires"):
            if name in options:
                parse_date_time_stamp(options[name], name)

    def prepare_options(self, unsecured_document: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
        """The proof as it will be embedded, before ``proofValue`` is added."""
        return dict(options)

    def prepare_document(self, unsecured_document: dict[str, Any]) -> dict[str, Any]:
        """The document as it will be secured (Ed25519Signature2020 adds its context here)."""
        return unsecured_document

    def create_proof(self, unsecured_document: dict[str, Any], options: dict[str, Any],
                     private_key: PrivateKey, loader: DocumentLoader | None = None,
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (document to secure, proof with ``proofValue``) — vc-di-eddsa §3.x.1 Create Proof."""
        document = self.prepare_document(unsecured_document)
        proof = self.prepare_options(document, options)
        self.check_options(proof)
        transformed = self.transformation(document, proof, loader)
        config = self.proof_configuration(document, proof, loader)
        proof_bytes = self.serialization(self.hashing(transformed, config), private_key)
        proof["proofValue"] = multibase.encode_base58btc(proof_bytes)
        return document, proof

    def verify_proof(self, unsecured_document: dict[str, Any], proof: dict[str, Any],
                     public_key: PublicKey, loader: DocumentLoader | None = None) -> bool:
        """True when ``proof`` is a valid signature over ``unsecured_document`` (§3.x.2 Verify Proof).

        Raises :class:`InvalidDocument` when the document or proof cannot be processed at all.
        """
        options = {k: v for k, v in proof.items() if k not in self.signature_members}
        proof_bytes = decode_proof_value(proof.get("proofValue"))
        self.check_options(options)
        document = self.document_for_verification(unsecured_document, options)
        if document is None:
            return False
        transformed = self.transformation(document, options, loader)
        config = self.proof_configuration(document, options, loader)
        return self.verification(self.hashing(transformed, config), proof_bytes, public_key)

    def document_for_verification(self, unsecured_document: dict[str, Any],
                                  options: dict[str, Any]) -> dict[str, Any] | None:
        """The document the proof is checked against, or None when it cannot match at all."""
        return unsecured_document


class DataIntegrityProofSuite(Cryptosuite):
    """A ``DataIntegrityProof`` cryptosuite: its terms come from the data-integrity context."""

    proof_type = "DataIntegrityProof"

    def prepare_document(self, unsecured_document: dict[str, Any]) -> dict[str, Any]:
        """Append ``https://w3id.org/security/data-integrity/v2`` to a JSON-LD document (e.g. a VC 1.1
        credential) whose contexts do not define ``DataIntegrityProof``; VC 2.0's context already does.
        """
        contexts = context_list(unsecured_document)
        if not contexts or CREDENTIALS_V2 in contexts or DATA_INTEGRITY_V2 in contexts:
            return unsecured_document
        return {**unsecured_document, "@context": [*contexts, DATA_INTEGRITY_V2]}


def with_document_context(unsecured_document: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """Proof configuration per vc-di-eddsa §3.x.5: the options with the document's ``@context``."""
    config = {k: v for k, v in options.items() if k != "@context"}
    if "@context" in unsecured_document:
        config["@context"] = unsecured_document["@context"]
    return config
