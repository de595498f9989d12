"""What the resolver reads about a ``did:ledgr``: records and the reader Protocol the ledger implements.

``did`` sits below ``ledger`` in the layer order, so the resolver cannot import the ledger's state.
Instead it declares this small Protocol; ``ledgr.ledger.did_reader.LedgerDidReader`` implements it over
any committed-state reader (LMDB store or in-memory state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CompromisedKey:
    """A key the DID's controller declared compromised: no proof by it verifies, whatever its date."""

    public_key_multibase: str
    since_ms: int


@dataclass(frozen=True, slots=True)
class DidHead:
    """Current state of a DID: latest version number and hash, times, status, compromised keys."""

    did: str
    seq: int
    version_hash: str
    created_ms: int
    updated_ms: int
    deactivated: bool
    compromised: tuple[CompromisedKey, ...]


@dataclass(frozen=True, slots=True)
class DidVersion:
    """One version of a DID document (``versionId`` = ``str(seq)``, ``versionTime`` = ``time_ms``)."""

    seq: int
    version_hash: str
    time_ms: int
    document: dict[str, Any]
    deactivated: bool


@dataclass(frozen=True, slots=True)
class DidResource:
    """A DID-linked resource (``did:ledgr:…/resources/{id}``): public content such as a JSON Schema."""

    did: str
    resource_id: str
    name: str
    media_type: str
    content: Any
    created_ms: int
    digest: str
    version_hash: str


class DidRecordReader(Protocol):
    """Read access to committed DID records (implemented by the ledger over its state)."""

    def did_head(self, did: str) -> DidHead | None: ...

    def did_version(self, did: str, seq: int) -> DidVersion | None: ...

    def did_resource(self, did: str, resource_id: str) -> DidResource | None: ...
