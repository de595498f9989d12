"""``statuslist.create``/``statuslist.update`` and ``resource.create`` (architecture.md §3).

Status lists are owned by the issuer DID (``did:ledgr`` or ``did:key``) named in the credential and
can only be changed by that issuer's ``assertionMethod`` keys; the owner, purpose and size never
change. Resources are immutable, public, JSON content linked to a ``did:ledgr`` by its controller.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ledgr.crypto import sha256
from ledgr.did.ledgr_method import is_ledgr_did
from ledgr.did.records import DidResource
from ledgr.ledger import limits
from ledgr.ledger.authorize import authorize_controller, authorize_issuer, load_live_did
from ledgr.ledger.context import ExecContext, reject, require_members, sized_json
from ledgr.ledger.operations import Operation
from ledgr.ledger.records import StatusListRecord, decode, encode, resource_to_json
from ledgr.ledger.state import Overlay, resource_key, status_list_key
from ledgr.ledger.status_credential import check_status_list_credential, credential_issuer

RESOURCE_PATH = "/resources/"
RESOURCE_MEDIA_TYPES = ("application/json", "application/schema+json", "application/ld+json")
_RESOURCE_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_MAX_RESOURCE_NAME_CHARS = 128


def _list_record(state: Overlay, list_id: str) -> StatusListRecord | None:
    raw = state.get(status_list_key(list_id))
    return None if raw is None else StatusListRecord.from_json(decode(raw))


def _check_list_op(state: Overlay, op: Operation, time_ms: int) -> StatusListRecord:
    """Checks shared by create and update; the record to write (times filled in by the caller)."""
    require_members(op.body, {"credential"})
    credential = op.body["credential"]
    sized_json(credential, limits.MAX_STATUS_CREDENTIAL_BYTES, "status list credential")
    if not isinstance(credential, dict) or credential.get("id") != op.target:
        raise reject("target must be the status list credential's id", "invalid-target")
    issuer = load_live_did(state, credential_issuer(credential), "issuer")
    authorize_issuer(op, issuer)
    facts = check_status_list_credential(credential, issuer, time_ms)
    record = StatusListRecord(list_id=facts.list_id, issuer=facts.issuer, purpose=facts.purpose,
                              size_bits=facts.size_bits, credential=credential,
                              version_hash=op.hash.hex(), created_ms=0, updated_ms=0)
    return record


def apply_statuslist_create(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    if op.prev is not None:
        raise reject("statuslist.create must have prev null", "prev-mismatch")
    if _list_record(state, op.target) is not None:
        raise reject(f"status list {op.target} already exists", "status-list-exists")
    record = _check_list_op(state, op, ctx.time_ms)
    record = replace(record, created_ms=ctx.time_ms, updated_ms=ctx.time_ms)
    state.put(status_list_key(op.target), encode(record.to_json()))


def apply_statuslist_update(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    current = _list_record(state, op.target)
    if current is None:
        raise reject(f"status list {op.target} does not exist", "status-list-not-found")
    if op.prev is None or op.prev.hex() != current.version_hash:
        raise reject("prev does not match the status list's current version (stale or replayed)",
                     "prev-mismatch")
    credential = op.body.get("credential")
    if isinstance(credential, dict) and credential_issuer(credential) != current.issuer:
        raise reject(f"status list {op.target} is owned by {current.issuer}", "unauthorized-key")
    record = _check_list_op(state, op, ctx.time_ms)
    if (record.issuer, record.purpose, record.size_bits) != (current.issuer, current.purpose,
                                                             current.size_bits):
        raise reject("a status list keeps its issuer, purpose and size", "status-list-immutable-field")
    record = replace(record, created_ms=current.created_ms, updated_ms=ctx.time_ms)
    state.put(status_list_key(op.target), encode(record.to_json()))


def parse_resource_target(target: str) -> tuple[str, str]:
    """Split ``did:ledgr:…/resources/{id}`` into the DID and the resource id."""
    did, sep, resource_id = target.partition(RESOURCE_PATH)
    if not sep or not is_ledgr_did(did) or not _RESOURCE_ID_RE.match(resource_id):
        raise reject("target must be did:ledgr:<id>/resources/<[A-Za-z0-9._-]{1,64}>", "invalid-target")
    return did, resource_id


def apply_resource_create(state: Overlay, op: Operation, ctx: ExecContext) -> None:
    did, resource_id = parse_resource_target(op.target)
    require_members(op.body, {"name", "mediaType", "content"})
    name, media_type = op.body["name"], op.body["mediaType"]
    if not isinstance(name, str) or not 0 < len(name) <= _MAX_RESOURCE_NAME_CHARS:
        raise reject(f"resource name must be 1-{_MAX_RESOURCE_NAME_CHARS} characters", "size-limit")
    if media_type not in RESOURCE_MEDIA_TYPES:
        raise reject(f"resource mediaType must be one of {RESOURCE_MEDIA_TYPES}", "malformed")
    content = sized_json(op.body["content"], limits.MAX_RESOURCE_CONTENT_BYTES, "resource content")
    if op.prev is not None:
        raise reject("resource.create must have prev null (resources are immutable)", "prev-mismatch")
    if state.get(resource_key(did, resource_id)) is not None:
        raise reject(f"resource {op.target} already exists", "resource-exists")
    subject = load_live_did(state, did, "DID")
    authorize_controller(state, op, subject)
    resource = DidResource(did=did, resource_id=resource_id, name=name, media_type=str(media_type),
                           content=op.body["content"], created_ms=ctx.time_ms,
                           digest=sha256(content).hex(), version_hash=op.hash.hex())
    state.put(resource_key(did, resource_id), encode(resource_to_json(resource)))
