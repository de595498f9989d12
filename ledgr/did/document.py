"""DID document model and the validation rules for documents written to the ledger (DID Core §5).

Only the properties of DID Core §5 that a public identifier needs are accepted (``@context``, ``id``,
``controller``, ``alsoKnownAs``, ``verificationMethod``, the five verification relationships and
``service``); anything else is refused, which keeps free-form (possibly personal) data off the ledger
(docs/privacy.md). Every list and string has a limit. Verification relationships may embed a method or
reference one defined in this document; references to other DIDs' methods are refused so that
authorization never depends on a third document. Keys are Ed25519 (signing) or X25519 (keyAgreement),
as ``Multikey``/``Ed25519VerificationKey2020`` (``publicKeyMultibase``) or ``JsonWebKey``/
``JsonWebKey2020`` (``publicKeyJwk``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.crypto import multibase as mb
from ledgr.crypto.keys import PUBLIC_KEY_BYTES, PublicKey
from ledgr.did.syntax import is_did
from ledgr.errors import InvalidDocument, InvalidEncoding

DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://www.w3.org/ns/did/v1.1")
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")
ALLOWED_PROPERTIES = frozenset({"@context", "id", "controller", "alsoKnownAs", "verificationMethod",
                                "service", *RELATIONSHIPS})
VM_TYPES = frozenset({"Multikey", "Ed25519VerificationKey2020", "JsonWebKey", "JsonWebKey2020"})
MAX_CONTEXTS = 8
MAX_CONTROLLERS = 8
MAX_ALSO_KNOWN_AS = 8
MAX_METHODS = 16
MAX_SERVICES = 16
MAX_URI_CHARS = 512
MAX_SERVICE_ENDPOINT_BYTES = 2048
_FRAGMENT_RE = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")
_TYPE_RE = re.compile(r"^[A-Za-z0-9._:/#-]{1,64}$")


@dataclass(frozen=True, slots=True)
class VerificationMethod:
    id: str
    type: str
    controller: str
    curve: str  # "Ed25519" or "X25519"
    raw_key: bytes
    multikey: str  # the key as publicKeyMultibase (how compromised keys are named)

    def ed25519_key(self) -> PublicKey | None:
        return PublicKey(self.raw_key) if self.curve == "Ed25519" else None


@dataclass(frozen=True, slots=True)
class DidDocument:
    """A validated DID document: the JSON as given plus the parsed facts authorization needs."""

    json: dict[str, Any]
    id: str
    controllers: tuple[str, ...]
    methods: dict[str, VerificationMethod]
    relationships: dict[str, tuple[str, ...]]

    def method_for(self, vm_id: str, relationships: tuple[str, ...]) -> VerificationMethod | None:
        """The method ``vm_id`` if the document lists it under one of ``relationships``."""
        for name in relationships:
            if vm_id in self.relationships.get(name, ()):
                return self.methods.get(vm_id)
        return None

    def key_for(self, vm_id: str, relationships: tuple[str, ...]) -> PublicKey | None:
        method = self.method_for(vm_id, relationships)
        return None if method is None else method.ed25519_key()


def _fail(message: str) -> InvalidDocument:
    return InvalidDocument(f"DID document: {message}")


def _string(value: Any, what: str, limit: int = MAX_URI_CHARS) -> str:
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _fail(f"{what} must be a non-empty string of at most {limit} characters")
    return value


def _list(value: Any, what: str, limit: int, allow_single: bool = True) -> list[Any]:
    if allow_single and not isinstance(value, list):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > limit:
        raise _fail(f"{what} must be a non-empty list of at most {limit} entries")
    return value


def _absolute_id(value: Any, did: str, what: str) -> str:
    text = _string(value, what)
    fragment: str | None = None
    if text.startswith("#"):
        fragment = text[1:]
    elif text.startswith(did + "#"):
        fragment = text[len(did) + 1:]
    if fragment is None or not _FRAGMENT_RE.match(fragment):
        raise _fail(f"{what} must be '{did}#<fragment>' or '#<fragment>' (fragment [A-Za-z0-9._~-]{{1,64}})")
    return f"{did}#{fragment}"


def _method_key(vm: dict[str, Any], what: str) -> tuple[str, bytes, str]:
    vm_type = vm.get("type")
    try:
        if vm_type in ("Multikey", "Ed25519VerificationKey2020"):
            if set(vm) != {"id", "type", "controller", "publicKeyMultibase"}:
                raise _fail(f"{what} needs exactly id, type, controller and publicKeyMultibase")
            multikey = _string(vm["publicKeyMultibase"], f"{what} publicKeyMultibase", 128)
            raw = mb.decode(multikey)
            if raw[:2] == mb.ED25519_PUB:
                curve = "Ed25519"
            elif raw[:2] == mb.X25519_PUB and vm_type == "Multikey":
                curve = "X25519"
            else:
                raise _fail(f"{what} must hold an Ed25519 (or, as Multikey, X25519) public key")
            key = raw[2:]
        elif vm_type in ("JsonWebKey", "JsonWebKey2020"):
            if set(vm) != {"id", "type", "controller", "publicKeyJwk"}:
                raise _fail(f"{what} needs exactly id, type, controller and publicKeyJwk")
            jwk = vm["publicKeyJwk"]
            if not isinstance(jwk, dict) or set(jwk) - {"kty", "crv", "x", "kid", "alg", "use"} or \
                    jwk.get("kty") != "OKP" or jwk.get("crv") not in ("Ed25519", "X25519"):
                raise _fail(f"{what} publicKeyJwk must be an OKP Ed25519 or X25519 public key")
            curve = jwk["crv"]
            key = mb.b64url_nopad_decode(_string(jwk.get("x"), f"{what} publicKeyJwk x", 64))
            multikey = ""
        else:
            raise _fail(f"{what} type must be one of {sorted(VM_TYPES)}")
    except InvalidEncoding as exc:
        raise _fail(f"{what} key is not decodable: {exc.detail}") from exc
    if len(key) != PUBLIC_KEY_BYTES:
        raise _fail(f"{what} key must be {PUBLIC_KEY_BYTES} bytes")
    if curve == "Ed25519":
        PublicKey(key)
    if not multikey:
        multikey = mb.with_codec(mb.ED25519_PUB if curve == "Ed25519" else mb.X25519_PUB, key)
    return curve, key, multikey


def _method(value: Any, did: str, what: str) -> VerificationMethod:
    if not isinstance(value, dict):
        raise _fail(f"{what} must be an object")
    vm_id = _absolute_id(value.get("id"), did, f"{what} id")
    controller = _string(value.get("controller"), f"{what} controller")
    if not is_did(controller):
        raise _fail(f"{what} controller must be a DID")
    curve, key, multikey = _method_key(value, what)
    return VerificationMethod(id=vm_id, type=str(value["type"]), controller=controller, curve=curve,
                              raw_key=key, multikey=multikey)


def _check_context(value: Any) -> None:
    contexts = _list(value, "@context", MAX_CONTEXTS)
    if contexts[0] not in DID_CONTEXTS:
        raise _fail(f"@context must start with {DID_CONTEXTS[0]}")
    for ctx in contexts:
        _string(ctx, "@context entry", 256)


def _check_services(value: Any, did: str) -> None:
    services = _list(value, "service", MAX_SERVICES, allow_single=False)
    seen: set[str] = set()
    for i, svc in enumerate(services):
        what = f"service[{i}]"
        if not isinstance(svc, dict) or set(svc) != {"id", "type", "serviceEndpoint"}:
            raise _fail(f"{what} needs exactly id, type and serviceEndpoint")
        svc_id = _absolute_id(svc["id"], did, f"{what} id")
        if svc_id in seen:
            raise _fail(f"{what} id {svc_id} is not unique")
        seen.add(svc_id)
        for svc_type in _list(svc["type"], f"{what} type", 8):
            if not isinstance(svc_type, str) or not _TYPE_RE.match(svc_type):
                raise _fail(f"{what} type entries must match [A-Za-z0-9._:/#-]{{1,64}}")
        endpoint = svc["serviceEndpoint"]
        if isinstance(endpoint, str):
            _string(endpoint, f"{what} serviceEndpoint")
        elif len(canonicalize(endpoint)) > MAX_SERVICE_ENDPOINT_BYTES:
            raise _fail(f"{what} serviceEndpoint exceeds {MAX_SERVICE_ENDPOINT_BYTES} bytes")


def parse_document(value: Any, did: str) -> DidDocument:
    """Validate ``value`` as the DID document of ``did`` and return its parsed form."""
    if not isinstance(value, dict):
        raise _fail("must be a JSON object")
    unknown = set(value) - ALLOWED_PROPERTIES
    if unknown:
        raise _fail(f"property not allowed on the ledger: {sorted(unknown)[0]}")
    _check_context(value.get("@context"))
    if value.get("id") != did:
        raise _fail(f"id must be {did}")
    controllers = tuple(_list(value.get("controller", did), "controller", MAX_CONTROLLERS))
    if not all(is_did(c) for c in controllers) or len(set(controllers)) != len(controllers):
        raise _fail("controller must be distinct DIDs")
    if "alsoKnownAs" in value:
        for aka in _list(value["alsoKnownAs"], "alsoKnownAs", MAX_ALSO_KNOWN_AS, allow_single=False):
            _string(aka, "alsoKnownAs entry")
    methods: dict[str, VerificationMethod] = {}

    def add(method: VerificationMethod) -> None:
        if method.id in methods:
            raise _fail(f"verification method id {method.id} is not unique")
        if len(methods) >= MAX_METHODS:
            raise _fail(f"at most {MAX_METHODS} verification methods")
        methods[method.id] = method

    if "verificationMethod" in value:
        vms = _list(value["verificationMethod"], "verificationMethod", MAX_METHODS, allow_single=False)
        for i, vm in enumerate(vms):
            add(_method(vm, did, f"verificationMethod[{i}]"))
    relationships: dict[str, tuple[str, ...]] = {}
    for name in RELATIONSHIPS:
        if name not in value:
            continue
        refs: list[str] = []
        for i, entry in enumerate(_list(value[name], name, MAX_METHODS, allow_single=False)):
            if isinstance(entry, dict):
                method = _method(entry, did, f"{name}[{i}]")
                add(method)
                refs.append(method.id)
            else:
                refs.append(_absolute_id(entry, did, f"{name}[{i}]"))
        for ref in refs:
            if ref not in methods:
                raise _fail(f"{name} references {ref}, which this document does not define")
            curve = methods[ref].curve
            if (name == "keyAgreement") != (curve == "X25519"):
                raise _fail(f"{name} cannot use the {curve} key {ref}")
        relationships[name] = tuple(refs)
    if "service" in value:
        _check_services(value["service"], did)
    return DidDocument(json=value, id=did, controllers=controllers, methods=methods,
                       relationships=relationships)
