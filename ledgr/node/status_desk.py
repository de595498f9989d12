"""Status lists of the node's issuers (Bitstring Status List v1.0): create, allocate, revoke, suspend.

Lists live on the ledger under their URL, ``{public_base_url}/v1/status-lists/{slug}`` with
``slug = <issuer's method-specific id>-<purpose>-<n>``, so every node finds an issuer's lists in its
own state (no registry to keep in sync) and serves them, and a verifier on any node reads them from
its own ledger, never by fetching.

Indexes are drawn uniformly at random from the unused ones (§6.1 privacy; ``ledgr.ledger.status_index``).
The node that holds an issuer's key remembers the indexes it handed out in
``DATA_DIR/status-allocations/<H(list)>.idx`` (4-byte big-endian indexes, appended and flushed
before the credential is returned), so two credentials never share a bit. A list more than half
allocated is closed and the next one created (``statuslist.create``, waited for).

A change (revoke, suspend, unsuspend) re-signs the list credential with the issuer's key and submits
``statuslist.update`` with ``prev`` = the list's current version; changes of one list are serialized.
"""

from __future__ import annotations

import secrets
import struct
from pathlib import Path
from typing import Any

from ledgr.crypto import sha256
from ledgr.errors import InvalidInput, NotFound, Unprocessable
from ledgr.ledger.queries import read_status_list
from ledgr.ledger.records import StatusListRecord
from ledgr.ledger.status_index import allocate_index
from ledgr.node.issuing import IssuerService, now_iso
from ledgr.vc.status_list import (
    MIN_ENTRIES,
    StatusList,
    build_status_entry,
    build_status_list_credential,
    parse_status_entry,
)

PURPOSES = ("revocation", "suspension")
LIST_SUITE = "eddsa-rdfc-2022"
MAX_LISTS_PER_PURPOSE = 10_000
ACTIONS = {"revoke": ("revocation", 1), "suspend": ("suspension", 1), "unsuspend": ("suspension", 0)}


