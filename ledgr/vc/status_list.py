"""W3C Bitstring Status List v1.0: the bitstring, its encoding, the list credential and the check.

- §2.2 / §3.3 encoding: the bitstring is GZIP-compressed (RFC 1952) and multibase base64url
  encoded (``u…``, no padding). Index 0 is the left-most (most significant) bit of the first byte.
  Compression here is deterministic for a given zlib (``mtime=0``, fixed level): the same bits
  always give the same ``encodedList`` on a node, so re-publishing an unchanged list is a no-op.
- §3.4 expansion is *bounded*: at most :data:`MAX_BITSTRING_BYTES` are ever inflated, so a
  "zip bomb" ``encodedList`` costs a few milliseconds, not memory.
- §3.2 validate: the list must hold at least 131,072 entries of ``statusSize`` bits
  (STATUS_LIST_LENGTH_ERROR), the index must lie inside it (RANGE_ERROR), the entry's purpose must
  be one of the list's purposes (STATUS_VERIFICATION_ERROR), and the list credential's proofs must
  verify. ledgr is stricter than §2.2 allows: the list credential must be issued by the issuer of
  the credential it speaks about, so nobody else can publish a list that "un-revokes" it. The spec's
  error name is kept in each error's ``spec_error`` field.

``StatusList2021Entry`` (the VC 1.1-era predecessor with the same bit layout) is checked the same way.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeGuard

from ledgr.crypto import multibase
from ledgr.errors import InvalidDocument, InvalidEncoding, LedgrError, TooLarge, VerificationFailed
from ledgr.vc.credential import CREDENTIALS_V2, VC_TYPE, as_list, is_url, types_of

MIN_ENTRIES = 131_072
MIN_BITSTRING_BYTES = MIN_ENTRIES // 8  # 16 KiB (§2.2)
MAX_BITSTRING_BYTES = 16 * 1024 * 1024
MAX_STATUS_SIZE_BITS = 8
MAX_INDEX_DIGITS = 12
# zlib's default level: 0.5 ms for a 16 KiB list with 1 % of bits set, where level 9 takes ~8 ms
# for ~13 % fewer bytes (bench/status_list.py). Updates re-encode the list, so speed wins.
COMPRESS_LEVEL = 6

ENTRY_TYPES = {
    "BitstringStatusListEntry": ("BitstringStatusListCredential", "BitstringStatusList"),
    "StatusList2021Entry": ("StatusList2021Credential", "StatusList2021"),
}
FAILING_PURPOSES = {"revocation": "revoked", "suspension": "suspended"}


class StatusList:
    """A bitstring of ``entries`` statuses of ``status_size`` bits each (§2.2, §3.3)."""

    __slots__ = ("bits", "status_size")

    def __init__(self, entries: int = MIN_ENTRIES, status_size: int = 1) -> None:
        _check_status_size(status_size)
        if entries < MIN_ENTRIES:
            raise InvalidDocument(f"a status list holds at least {MIN_ENTRIES} entries (§2.2)",
                                  spec_error="STATUS_LIST_LENGTH_ERROR")
        size_bytes = -(-entries * status_size // 8)
        if size_bytes > MAX_BITSTRING_BYTES:
            raise TooLarge(f"a status list is at most {MAX_BITSTRING_BYTES} bytes",
                           limit=MAX_BITSTRING_BYTES)
        self.status_size = status_size
        self.bits = bytearray(size_bytes)

    @classmethod
    def decode(cls, encoded_list: object, status_size: int = 1) -> StatusList:
        """Expand an ``encodedList`` (§3.4) and check its length (§3.2 step 9)."""
        _check_status_size(status_size)
        raw = expand_bitstring(encoded_list)
        if len(raw) * 8 // status_size < MIN_ENTRIES:
            raise VerificationFailed(
                f"status list holds {len(raw) * 8 // status_size} entries; at least {MIN_ENTRIES} "
                "are required", spec_error="STATUS_LIST_LENGTH_ERROR", reason="status-list-too-short")
        status_list = cls.__new__(cls)
        status_list.status_size = status_size
        status_list.bits = bytearray(raw)
        return status_list

    @property
    def entries(self) -> int:
        return len(self.bits) * 8 // self.status_size

    def get(self, index: int) -> int:
        """The status at ``index`` (§3.2 step 10): ``status_size`` bits starting at index × size."""
        start = self._start(index)
        value = 0
        for bit in range(start, start + self.status_size):
            value = (value << 1) | ((self.bits[bit >> 3] >> (7 - (bit & 7))) & 1)
        return value

    def set(self, index: int, value: int = 1) -> None:
        if not 0 <= value < (1 << self.status_size):
            raise InvalidDocument(f"status value {value} does not fit in {self.status_size} bits")
        start = self._start(index)
        for offset in range(self.status_size):
            bit = start + offset
            mask = 1 << (7 - (bit & 7))
            if (value >> (self.status_size - 1 - offset)) & 1:
                self.bits[bit >> 3] |= mask
            else:
                self.bits[bit >> 3] &= ~mask & 0xFF

    def encode(self) -> str:
        """The ``encodedList`` value (§3.3 step 3): multibase base64url of GZIP."""
        return multibase.encode_base64url(gzip.compress(bytes(self.bits), compresslevel=COMPRESS_LEVEL,
                                                        mtime=0))

    def _start(self, index: int) -> int:
        if not isinstance(index, int) or index < 0 or (index + 1) * self.status_size > len(self.bits) * 8:
            raise VerificationFailed(f"status list index {index} is outside the list of "
                                     f"{self.entries} entries", spec_error="RANGE_ERROR",
                                     reason="index-out-of-range")
        return index * self.status_size


def expand_bitstring(encoded_list: object) -> bytes:
    """Multibase-decode and gunzip (§3.4), inflating at most :data:`MAX_BITSTRING_BYTES`."""
    if not isinstance(encoded_list, str) or not encoded_list.startswith("u"):
        raise InvalidEncoding("encodedList must be a multibase base64url string (starting 'u')")
    compressed = multibase.decode(encoded_list)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(compressed, MAX_BITSTRING_BYTES + 1)
    except zlib.error as exc:
        raise InvalidEncoding(f"encodedList is not valid GZIP data: {exc}") from exc
    if len(raw) > MAX_BITSTRING_BYTES:
        raise TooLarge(f"encodedList inflates beyond {MAX_BITSTRING_BYTES} bytes",
                       limit=MAX_BITSTRING_BYTES)
    if not inflater.eof or inflater.unused_data:
        raise InvalidEncoding("encodedList is not exactly one complete GZIP stream")
    return raw


def build_status_list_credential(*, list_id: str, issuer: str, status_purpose: str,
                                 status_list: StatusList, valid_from: str | None = None,
                                 valid_until: str | None = None) -> dict[str, Any]:
    """An unsigned ``BitstringStatusListCredential`` (§2.2); the caller signs it with :func:`issue`.

    ``statusSize`` and the messages travel in each credential's status entry (§2.1), which is what
    §3.2 reads; the credentials v2 context defines no ``statusSize`` for the list itself, so it is
    not put there (JSON-LD safe mode would rightly refuse to sign an undefined term).
    """
    if not is_url(list_id) or not is_url(issuer):
        raise InvalidDocument("status list credential 'id' and 'issuer' must be URLs")
    subject: dict[str, Any] = {"id": f"{list_id}#list", "type": "BitstringStatusList",
                               "statusPurpose": status_purpose, "encodedList": status_list.encode()}
    credential: dict[str, Any] = {
        "@context": [CREDENTIALS_V2], "id": list_id,
        "type": [VC_TYPE, "BitstringStatusListCredential"], "issuer": issuer,
    }
    if valid_from is not None:
        credential["validFrom"] = valid_from
    if valid_until is not None:
        credential["validUntil"] = valid_until
    credential["credentialSubject"] = subject
    return credential


def build_status_entry(*, list_credential: str, index: int, status_purpose: str, status_size: int = 1,
                       status_messages: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A ``BitstringStatusListEntry`` (§2.1) to put in a credential's ``credentialStatus``."""
    entry: dict[str, Any] = {
        "id": f"{list_credential}#{index}", "type": "BitstringStatusListEntry",
        "statusPurpose": status_purpose, "statusListIndex": str(index),
        "statusListCredential": list_credential,
    }
    if status_size != 1:
        entry["statusSize"] = status_size
    if status_messages is not None:
        entry["statusMessage"] = status_messages
    parse_status_entry(entry)
    return entry


