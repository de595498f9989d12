"""Adding and verifying Data Integrity proofs (W3C VC Data Integrity 1.0 §4), over the pure suites.

This is the proof layer that the credential/presentation code calls:

* :func:`add_proof` signs a document with one suite (§4.2 Add Proof). A document that already carries
  proofs gets a *proof set*: each proof in the set is computed over the document without any proof
  (§4.2 "proof sets"), unless ``previous_proof`` names earlier proofs, which makes a *proof chain*:
  the new proof is computed over the document carrying exactly those proofs (§4.2 Add Proof Set/Chain).
* :func:`verify_proofs` checks every proof independently (§4.4 Verify Proof): the signature, that
  the verification method is authorized for the proof's ``proofPurpose`` in its controller document
  (Controlled Identifiers 1.0 §3.3 Retrieve Verification Method), ``expires`` against ``now``, and
  ``challenge``/``domain`` when the caller expects them.

Time is an argument (``now``); nothing here reads the clock or the network. Keys come from the
controller document the caller's ``resolve_controller`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey
from ledgr.errors import InvalidDocument, InvalidKey, LedgrError, TooLarge, VerificationFailed
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.suites import SUITES, suite_by_name, suite_for_proof
from ledgr.vc.suites.base import parse_date_time_stamp

__all__ = ["SUPPORTED_SUITES", "ProofCheck", "add_proof", "verify_proofs"]

SUPPORTED_SUITES: tuple[str, ...] = tuple(SUITES)
MAX_PROOFS = 32
MAX_DEPTH = 32
MAX_VALUES = 20_000
MAX_STRING_CHARS = 2_000_000


def check_bounds(document: object) -> None:
    """Refuse documents too deep or too big to canonicalize safely, before any suite runs.

    Iterative, so a hostile nesting depth cannot exhaust the Python stack (RFC 8785 and the JSON-LD
    walk both recurse). The same caps as :class:`ledgr.vc.canonical.Limits`.
    """
    stack: list[tuple[object, int]] = [(document, 0)]
    values = chars = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > MAX_DEPTH:
            raise TooLarge(f"document nests deeper than {MAX_DEPTH} levels", limit=MAX_DEPTH)
        if values > MAX_VALUES:
            raise TooLarge(f"document has more than {MAX_VALUES} JSON values", limit=MAX_VALUES)
        if isinstance(value, dict):
            chars += sum(len(k) for k in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            chars += len(value)
        if chars > MAX_STRING_CHARS:
            raise TooLarge(f"document strings exceed {MAX_STRING_CHARS} characters", limit=MAX_STRING_CHARS)


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of checking one proof of a document."""

    verified: bool
    verification_method: str | None
    suite: str | None
    purpose: str | None
    error: LedgrError | None
    proof_id: str | None = None
    created: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"verified": self.verified, "verificationMethod": self.verification_method,
                               "suite": self.suite, "proofPurpose": self.purpose}
        if self.proof_id is not None:
            out["id"] = self.proof_id
        if self.error is not None:
            out["error"] = {"code": self.error.code, "message": self.error.detail}
        return out


def _proof_list(document: dict[str, Any]) -> list[Any]:
    proof = document.get("proof")
    if proof is None:
        return []
    proofs = proof if isinstance(proof, list) else [proof]
    if len(proofs) > MAX_PROOFS:
        raise TooLarge(f"a document may carry at most {MAX_PROOFS} proofs", limit=MAX_PROOFS)
    return proofs


