"""Header, block and quorum-certificate formats: wire bytes, hashes and signing bytes (version 1).

This is the ONE module that defines what is hashed and what is signed at block level
(``docs/formats.md`` documents every byte). Integers are big-endian; text is ASCII with a u8 length.
Every hash and signature input starts with a NUL-terminated domain tag, so a signature or hash made
for one purpose can never be replayed as another.

* Header (consensus.md §1.3 "Execution and the block"): ``u8 version ‖ short chain_id ‖ u64 height ‖
  u64 time_ms ‖ prev_hash ‖ tx_root ‖ app_root ‖ validators_hash ‖ next_validators_hash ‖ proposer``
  (32 bytes each). ``hash = sha256("ledgr/header/v1\\0" ‖ header bytes)``; a block's hash is its
  header's hash.
* Precommit sign-bytes: a bit-for-bit mirror of the consensus core's version-1 vote sign-bytes
  (``ledgr.consensus.signbytes``; consensus and ledger may not import each other), so a QC assembled
  from the consensus core's precommits verifies here unchanged: ``"ledgr/consensus/sign/v1\\0" ‖
  u8 3 (precommit) ‖ short chain_id ‖ u64 height ‖ i64 round ‖ u8 (0 nil | 1 value) ‖ [block_hash]``.
  A prevote (``u8 2``) appends ``i64 valid_round``; the ledger needs prevote bytes only to check
  equivocation evidence (``ledgr.ledger.rules_evidence``).
* QC (consensus.md §2.1): q precommit signatures for one ``(height, round, block_hash)`` plus a signer
  bitmap over the validator set of that height (bit i = validator i, most significant bit first).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ledgr.crypto import sha256
from ledgr.crypto.keys import SIGNATURE_BYTES, PublicKey
from ledgr.errors import InvalidEncoding, InvalidInput, TooLarge, VerificationFailed
from ledgr.ledger import limits
from ledgr.ledger.codec import Reader, short_bytes, u8, u32, u64
from ledgr.ledger.merkle import merkle_root
from ledgr.ledger.validators import ValidatorSet

FORMAT_VERSION = 1
HEADER_DOMAIN = b"ledgr/header/v1\x00"
CONSENSUS_SIGN_DOMAIN = b"ledgr/consensus/sign/v1\x00"
PREVOTE_KIND = 2
PRECOMMIT_KIND = 3
HASH_BYTES = 32
_I64 = struct.Struct(">q")
_CHAIN_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def check_chain_id(chain_id: str) -> str:
    if not isinstance(chain_id, str) or not _CHAIN_ID_RE.match(chain_id):
        raise InvalidInput("chain_id must be 1-64 characters of [a-z0-9._-], starting alphanumeric")
    return chain_id


def operation_hash(envelope: bytes) -> bytes:
    """The identity of an operation: sha256 over its whole envelope (payload, method id, signature).

    It is the leaf of ``tx_root`` and the version hash of whatever the operation changed.
    """
    return sha256(envelope)


def tx_root(operations: Sequence[bytes]) -> bytes:
    """RFC 6962 Merkle root over the operation hashes of a block (sha256 of empty for none)."""
    return merkle_root([operation_hash(op) for op in operations])


def precommit_sign_bytes(chain_id: str, height: int, round_: int, block_hash: bytes | None) -> bytes:
    """The exact bytes a validator signs in a PRECOMMIT (nil when ``block_hash`` is None)."""
    return vote_sign_bytes(chain_id, PRECOMMIT_KIND, height, round_, block_hash)


def vote_sign_bytes(chain_id: str, kind: int, height: int, round_: int, block_hash: bytes | None,
                    valid_round: int = -1) -> bytes:
    """The exact bytes of a PREVOTE (``kind`` 2, with its ``valid_round``) or PRECOMMIT (``kind`` 3)."""
    if kind not in (PREVOTE_KIND, PRECOMMIT_KIND):
        raise InvalidInput("vote kind must be 2 (prevote) or 3 (precommit)")
    if not 0 <= height <= limits.MAX_HEIGHT or not 0 <= round_ <= limits.MAX_ROUND:
        raise InvalidInput("vote height/round out of range")
    tail = b"\x00" if block_hash is None else b"\x01" + _hash32(block_hash, "block_hash")
    chain = short_bytes(check_chain_id(chain_id).encode("ascii"))
    # the round is an i64 in consensus; rounds are never negative, so u64 gives the same bytes
    out = CONSENSUS_SIGN_DOMAIN + u8(kind) + chain + u64(height) + u64(round_) + tail
    if kind == PREVOTE_KIND:
        if not -1 <= valid_round < round_:
            raise InvalidInput("a prevote's valid_round is -1 or below its round")
        out += _I64.pack(valid_round)
    return out


def _hash32(value: bytes, what: str) -> bytes:
    if not isinstance(value, bytes) or len(value) != HASH_BYTES:
        raise InvalidInput(f"{what} must be {HASH_BYTES} bytes")
    return value


@dataclass(frozen=True, slots=True)
class Header:
    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    tx_root: bytes
    app_root: bytes
    validators_hash: bytes
    next_validators_hash: bytes
    proposer: bytes

    def __post_init__(self) -> None:
        check_chain_id(self.chain_id)
        for name in ("height", "time_ms"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= limits.MAX_HEIGHT:
                raise InvalidInput(f"header {name} must be an integer in [0, 2^53)")
        for name in ("prev_hash", "tx_root", "app_root", "validators_hash", "next_validators_hash",
                     "proposer"):
            _hash32(getattr(self, name), f"header {name}")

    def encode(self) -> bytes:
        return (u8(FORMAT_VERSION) + short_bytes(self.chain_id.encode("ascii")) + u64(self.height)
                + u64(self.time_ms) + self.prev_hash + self.tx_root + self.app_root
                + self.validators_hash + self.next_validators_hash + self.proposer)

    def hash(self) -> bytes:
        return sha256(HEADER_DOMAIN + self.encode())

    @classmethod
    def read(cls, reader: Reader) -> Header:
        version = reader.u8()
        if version != FORMAT_VERSION:
            raise InvalidEncoding(f"unsupported header format version {version}")
        chain_id = reader.ascii()
        height, time_ms = reader.u64(), reader.u64()
        fields = [reader.take(HASH_BYTES) for _ in range(6)]
        try:
            return cls(chain_id, height, time_ms, *fields)
        except InvalidInput as exc:
            raise InvalidEncoding(f"header: {exc.detail}") from exc

    @classmethod
    def decode(cls, data: bytes) -> Header:
        reader = Reader(data, "header")
        header = cls.read(reader)
        reader.done()
        return header

    def to_json(self) -> dict[str, object]:
        return {
            "chain_id": self.chain_id, "height": self.height, "time_ms": self.time_ms,
            "prev_hash": self.prev_hash.hex(), "tx_root": self.tx_root.hex(),
            "app_root": self.app_root.hex(), "validators_hash": self.validators_hash.hex(),
            "next_validators_hash": self.next_validators_hash.hex(), "proposer": self.proposer.hex(),
            "hash": self.hash().hex(),
        }


@dataclass(frozen=True, slots=True)
class Block:
    """A header plus the operation envelopes it orders (the commit QC travels beside it)."""

    header: Header
    operations: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if len(self.operations) > limits.MAX_BLOCK_OPS:
            raise TooLarge(f"a block holds at most {limits.MAX_BLOCK_OPS} operations",
                           limit=limits.MAX_BLOCK_OPS)
        for op in self.operations:
            if not isinstance(op, bytes) or len(op) > limits.MAX_ENVELOPE_BYTES:
                raise TooLarge("an operation envelope is too large", limit=limits.MAX_ENVELOPE_BYTES)

    @property
    def height(self) -> int:
        return self.header.height

    def hash(self) -> bytes:
        return self.header.hash()

    def computed_tx_root(self) -> bytes:
        return tx_root(self.operations)

    def encode(self) -> bytes:
        parts = [u8(FORMAT_VERSION), self.header.encode(), u32(len(self.operations))]
        for op in self.operations:
            parts.append(u32(len(op)))
            parts.append(op)
        return b"".join(parts)

    @classmethod
    def decode(cls, data: bytes) -> Block:
        if len(data) > limits.MAX_BLOCK_BYTES:
            raise TooLarge("block exceeds the size limit", limit=limits.MAX_BLOCK_BYTES)
        reader = Reader(data, "block")
        version = reader.u8()
        if version != FORMAT_VERSION:
            raise InvalidEncoding(f"unsupported block format version {version}")
        header = Header.read(reader)
        count = reader.u32()
        if count > limits.MAX_BLOCK_OPS:
            raise TooLarge(f"a block holds at most {limits.MAX_BLOCK_OPS} operations",
                           limit=limits.MAX_BLOCK_OPS)
        ops = tuple(reader.long_bytes(limits.MAX_ENVELOPE_BYTES) for _ in range(count))
        reader.done()
        return cls(header=header, operations=ops)


@dataclass(frozen=True, slots=True)
class QuorumCertificate:
    height: int
    round: int
    block_hash: bytes
    signer_count: int
    signer_bitmap: bytes
    signatures: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not 0 <= self.height <= limits.MAX_HEIGHT or not 0 <= self.round <= limits.MAX_ROUND:
            raise InvalidInput("QC height/round out of range")
        _hash32(self.block_hash, "QC block_hash")
        if not 1 <= self.signer_count <= 255 or len(self.signer_bitmap) != (self.signer_count + 7) // 8:
            raise InvalidInput("QC signer bitmap does not match its validator count")
        indexes = self.signer_indexes()
        if indexes and indexes[-1] >= self.signer_count:
            raise InvalidInput("QC signer bitmap has bits set beyond its validator count")
        if len(self.signatures) != len(indexes):
            raise InvalidInput("QC has a different number of signatures than signer bits")
        if any(len(sig) != SIGNATURE_BYTES for sig in self.signatures):
            raise InvalidInput("QC signatures are 64 bytes each")

    def signer_indexes(self) -> list[int]:
        out = []
        for i in range(len(self.signer_bitmap) * 8):
            if self.signer_bitmap[i // 8] & (0x80 >> (i % 8)):
                out.append(i)
        return out

    @classmethod
    def from_votes(cls, height: int, round_: int, block_hash: bytes, signer_count: int,
                   votes: dict[int, bytes]) -> QuorumCertificate:
        """Assemble a QC from precommit signatures keyed by validator index."""
        bitmap = bytearray((signer_count + 7) // 8)
        for index in votes:
            if not 0 <= index < signer_count:
                raise InvalidInput(f"validator index {index} outside a set of {signer_count}")
            bitmap[index // 8] |= 0x80 >> (index % 8)
        sigs = tuple(votes[i] for i in sorted(votes))
        return cls(height, round_, block_hash, signer_count, bytes(bitmap), sigs)

    def encode(self) -> bytes:
        return (u8(FORMAT_VERSION) + u64(self.height) + u32(self.round) + self.block_hash
                + u8(self.signer_count) + self.signer_bitmap + b"".join(self.signatures))

    @classmethod
    def decode(cls, data: bytes) -> QuorumCertificate:
        reader = Reader(data, "quorum certificate")
        version = reader.u8()
        if version != FORMAT_VERSION:
            raise InvalidEncoding(f"unsupported QC format version {version}")
        height, round_, block_hash = reader.u64(), reader.u32(), reader.take(HASH_BYTES)
        count = reader.u8()
        if count == 0:
            raise InvalidEncoding("quorum certificate: empty validator set")
        bitmap = reader.take((count + 7) // 8)
        signers = sum(bin(b).count("1") for b in bitmap)
        sigs = tuple(reader.take(SIGNATURE_BYTES) for _ in range(signers))
        reader.done()
        try:
            return cls(height, round_, block_hash, count, bitmap, sigs)
        except InvalidInput as exc:
            raise InvalidEncoding(f"quorum certificate: {exc.detail}") from exc


def verify_qc(qc: QuorumCertificate, header: Header, validator_set: ValidatorSet) -> None:
    """Check that ``qc`` certifies ``header`` under ``validator_set`` or raise VerificationFailed.

    The set must be the one the header names (``validators_hash``); the QC must carry at least the
    set's quorum of distinct, valid precommit signatures for this header's hash (CometBFT
    ``VerifyCommitLight``; consensus.md §2.2 step 1).
    """
    if validator_set.hash() != header.validators_hash:
        raise VerificationFailed("validator set does not match the header's validators_hash",
                                 check="qc")
    if qc.height != header.height or qc.block_hash != header.hash():
        raise VerificationFailed("QC is for a different block", check="qc")
    if qc.signer_count != validator_set.size:
        raise VerificationFailed("QC signer bitmap is sized for another validator set", check="qc")
    indexes = qc.signer_indexes()
    if len(indexes) < validator_set.quorum:
        raise VerificationFailed(f"QC has {len(indexes)} signatures; quorum is {validator_set.quorum}",
                                 check="qc")
    message = precommit_sign_bytes(header.chain_id, qc.height, qc.round, qc.block_hash)
    for index, signature in zip(indexes, qc.signatures, strict=True):
        key: PublicKey = validator_set.validators[index].node_key
        if not key.verify(message, signature):
            raise VerificationFailed(f"QC signature of validator {index} is invalid", check="qc")