@dataclass(frozen=True, slots=True)
class StatusEntry:
    """A parsed ``credentialStatus`` entry of a supported type (§2.1)."""

    type: str
    purpose: str
    index: int
    list_credential: str
    status_size: int
    messages: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class StatusResult:
    """The §3.2 result: ``status`` value, ``valid`` (status is 0) and the message if any."""

    purpose: str
    index: int
    list_credential: str
    status: int
    valid: bool
    message: str | None


def is_supported_entry(entry: object) -> TypeGuard[dict[str, Any]]:
    return isinstance(entry, dict) and isinstance(entry.get("type"), str) and entry["type"] in ENTRY_TYPES


def parse_status_entry(entry: object) -> StatusEntry:
    """Validate a status list entry (§2.1); MALFORMED_VALUE_ERROR as :class:`InvalidDocument`."""
    if not is_supported_entry(entry):
        raise InvalidDocument(f"unsupported credentialStatus type; ledgr checks {sorted(ENTRY_TYPES)}",
                              spec_error="MALFORMED_VALUE_ERROR")
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise InvalidDocument("status entry 'statusPurpose' must be a string",
                              spec_error="MALFORMED_VALUE_ERROR")
    raw_index = entry.get("statusListIndex")
    if (not isinstance(raw_index, str) or not raw_index.isascii() or not raw_index.isdigit()
            or len(raw_index) > MAX_INDEX_DIGITS):
        raise InvalidDocument("status entry 'statusListIndex' must be a base-10 integer string "
                              f"of at most {MAX_INDEX_DIGITS} digits", spec_error="MALFORMED_VALUE_ERROR")
    list_credential = entry.get("statusListCredential")
    if not is_url(list_credential):
        raise InvalidDocument("status entry 'statusListCredential' must be a URL",
                              spec_error="MALFORMED_VALUE_ERROR")
    if entry.get("id") == list_credential:
        raise InvalidDocument("status entry 'id' must not be the status list URL (§2.1)",
                              spec_error="MALFORMED_VALUE_ERROR")
    status_size = entry.get("statusSize", 1)
    _check_status_size(status_size)
    messages = _parse_messages(entry.get("statusMessage"), status_size)
    return StatusEntry(str(entry["type"]), purpose, int(raw_index), str(list_credential), status_size,
                       messages)