class StatusDesk:
    def __init__(self, service: IssuerService) -> None:
        self.service = service
        self.node = service.node
        self.alloc_dir = self.node.config.data_dir / "status-allocations"
        self._taken: dict[str, set[int]] = {}

    # ---- names and reads -------------------------------------------------------------------------

    def list_url(self, slug: str) -> str:
        return f"{self.service.public_base}/v1/status-lists/{slug}"

    def slug(self, issuer: str, purpose: str, number: int) -> str:
        return f"{issuer.rsplit(':', 1)[-1]}-{purpose}-{number}"

    def read(self, list_id: str) -> StatusListRecord | None:
        return read_status_list(self.node.chain.store, list_id)

    def lists_of(self, issuer: str, purpose: str) -> list[str]:
        """The issuer's list URLs of ``purpose``, oldest first, as committed on this node's ledger."""
        found = []
        for number in range(1, MAX_LISTS_PER_PURPOSE + 1):
            url = self.list_url(self.slug(issuer, purpose, number))
            if self.read(url) is None:
                break
            found.append(url)
        return found

    # ---- create ----------------------------------------------------------------------------------

    async def create(self, issuer: str, purpose: str, length: int = MIN_ENTRIES) -> tuple[str, str]:
        """A new list for ``issuer``: (its URL, the operation hash), committed."""
        if purpose not in PURPOSES:
            raise InvalidInput(f"statusPurpose must be one of {', '.join(PURPOSES)}")
        if not isinstance(length, int) or not MIN_ENTRIES <= length <= 16 * 1024 * 1024 or length % 8:
            raise InvalidInput(f"length must be a multiple of 8 between {MIN_ENTRIES} and 16777216")
        async with self.service.lock(f"lists {issuer} {purpose}"):
            return await self._create_locked(issuer, purpose, length)

    async def _create_locked(self, issuer: str, purpose: str, length: int) -> tuple[str, str]:
        key = self.service.issuer(issuer).active_key
        url = self.list_url(self.slug(issuer, purpose, len(self.lists_of(issuer, purpose)) + 1))
        credential = build_status_list_credential(list_id=url, issuer=issuer, status_purpose=purpose,
                                                  status_list=StatusList(length), valid_from=now_iso())
        signed = await self.service.sign_credential(issuer, credential, LIST_SUITE)
        receipt = await self.service.submit("statuslist.create", url, {"credential": signed}, None, key.id)
        self.service.audit("status-list.created", issuer=issuer, statusList=url, statusPurpose=purpose,
                           operationHash=receipt["hash"])
        return url, str(receipt["hash"])

    # ---- allocate --------------------------------------------------------------------------------

    async def new_entry(self, issuer: str, purpose: str, list_id: str | None = None) -> dict[str, Any]:
        """A ``BitstringStatusListEntry`` at a fresh random index of the issuer's current list (a new
        list is created when there is none or the current one is half allocated)."""
        if purpose not in PURPOSES:
            raise InvalidInput(f"statusPurpose must be one of {', '.join(PURPOSES)}")
        async with self.service.lock(f"lists {issuer} {purpose}"):
            if list_id is not None:
                record = self.read(list_id)
                if record is None or record.issuer != issuer or record.purpose != purpose:
                    raise NotFound(f"{issuer} has no {purpose} status list {list_id}")
            else:
                lists = self.lists_of(issuer, purpose)
                record = self.read(lists[-1]) if lists else None
                if record is None or self._full(record):
                    url, _hash = await self._create_locked(issuer, purpose, MIN_ENTRIES)
                    record = self.read(url)
                if record is None:
                    raise NotFound("the new status list is not visible yet; retry")
            index = self._allocate(record)
        return build_status_entry(list_credential=record.list_id, index=index, status_purpose=purpose)

    def _full(self, record: StatusListRecord) -> bool:
        return len(self._taken_of(record.list_id)) * 2 >= record.size_bits

    def _file(self, list_id: str) -> Path:
        return self.alloc_dir / f"{sha256(list_id.encode()).hex()[:32]}.idx"

    def _taken_of(self, list_id: str) -> set[int]:
        taken = self._taken.get(list_id)
        if taken is None:
            path = self._file(list_id)
            data = path.read_bytes() if path.exists() else b""
            taken = {value for (value,) in struct.iter_unpack(">I", data[:len(data) // 4 * 4])}
            self._taken[list_id] = taken
        return taken

    def _allocate(self, record: StatusListRecord) -> int:
        taken = self._taken_of(record.list_id)
        index = allocate_index(record.size_bits, taken.__contains__, secrets.randbelow)
        self.alloc_dir.mkdir(parents=True, exist_ok=True)
        with open(self._file(record.list_id), "ab") as out:
            out.write(struct.pack(">I", index))
            out.flush()
        taken.add(index)
        return index

    # ---- change ----------------------------------------------------------------------------------

    def owner(self, entry: Any) -> tuple[str, StatusListRecord]:
        """The issuer owning the list of a status entry, and the list (404 when not on the ledger)."""
        parsed = parse_status_entry(entry)
        record = self.read(parsed.list_credential)
        if record is None:
            raise NotFound(f"status list {parsed.list_credential} is not on this ledger")
        return record.issuer, record

    async def change(self, entry: Any, action: str) -> dict[str, Any]:
        if action not in ACTIONS:
            raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")
        parsed = parse_status_entry(entry)
        purpose, value = ACTIONS[action]
        if parsed.purpose != purpose:
            raise Unprocessable(f"{action} applies to {purpose} entries, this one is {parsed.purpose}")
        async with self.service.lock(f"list {parsed.list_credential}"):
            issuer, record = self.owner(entry)
            if record.purpose != purpose:
                raise Unprocessable(f"{parsed.list_credential} is a {record.purpose} list")
            subject = record.credential.get("credentialSubject", {})
            bits = StatusList.decode(subject.get("encodedList"))
            if not 0 <= parsed.index < bits.entries:
                raise Unprocessable(f"statusListIndex {parsed.index} is outside the list "
                                    f"(0-{bits.entries - 1})")
            answer = {"statusListCredential": record.list_id, "statusListIndex": str(parsed.index),
                      "statusPurpose": purpose, "set": bool(value)}
            if bits.get(parsed.index) == value:
                return {**answer, "operationHash": record.version_hash}
            bits.set(parsed.index, value)
            credential = build_status_list_credential(list_id=record.list_id, issuer=issuer,
                                                      status_purpose=purpose, status_list=bits,
                                                      valid_from=now_iso())
            signed = await self.service.sign_credential(issuer, credential, LIST_SUITE)
            key = self.service.issuer(issuer).active_key
            receipt = await self.service.submit("statuslist.update", record.list_id, {"credential": signed},
                                                bytes.fromhex(record.version_hash), key.id)
        self.service.audit("credential.status-changed", issuer=issuer, statusList=record.list_id,
                           statusListIndex=str(parsed.index), status=action, operationHash=receipt["hash"])
        return {**answer, "operationHash": receipt["hash"]}
