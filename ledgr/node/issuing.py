"""The node's issuer service: keystore, signing through the worker pool, ledger writes by issuer keys.

Signing (docs/api.md "Signing and the worker pool"): a worker process validates and canonicalizes the
credential and returns the suite's hash data; the node signs that hash here with the keystore
(:meth:`Keystore.sign_with`), so private keys never leave this process and are never pickled.

Ledger writes made for an issuer (status lists, registrar DID operations) are signed the same way:
:meth:`IssuerService.submit` builds the RFC 8785 payload, signs it with the named keystore key, submits
it through the node's own entry check and waits (bounded by ``api.max_wait_s``) for its commit.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledgr.crypto import PublicKey, sealed
from ledgr.did.ledgr_method import PLACEHOLDER_DID, derive_did, substitute
from ledgr.errors import ConfigError, InvalidInput, NotFound, Unavailable, Unprocessable
from ledgr.ledger.operations import SIGNATURE_DOMAIN, build_payload, encode_envelope
from ledgr.node.keystore import (
    IssuerInfo,
    Keystore,
    read_file_bounded,
    secret_from_passphrase,
)
from ledgr.node.vc_pool import VcPool
from ledgr.vc.proofs import PreparedProof, finish_proof

if TYPE_CHECKING:
    from ledgr.node.runtime import Node

KEYSTORE_SUBDIR = "keystore"
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
VALIDITY_HEIGHTS = 1000
SUITES = ("eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020")
# Who the current request acts as (``token:<id>``), set by the API handler; read by the audit sink.
ACTOR: contextvars.ContextVar[str] = contextvars.ContextVar("ledgr_actor", default="node")
AuditSink = Callable[[str, str, dict[str, Any]], None]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ledgr_template(public_key: PublicKey) -> dict[str, Any]:
    """The default placeholder document of a did:ledgr issuer: its key (fragment = its Multikey, the id
    the keystore gives it) under authentication, assertionMethod and capabilityInvocation."""
    vm = f"{PLACEHOLDER_DID}#{public_key.multikey}"
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": PLACEHOLDER_DID,
        "verificationMethod": [{"id": vm, "type": "Multikey", "controller": PLACEHOLDER_DID,
                                "publicKeyMultibase": public_key.multikey}],
        "authentication": [vm], "assertionMethod": [vm], "capabilityInvocation": [vm],
    }


def ledgr_did_for_key(public_key: PublicKey) -> str:
    return derive_did(ledgr_template(public_key))


def keystore_secret(passphrase_file: str, passphrase_env: str, base_dir: Path | None) -> bytes | None:
    """The keystore secret from the configured file, else the configured environment variable."""
    if passphrase_file:
        path = Path(passphrase_file)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            text = read_file_bounded(path, sealed.MAX_SECRET_BYTES).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the keystore passphrase file {path}") from exc
        return secret_from_passphrase(text.rstrip("\r\n"))
    value = os.environ.get(passphrase_env) if passphrase_env else None
    return None if value is None else secret_from_passphrase(value)


class IssuerService:
    def __init__(self, node: Node, pool: VcPool, secret: bytes | None) -> None:
        self.node = node
        self.pool = pool
        self.keystore_dir = node.config.data_dir / KEYSTORE_SUBDIR
        self._secret = secret
        self._keystore: Keystore | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self.audit_sink: AuditSink | None = None
        api = node.config.api
        self.public_base = (api.public_base_url or f"http://{api.host}:{api.port}").rstrip("/")

    def audit(self, event: str, **fields: Any) -> None:
        """Record ``event`` in the audit log (who: the request's actor; no contents, no secrets)."""
        if self.audit_sink is not None:
            self.audit_sink(event, ACTOR.get(), fields)

    # ---- keystore --------------------------------------------------------------------------------

    def open_keystore(self) -> None:
        """Unlock the keystore at start-up when it exists and a secret is configured."""
        if self._secret is not None and Keystore.exists(self.keystore_dir):
            self._keystore = Keystore.open(self.keystore_dir, self._secret)

    def keystore(self, *, create: bool = False) -> Keystore:
        if self._keystore is None:
            if self._secret is None:
                raise NotFound("this node holds no issuer keys (no keystore passphrase is configured)")
            if not Keystore.exists(self.keystore_dir):
                if not create:
                    raise NotFound("this node holds no issuer keys yet")
                Keystore.create(self.keystore_dir, self._secret)
            self._keystore = Keystore.open(self.keystore_dir, self._secret)
        else:
            self._keystore.reload_if_changed()
        return self._keystore

    def issuers(self) -> list[IssuerInfo]:
        if self._keystore is None and (self._secret is None or not Keystore.exists(self.keystore_dir)):
            return []
        return self.keystore().issuers()

    def issuer(self, did: str) -> IssuerInfo:
        return self.keystore().issuer(did)

    def lock(self, name: str) -> asyncio.Lock:
        if len(self._locks) > 10_000:
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        return self._locks.setdefault(name, asyncio.Lock())

    # ---- signing ---------------------------------------------------------------------------------

    async def sign_credential(self, issuer: str, credential: dict[str, Any], suite: str,
                              created: str | None = None) -> dict[str, Any]:
        """``credential`` signed as ``issuer`` with its active keystore key (canonicalized in a worker)."""
        if suite not in SUITES:
            raise InvalidInput(f"unsupported cryptosuite {suite!r}; use one of {', '.join(SUITES)}")
        key = self.issuer(issuer).active_key
        prepared: PreparedProof = await self.pool.run("issue", {
            "credential": credential, "key": key.public_key_multibase, "suite": suite, "method": key.id,
            "created": created or now_iso()})
        return finish_proof(prepared, self.keystore().sign_with(key.id, prepared.hash_data))

    async def verify(self, document: Any, *, challenge: str | None = None, domain: str | None = None,
                     checks: list[str] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.pool.run("verify", {
            "document": document, "now": datetime.now(UTC).isoformat(), "challenge": challenge,
            "domain": domain, "checks": checks})
        return result

    # ---- ledger writes ---------------------------------------------------------------------------

    async def submit(self, op_type: str, target: str, body: dict[str, Any], prev: bytes | None,
                     method: str, *, retired_ok: bool = False) -> dict[str, Any]:
        """Sign an operation with keystore key ``method``, submit it here and wait for its commit."""
        chain = self.node.chain
        payload = build_payload(op_type, target, body, prev, chain.chain_id, chain.height + VALIDITY_HEIGHTS)
        signature = self.keystore().sign_with(method, SIGNATURE_DOMAIN + payload, retired_ok=retired_ok)
        op_hash, _new = await self.node.desk.submit(encode_envelope(payload, method, signature))
        receipt = await self.node.desk.wait_status(bytes.fromhex(op_hash), self.node.config.api.max_wait_s)
        if receipt["status"] == "rejected":
            raise Unprocessable(f"the ledger rejected the {op_type} operation: {receipt.get('reason')}",
                                operationHash=op_hash)
        if receipt["status"] != "committed":
            raise Unavailable(f"the {op_type} operation was not committed in time; poll "
                              f"/v1/operations/{op_hash}", operationHash=op_hash)
        receipt["hash"] = op_hash
        return receipt

    # ---- registrar -------------------------------------------------------------------------------

    def create_template(self, method: str) -> tuple[str, dict[str, Any]]:
        """For a did:ledgr issuer key ``method`` of the keystore: its DID and placeholder document."""
        keystore = self.keystore()
        public_key = keystore.public_key(method)
        template = ledgr_template(public_key)
        did = derive_did(template)
        try:
            info = keystore.issuer(did)
        except NotFound as exc:
            raise Unprocessable(f"{method} is not the key of a did:ledgr issuer in this keystore; create one "
                                "with 'ledgr issuer create --ledgr'") from exc
        if info.active_key.id != method:
            raise Unprocessable(f"{method} is not the active key of {did}")
        return did, template

    def document_for(self, did: str, template: dict[str, Any]) -> dict[str, Any]:
        document: dict[str, Any] = substitute(template, did)
        return document