VerifyListCredential = Callable[[dict[str, Any]], list[LedgrError]]


def check_status(entry: StatusEntry, *, credential_issuer: str, list_credential: dict[str, Any],
                 verify_list_credential: VerifyListCredential) -> StatusResult:
    """Run §3.2 steps 4-15 for ``entry`` against an already fetched ``list_credential``.

    ``verify_list_credential`` checks the list credential's proofs, validity period and issuer
    binding and returns the errors (empty when it verifies).
    """
    credential_type, subject_type = ENTRY_TYPES[entry.type]
    if not isinstance(list_credential, dict):
        raise VerificationFailed(f"status list {entry.list_credential} is not a JSON object",
                                 spec_error="STATUS_RETRIEVAL_ERROR", reason="status-list-unusable")
    if "id" in list_credential and list_credential["id"] != entry.list_credential:
        raise VerificationFailed(
            f"the status list served for {entry.list_credential} has id {list_credential['id']!r}",
            spec_error="STATUS_VERIFICATION_ERROR", reason="status-list-mismatch")
    if credential_type not in types_of(list_credential, "status list credential"):
        raise VerificationFailed(f"{entry.list_credential} is not a {credential_type}",
                                 spec_error="STATUS_VERIFICATION_ERROR", reason="status-list-mismatch")
    errors = verify_list_credential(list_credential)
    if errors:
        raise VerificationFailed(
            f"status list credential {entry.list_credential} does not verify: "
            + "; ".join(error.detail for error in errors),
            spec_error="STATUS_VERIFICATION_ERROR", reason="status-list-unverified")
    list_issuer = list_credential.get("issuer")
    list_issuer = list_issuer.get("id") if isinstance(list_issuer, dict) else list_issuer
    if list_issuer != credential_issuer:
        raise VerificationFailed(
            f"status list {entry.list_credential} is issued by {list_issuer!r}, not by the "
            f"credential's issuer {credential_issuer!r}", spec_error="STATUS_VERIFICATION_ERROR",
            reason="status-list-issuer-mismatch")
    subject = list_credential.get("credentialSubject")
    if not isinstance(subject, dict) or subject.get("type") != subject_type:
        raise VerificationFailed(f"status list credential subject must be a {subject_type}",
                                 spec_error="MALFORMED_VALUE_ERROR", reason="status-list-unusable")
    purposes = as_list(subject.get("statusPurpose"))
    if entry.purpose not in purposes:
        raise VerificationFailed(
            f"status entry purpose {entry.purpose!r} is not a purpose of the list {purposes!r}",
            spec_error="STATUS_VERIFICATION_ERROR", reason="status-purpose-mismatch")
    status_list = StatusList.decode(subject.get("encodedList"), entry.status_size)
    status = status_list.get(entry.index)
    message = dict(entry.messages).get(status) if entry.messages else None
    if message is None and entry.status_size == 1:
        message = "set" if status else "unset"
    return StatusResult(entry.purpose, entry.index, entry.list_credential, status, status == 0, message)