def _without_proof(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def _ids(value: str | list[str]) -> list[str]:
    ids = [value] if isinstance(value, str) else value
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise InvalidDocument("previousProof must be a proof id or a non-empty list of proof ids")
    return ids


def _previous_proofs(proofs: list[Any], previous: str | list[str]) -> list[dict[str, Any]]:
    """The proofs a chained proof names in ``previousProof``, in proof-set order (§4.2 step 5)."""
    wanted = _ids(previous)
    found = [p for p in proofs if isinstance(p, dict) and p.get("id") in wanted]
    missing = sorted(set(wanted) - {p.get("id") for p in found})
    if missing:
        raise VerificationFailed(f"previousProof names proofs not in the proof set: {', '.join(missing)}")
    return found


def add_proof(document: dict[str, Any], *, private_key: PrivateKey, suite: str, verification_method: str,
              proof_purpose: str = "assertionMethod", created: str | None = None,
              expires: str | None = None, challenge: str | None = None,
              domain: str | list[str] | None = None, loader: DocumentLoader | None = None,
              proof_id: str | None = None, previous_proof: str | list[str] | None = None) -> dict[str, Any]:
    """A NEW dict: ``document`` secured with one more proof by ``suite`` (VC Data Integrity §4.2).

    ``created``/``expires`` are XML Schema dateTimeStamps chosen by the caller (this layer has no
    clock). ``proof_id`` sets the proof's ``id``; ``previous_proof`` makes a proof chain.
    """
    if not isinstance(document, dict):
        raise InvalidDocument("the document to sign must be a JSON object")
    check_bounds(document)
    cryptosuite = suite_by_name(suite)
    if not isinstance(verification_method, str) or not verification_method:
        raise InvalidDocument("verificationMethod must be a non-empty string")
    if not isinstance(proof_purpose, str) or not proof_purpose:
        raise InvalidDocument("proofPurpose must be a non-empty string")
    existing = _proof_list(document)
    if not all(isinstance(proof, dict) for proof in existing):
        raise InvalidDocument("the document's existing 'proof' must be an object or an array of objects")
    if len(existing) >= MAX_PROOFS:
        raise TooLarge(f"a document may carry at most {MAX_PROOFS} proofs", limit=MAX_PROOFS)

    options: dict[str, Any] = {"type": cryptosuite.proof_type}
    if proof_id is not None:
        options["id"] = proof_id
    if cryptosuite.cryptosuite is not None:
        options["cryptosuite"] = cryptosuite.cryptosuite
    if created is not None:
        options["created"] = created
    options["verificationMethod"] = verification_method
    options["proofPurpose"] = proof_purpose
    for name, value in (("expires", expires), ("challenge", challenge), ("domain", domain)):
        if value is not None:
            options[name] = value
    if previous_proof is not None:
        options["previousProof"] = previous_proof

    unsecured = _without_proof(document)
    to_sign = unsecured
    if previous_proof is not None:
        to_sign = {**unsecured, "proof": _previous_proofs(existing, previous_proof)}
    secured, proof = cryptosuite.create_proof(to_sign, options, private_key, loader)
    if secured.get("@context") != unsecured.get("@context"):
        if existing:
            raise InvalidDocument(f"{suite} must add its context to the document, which would break "
                                  "the proofs it already carries; add the context before signing")
        unsecured = {**unsecured, "@context": secured["@context"]}
    result = dict(unsecured)
    result["proof"] = [*existing, proof] if existing else proof
    return result


def _absolute(reference: str, base_id: str) -> str:
    return base_id + reference if reference.startswith("#") else reference


def _authorized_method(controller: dict[str, Any], method_id: str, purpose: str) -> dict[str, Any]:
    """The verification method ``method_id`` if listed under ``purpose`` (Controlled Identifiers §3.3)."""
    controller_id = controller.get("id")
    if not isinstance(controller_id, str) or controller_id != method_id.split("#", 1)[0]:
        raise VerificationFailed(f"controller document id {controller_id!r} does not match "
                                 f"verification method {method_id}")
    relationship = controller.get(purpose)
    entries = relationship if isinstance(relationship, list) else [relationship] if relationship else []
    listed = False
    method: dict[str, Any] | None = None
    for entry in entries:
        if isinstance(entry, str) and _absolute(entry, controller_id) == method_id:
            listed = True
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str) \
                and _absolute(entry["id"], controller_id) == method_id:
            listed, method = True, entry
    if not listed:
        raise VerificationFailed(f"verification method {method_id} is not authorized for proofPurpose "
                                 f"{purpose!r} in its controller document")
    if method is None:
        methods = controller.get("verificationMethod")
        for candidate in methods if isinstance(methods, list) else []:
            if isinstance(candidate, dict) and isinstance(candidate.get("id"), str) \
                    and _absolute(candidate["id"], controller_id) == method_id:
                method = candidate
                break
    if method is None:
        raise VerificationFailed(f"verification method {method_id} is not defined in its controller document")
    if method.get("controller") != controller_id:
        raise VerificationFailed(f"verification method {method_id} has controller "
                                 f"{method.get('controller')!r}, not {controller_id}")
    return method


