"""State values: RFC 8785 JSON records, so every machine writes the same bytes for the same state.

Also :class:`LedgerDidReader`, the ledger's implementation of the resolver's
:class:`ledgr.did.records.DidRecordReader` over any :class:`~ledgr.ledger.state.StateReader`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from ledgr.crypto import canonicalize
from ledgr.did.records import CompromisedKey, DidHead, DidResource, DidVersion
from ledgr.errors import InvariantViolation
from ledgr.ledger.state import StateReader, did_head_key, did_version_key, resource_key
from ledgr.ledger.validators import ValidatorSet


def encode(value: dict[str, Any]) -> bytes:
    return canonicalize(value)


def decode(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise InvariantViolation("a state record is not a JSON object")
    return value


def _text(value: str) -> str:
    """A JSON string as RFC 8785 writes it (same escapes as json.dumps without ASCII escaping)."""
    return json.dumps(value, ensure_ascii=False)


def encode_head(head: DidHead) -> bytes:
    """RFC 8785 bytes of a DID head record, written directly (members in code-point order).

    Equal to ``encode(head_to_json(head))`` (a test checks this); it avoids a generic canonicalization
    on the hot path of every DID operation.
    """
    compromised = ",".join(f'{{"public_key_multibase":{_text(c.public_key_multibase)},'
                           f'"since_ms":{int(c.since_ms)}}}' for c in head.compromised)
    return (f'{{"compromised":[{compromised}],"created_ms":{int(head.created_ms)},'
            f'"deactivated":{"true" if head.deactivated else "false"},"seq":{int(head.seq)},'
            f'"updated_ms":{int(head.updated_ms)},"version_hash":{_text(head.version_hash)}}}'
            ).encode()


def encode_version(seq: int, version_hash: str, time_ms: int, deactivated: bool,
                   document_jcs: bytes) -> bytes:
    """RFC 8785 bytes of a version record around a document already in RFC 8785 form."""
    return (f'{{"deactivated":{"true" if deactivated else "false"},"document":'.encode("ascii")
            + document_jcs
            + f',"seq":{int(seq)},"time_ms":{int(time_ms)},"version_hash":{_text(version_hash)}}}'
            .encode())


def head_to_json(head: DidHead) -> dict[str, Any]:
    return {
        "seq": head.seq, "version_hash": head.version_hash, "created_ms": head.created_ms,
        "updated_ms": head.updated_ms, "deactivated": head.deactivated,
        "compromised": [{"public_key_multibase": c.public_key_multibase, "since_ms": c.since_ms}
                        for c in head.compromised],
    }


def head_from_json(did: str, value: dict[str, Any]) -> DidHead:
    return DidHead(
        did=did, seq=value["seq"], version_hash=value["version_hash"], created_ms=value["created_ms"],
        updated_ms=value["updated_ms"], deactivated=value["deactivated"],
        compromised=tuple(CompromisedKey(c["public_key_multibase"], c["since_ms"])
                          for c in value["compromised"]),
    )


def version_to_json(version: DidVersion) -> dict[str, Any]:
    return {"seq": version.seq, "version_hash": version.version_hash, "time_ms": version.time_ms,
            "document": version.document, "deactivated": version.deactivated}


def version_from_json(value: dict[str, Any]) -> DidVersion:
    return DidVersion(seq=value["seq"], version_hash=value["version_hash"], time_ms=value["time_ms"],
                      document=value["document"], deactivated=value["deactivated"])


def resource_to_json(resource: DidResource) -> dict[str, Any]:
    return {"did": resource.did, "id": resource.resource_id, "name": resource.name,
            "media_type": resource.media_type, "content": resource.content,
            "created_ms": resource.created_ms, "digest": resource.digest,
            "version_hash": resource.version_hash}


def resource_from_json(value: dict[str, Any]) -> DidResource:
    return DidResource(did=value["did"], resource_id=value["id"], name=value["name"],
                       media_type=value["media_type"], content=value["content"],
                       created_ms=value["created_ms"], digest=value["digest"],
                       version_hash=value["version_hash"])


@dataclass(frozen=True, slots=True)
class StatusListRecord:
    """A status list as stored: owner, purpose, size and the issuer-signed credential itself."""

    list_id: str
    issuer: str
    purpose: str
    size_bits: int
    credential: dict[str, Any]
    version_hash: str
    created_ms: int
    updated_ms: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.list_id, "issuer": self.issuer, "purpose": self.purpose,
                "size_bits": self.size_bits, "credential": self.credential,
                "version_hash": self.version_hash, "created_ms": self.created_ms,
                "updated_ms": self.updated_ms}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> StatusListRecord:
        return cls(list_id=value["id"], issuer=value["issuer"], purpose=value["purpose"],
                   size_bits=value["size_bits"], credential=value["credential"],
                   version_hash=value["version_hash"], created_ms=value["created_ms"],
                   updated_ms=value["updated_ms"])


@dataclass(frozen=True, slots=True)
class ValidatorRecord:
    """The validator set in force plus at most one pending change (activates at ``activates_at``)."""

    active: ValidatorSet
    pending: ValidatorSet | None
    activates_at: int | None
    version_hash: str

    def set_for_height(self, height: int) -> ValidatorSet:
        """The set that signs block ``height`` (a change committed at H signs from H+2)."""
        if self.pending is not None and self.activates_at is not None and height >= self.activates_at:
            return self.pending
        return self.active

    def to_json(self) -> dict[str, Any]:
        return {"active": self.active.to_json(),
                "pending": None if self.pending is None else self.pending.to_json(),
                "activates_at": self.activates_at, "version_hash": self.version_hash}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ValidatorRecord:
        pending = value["pending"]
        return cls(active=ValidatorSet.from_json(value["active"]),
                   pending=None if pending is None else ValidatorSet.from_json(pending),
                   activates_at=value["activates_at"], version_hash=value["version_hash"])


@dataclass(frozen=True, slots=True)
class ChainRecord:
    chain_id: str
    genesis_hash: str
    params: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "genesis_hash": self.genesis_hash, "params": self.params}

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ChainRecord:
        return cls(chain_id=value["chain_id"], genesis_hash=value["genesis_hash"], params=value["params"])


class LedgerDidReader:
    """:class:`ledgr.did.records.DidRecordReader` over committed ledger state."""

    def __init__(self, reader: StateReader) -> None:
        self.reader = reader

    def did_head(self, did: str) -> DidHead | None:
        raw = self.reader.get(did_head_key(did))
        return None if raw is None else head_from_json(did, decode(raw))

    def did_version(self, did: str, seq: int) -> DidVersion | None:
        if not 1 <= seq < 2**32:
            return None
        raw = self.reader.get(did_version_key(did, seq))
        return None if raw is None else version_from_json(decode(raw))

    def did_resource(self, did: str, resource_id: str) -> DidResource | None:
        try:
            key = resource_key(did, resource_id)
        except UnicodeEncodeError:
            return None
        raw = self.reader.get(key)
        return None if raw is None else resource_from_json(decode(raw))


@functools.lru_cache(maxsize=16)
def parse_validator_record(raw: bytes) -> ValidatorRecord:
    """The validator record stored as ``raw``. Memoized by content: the record changes rarely, but is
    read on every height and every executed block, and parsing it decodes every key's multibase."""
    return ValidatorRecord.from_json(decode(raw))


@functools.lru_cache(maxsize=16)
def parse_chain_record(raw: bytes) -> ChainRecord:
    """The chain record stored as ``raw``, memoized by content (read for every entry check). The
    shared instance's ``params`` must be treated as read-only."""
    return ChainRecord.from_json(decode(raw))