def _check_status_size(status_size: object) -> None:
    if (not isinstance(status_size, int) or isinstance(status_size, bool)
            or not 1 <= status_size <= MAX_STATUS_SIZE_BITS):
        raise InvalidDocument(f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE_BITS}",
                              spec_error="MALFORMED_VALUE_ERROR")


def _parse_messages(value: object, status_size: int) -> tuple[tuple[int, str], ...]:
    """``statusMessage`` (§2.1): exactly 2^statusSize ``{status: "0x…", message}`` objects."""
    if value is None:
        if status_size > 1:
            raise InvalidDocument("a status entry with statusSize > 1 needs 'statusMessage' (§2.1)",
                                  spec_error="MALFORMED_VALUE_ERROR")
        return ()
    if not isinstance(value, list) or len(value) != 1 << status_size:
        raise InvalidDocument(f"'statusMessage' must list {1 << status_size} messages for statusSize "
                              f"{status_size}", spec_error="MALFORMED_VALUE_ERROR")
    parsed: list[tuple[int, str]] = []
    for item in value:
        if not isinstance(item, dict):
            raise InvalidDocument("each 'statusMessage' entry must be an object",
                                  spec_error="MALFORMED_VALUE_ERROR")
        status, message = item.get("status"), item.get("message")
        if not (isinstance(status, str) and status[:2] == "0x" and isinstance(message, str)):
            raise InvalidDocument("each 'statusMessage' needs a '0x…' 'status' and a 'message'",
                                  spec_error="MALFORMED_VALUE_ERROR")
        try:
            parsed.append((int(status[2:], 16), message))
        except ValueError as exc:
            raise InvalidDocument(f"statusMessage status {status!r} is not hexadecimal",
                                  spec_error="MALFORMED_VALUE_ERROR") from exc
    return tuple(parsed)