def _public_key(method: dict[str, Any]) -> PublicKey:
    """The Ed25519 key of a Multikey / Ed25519VerificationKey2020 / JsonWebKey verification method."""
    try:
        if isinstance(method.get("publicKeyMultibase"), str):
            return PublicKey.from_multikey(method["publicKeyMultibase"])
        if isinstance(method.get("publicKeyJwk"), dict):
            return PublicKey.from_jwk(method["publicKeyJwk"])
    except InvalidKey as exc:
        raise VerificationFailed(f"verification method {method.get('id')} has an unusable key: "
                                 f"{exc.detail}") from exc
    raise VerificationFailed(f"verification method {method.get('id')} has no Ed25519 "
                             "publicKeyMultibase or publicKeyJwk")


def _check_options(proof: dict[str, Any], expected_purpose: str, challenge: str | None,
                   domain: str | None, now: datetime | None) -> None:
    purpose = proof.get("proofPurpose")
    if purpose != expected_purpose:
        raise VerificationFailed(f"proofPurpose is {purpose!r}, expected {expected_purpose!r}")
    if "expires" in proof:
        expires = parse_date_time_stamp(proof["expires"], "expires")
        if now is not None and now >= expires:
            raise VerificationFailed(f"the proof expired at {proof['expires']}")
    if challenge is not None and proof.get("challenge") != challenge:
        raise VerificationFailed("the proof's challenge does not match the expected challenge")
    if domain is not None:
        proof_domain = proof.get("domain")
        domains = proof_domain if isinstance(proof_domain, list) else [proof_domain]
        if domain not in domains:
            raise VerificationFailed("the proof's domain does not match the expected domain")


def _verify_one(document: dict[str, Any], proofs: list[Any], proof: Any,
                resolve_controller: Callable[[str], dict[str, Any]], expected_purpose: str,
                challenge: str | None, domain: str | None, now: datetime | None,
                loader: DocumentLoader | None) -> ProofCheck:
    if not isinstance(proof, dict):
        return ProofCheck(False, None, None, None, InvalidDocument("a proof must be a JSON object"))
    method_id = proof.get("verificationMethod")
    method_id = method_id if isinstance(method_id, str) else None
    purpose = proof.get("proofPurpose") if isinstance(proof.get("proofPurpose"), str) else None
    proof_id = proof.get("id") if isinstance(proof.get("id"), str) else None
    created = proof.get("created") if isinstance(proof.get("created"), str) else None
    suite_name: str | None = None
    try:
        suite = suite_for_proof(proof)
        suite_name = suite.name
        if method_id is None:
            raise InvalidDocument("the proof has no verificationMethod")
        _check_options(proof, expected_purpose, challenge, domain, now)
        unsecured = _without_proof(document)
        if "previousProof" in proof:
            unsecured["proof"] = _previous_proofs(proofs, proof["previousProof"])
        controller = resolve_controller(method_id)
        if not isinstance(controller, dict):
            raise VerificationFailed(f"no controller document for {method_id}")
        public_key = _public_key(_authorized_method(controller, method_id, str(purpose)))
        if not suite.verify_proof(unsecured, proof, public_key, loader):
            raise VerificationFailed(f"the {suite.name} signature does not verify")
    except LedgrError as exc:
        return ProofCheck(False, method_id, suite_name, purpose, exc, proof_id, created)
    return ProofCheck(True, method_id, suite_name, purpose, None, proof_id, created)


def verify_proofs(document: dict[str, Any], *, resolve_controller: Callable[[str], dict[str, Any]],
                  expected_purpose: str = "assertionMethod", challenge: str | None = None,
                  domain: str | None = None, now: datetime | None = None,
                  loader: DocumentLoader | None = None) -> list[ProofCheck]:
    """One :class:`ProofCheck` per proof, each verified independently (VC Data Integrity §4.4).

    ``resolve_controller`` maps a verification method id to its controller document (e.g. a DID
    document) and raises a :class:`LedgrError` when it cannot. ``expires`` is only compared when
    ``now`` is given. A document without any proof yields a single failed check, so that
    ``all(c.verified for c in checks)`` is never vacuously true. A document beyond the size limits
    (:func:`check_bounds`) raises :class:`TooLarge` instead of being checked.
    """
    if not isinstance(document, dict):
        raise InvalidDocument("the document to verify must be a JSON object")
    check_bounds(document)
    proofs = _proof_list(document)
    if not proofs:
        return [ProofCheck(False, None, None, None, VerificationFailed("the document carries no proof"))]
    return [_verify_one(document, proofs, proof, resolve_controller, expected_purpose, challenge, domain,
                        now, loader) for proof in proofs]
