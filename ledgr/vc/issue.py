"""Issuing: validate a credential, bind the issuer to the signing key, add a Data Integrity proof.

:func:`issue` is pure: it takes the key and the proof's ``created`` time as arguments (the CLI and
the HTTP layer read the clock). Before signing it checks that the document is a conforming
credential (:func:`ledgr.vc.credential.validate_credential`) and that the verifier's
``issuer-binding`` check will hold (VC DM 2.0 §4.7, Controlled Identifiers §3.3):

- a ``did:key`` issuer must be the did:key of ``secret_key`` itself; the verification method
  defaults to that key's (``did:key:z6Mk…#z6Mk…``);
- any other DID issuer needs ``verification_method``, a DID URL under the issuer's DID; with a
  ``resolver`` the method must also be listed under ``assertionMethod`` and hold this very key;
- an issuer that is not a DID cannot be bound to a key offline and is refused.
"""

from __future__ import annotations

import copy
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey
from ledgr.did.key import did_key_from_public_key, did_key_verification_method
from ledgr.errors import InvalidDocument, InvalidInput, InvalidKey, LedgrError
from ledgr.vc.controllers import ControllerResolver, DidResolver, controller_id, did_of
from ledgr.vc.credential import VP_TYPE, as_list, validate_credential
from ledgr.vc.dates import parse_date_time_stamp
from ledgr.vc.loader import DocumentLoader
from ledgr.vc.proofs import add_proof

PROOF_OPTIONS = ("proof_purpose", "expires", "challenge", "domain", "loader", "resolver", "proof_id",
                 "previous_proof")


def issue(document: dict[str, Any], *, secret_key: str, suite: str, verification_method: str | None = None,
          created: str | None = None, **proof_options: Any) -> dict[str, Any]:
    """Return a signed copy of ``document`` (``suite``, key ``secret_key``: a Multikey ``z3u2…``).

    The result shares nothing with ``document``, so later edits to one never change the other.

    ``proof_options``: ``proof_purpose`` (default ``assertionMethod``), ``expires``, ``challenge``,
    ``domain``, ``proof_id``, ``previous_proof``, ``loader`` (a :class:`DocumentLoader` with extra
    contexts) and ``resolver`` (DID -> DID document, to check a non-did:key issuer's key).
    """
    unknown = sorted(set(proof_options) - set(PROOF_OPTIONS))
    if unknown:
        raise InvalidInput(f"unknown proof option(s) {', '.join(unknown)}; known: {', '.join(PROOF_OPTIONS)}")
    if not isinstance(document, dict):
        raise InvalidDocument("the credential to issue must be a JSON object")
    if VP_TYPE in as_list(document.get("type")):
        raise InvalidDocument("this is a presentation: sign it with ledgr.vc.sign_presentation")
    validate_credential(document)
    private_key = private_key_from_multikey(secret_key)
    method = bound_verification_method(document.get("issuer"), "issuer", private_key, verification_method,
                                       proof_options.get("resolver"), "assertionMethod")
    _check_dates(created, proof_options.get("expires"))
    loader: DocumentLoader | None = proof_options.get("loader")
    return add_proof(
        copy.deepcopy(document), private_key=private_key, suite=suite, verification_method=method,
        proof_purpose=proof_options.get("proof_purpose", "assertionMethod"), created=created,
        expires=proof_options.get("expires"), challenge=proof_options.get("challenge"),
        domain=proof_options.get("domain"), loader=loader, proof_id=proof_options.get("proof_id"),
        previous_proof=proof_options.get("previous_proof"))


def bound_verification_method(controller: object, role: str, private_key: PrivateKey,
                              verification_method: str | None, resolver: DidResolver | None,
                              purpose: str) -> str:
    """The verification method to sign with, after checking that ``controller`` controls the key."""
    controller_did = controller_id(controller)
    if controller_did is None:
        raise InvalidDocument(
            f"the {role} must be a DID (did:key or did:ledgr) so verifiers can check that it controls "
            f"the signing key; got {_preview(controller)}", property=role)
    public_key = private_key.public_key
    if controller_did.startswith("did:key:"):
        own_did = did_key_from_public_key(public_key)
        own_method = did_key_verification_method(public_key)
        if controller_did != own_did:
            raise InvalidKey(f"the {role} {controller_did} is not the did:key of this secret key "
                             f"({own_did})", property=role)
        if verification_method not in (None, own_method):
            raise InvalidKey(f"verification method {verification_method} is not this key's did:key "
                             f"method {own_method}", property="verificationMethod")
        return own_method
    if verification_method is None:
        raise InvalidInput(f"a {controller_did.split(':')[1]} {role} needs --verification-method / "
                           "verification_method (a DID URL of the issuer's key)")
    if did_of(verification_method) != controller_did or "#" not in verification_method:
        raise InvalidKey(f"verification method {verification_method} does not belong to the {role} "
                         f"{controller_did}", property="verificationMethod")
    if resolver is not None:
        _check_key_in_document(controller_did, verification_method, public_key, resolver, purpose)
    return verification_method


def _check_key_in_document(did: str, method_id: str, public_key: PublicKey, resolver: DidResolver,
                           purpose: str) -> None:
    document = ControllerResolver(resolver)(did)
    listed = [entry if isinstance(entry, str) else entry.get("id")
              for entry in as_list(document.get(purpose, [])) if isinstance(entry, str | dict)]
    absolute = {did + item if isinstance(item, str) and item.startswith("#") else item for item in listed}
    if method_id not in absolute:
        raise InvalidKey(f"{method_id} is not listed under {purpose} in {did}'s DID document")
    for method in as_list(document.get("verificationMethod", [])):
        if not isinstance(method, dict):
            continue
        method_ref = method.get("id")
        if method_ref in (method_id, method_id[len(did):]):
            if method.get("publicKeyMultibase") != public_key.multikey:
                raise InvalidKey(f"{method_id} holds a different key than the secret key given")
            return
    raise InvalidKey(f"{method_id} is not defined in {did}'s DID document")


def private_key_from_multikey(secret_key: str) -> PrivateKey:
    if not isinstance(secret_key, str):
        raise InvalidKey("secret_key must be a Multikey string (z3u2…)")
    try:
        return PrivateKey.from_multikey(secret_key)
    except LedgrError as exc:
        raise InvalidKey(f"secret key is not an Ed25519 secretKeyMultibase: {exc.detail}") from exc


def _check_dates(created: object, expires: object) -> None:
    if created is not None:
        parse_date_time_stamp(created, "created")
    if expires is not None:
        parse_date_time_stamp(expires, "expires")


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 64 else text[:61] + "..."

