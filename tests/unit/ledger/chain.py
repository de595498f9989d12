"""A small in-memory chain for ledger tests: genesis, deterministic keys, DID helpers, block runner."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ledgr.crypto.keys import PrivateKey
from ledgr.did.ledgr_method import PLACEHOLDER_DID, derive_did, substitute
from ledgr.did.records import DidHead
from ledgr.ledger.execute import BlockResult, build_block, execute_block
from ledgr.ledger.formats import Block, QuorumCertificate, precommit_sign_bytes
from ledgr.ledger.genesis import Genesis
from ledgr.ledger.operations import sign_operation
from ledgr.ledger.state import MemoryState, read_tip
from ledgr.ledger.validators import Validator, ValidatorSet

CHAIN_ID = "ledgr-test"
GENESIS_MS = 1_764_000_000_000
DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"


def key(label: str) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(label.encode()).digest())


def validator_set(n: int = 3, prefix: str = "v", mode: str = "bft") -> tuple[ValidatorSet, list[PrivateKey],
                                                                             list[PrivateKey]]:
    nodes = [key(f"{prefix}-node-{i}") for i in range(n)]
    admins = [key(f"{prefix}-admin-{i}") for i in range(n)]
    members = tuple(Validator(f"{prefix}{i}", nodes[i].public_key, admins[i].public_key) for i in range(n))
    return ValidatorSet(members, mode), nodes, admins


def did_template(*keys: PrivateKey, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """A placeholder document with one Multikey per key (key-1, key-2, …) under every relationship."""
    ids = [f"{PLACEHOLDER_DID}#key-{i + 1}" for i in range(len(keys))]
    doc: dict[str, Any] = {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": PLACEHOLDER_DID,
        "verificationMethod": [
            {"id": vm, "type": "Multikey", "controller": PLACEHOLDER_DID,
             "publicKeyMultibase": k.public_key.multikey} for vm, k in zip(ids, keys, strict=True)],
        "authentication": ids,
        "assertionMethod": ids,
        "capabilityInvocation": ids,
    }
    doc.update(extra or {})
    return doc


def document_for(did: str, *keys: PrivateKey, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = substitute(did_template(*keys, extra=extra), did)
    return result


@dataclass
class Chain:
    """Genesis + MemoryState + helpers to sign operations and commit blocks of them."""

    validator_set: ValidatorSet
    node_keys: list[PrivateKey]
    admin_keys: list[PrivateKey]
    state: MemoryState = field(default_factory=MemoryState)
    blocks: list[Block] = field(default_factory=list)
    results: list[BlockResult] = field(default_factory=list)
    genesis: Genesis | None = None

    @classmethod
    def start(cls, n: int = 3, mode: str = "bft", params: dict[str, Any] | None = None) -> Chain:
        vset, nodes, admins = validator_set(n, mode=mode)
        chain = cls(vset, nodes, admins)
        chain.genesis = Genesis(CHAIN_ID, GENESIS_MS, vset, {"max_block_ops": 1000, **(params or {})})
        from ledgr.ledger.genesis import genesis_writes
        writes, nodes_, _root = genesis_writes(chain.genesis)
        chain.state.apply_writes(writes, nodes_)
        return chain

    @property
    def height(self) -> int:
        return read_tip(self.state).height

    def op(self, op_type: str, target: str, body: dict[str, Any], signer: PrivateKey, vm: str, *,
           prev: bytes | None = None, chain_id: str = CHAIN_ID, valid_until: int = 1_000_000) -> bytes:
        return sign_operation(op_type, target, body, prev=prev, chain_id=chain_id,
                              valid_until_height=valid_until, verification_method=vm, key=signer)

    def create_did(self, *keys: PrivateKey, extra: dict[str, Any] | None = None) -> tuple[str, bytes]:
        template = did_template(*keys, extra=extra)
        did = derive_did(template)
        envelope = self.op("did.create", did, {"document": template}, keys[0], f"{did}#key-1")
        return did, envelope

    def commit(self, operations: list[bytes], *, time_step_ms: int = 1000) -> tuple[Block, BlockResult]:
        """Build a block as the proposer would, re-execute it as a validator would, apply it."""
        tip = read_tip(self.state)
        height = tip.height + 1
        proposer = self.validator_set.proposer(height, 0).node_key.raw
        block, built = build_block(self.state, chain_id=CHAIN_ID, height=height,
                                   time_ms=tip.time_ms + time_step_ms, prev_hash=tip.block_hash,
                                   proposer=proposer, operations=operations)
        executed = execute_block(self.state, block)
        assert executed.app_root == built.app_root == block.header.app_root
        assert executed.state_writes == built.state_writes
        self.state.apply(executed)
        self.blocks.append(block)
        self.results.append(executed)
        return block, executed

    def qc(self, block: Block, signers: list[int] | None = None, round_: int = 0,
           vset: ValidatorSet | None = None, keys: list[PrivateKey] | None = None) -> QuorumCertificate:
        vset = vset or self.validator_set
        keys = keys or self.node_keys
        signers = signers if signers is not None else list(range(vset.quorum))
        message = precommit_sign_bytes(block.header.chain_id, block.height, round_, block.hash())
        votes = {i: keys[i].sign(message) for i in signers}
        return QuorumCertificate.from_votes(block.height, round_, block.hash(), vset.size, votes)

    def check(self, envelope: bytes) -> str | None:
        """None if the operation would be accepted in the next block, else the rule it breaks."""
        from ledgr.errors import OperationRejected
        from ledgr.ledger.execute import check_operation
        tip = read_tip(self.state)
        try:
            check_operation(self.state, envelope, height=tip.height + 1, time_ms=tip.time_ms + 1000)
        except OperationRejected as exc:
            return str(exc.extra["rule"])
        return None

    def accept(self, *envelopes: bytes) -> BlockResult:
        """Commit ``envelopes`` and require every one of them to be accepted."""
        block, result = self.commit(list(envelopes))
        assert len(block.operations) == len(envelopes), [self.check(e) for e in envelopes]
        return result

    def head(self, did: str) -> DidHead:
        from ledgr.ledger.records import LedgerDidReader
        head = LedgerDidReader(self.state).did_head(did)
        assert head is not None
        return head

    def prev(self, did: str) -> bytes:
        return bytes.fromhex(self.head(did).version_hash)


def status_credential(list_id: str, issuer: str, vm: str, signer: PrivateKey, *,
                      purpose: str = "revocation", revoked: tuple[int, ...] = (), entries: int = 131_072,
                      suite: str = "eddsa-jcs-2022", proof_purpose: str = "assertionMethod"
                      ) -> dict[str, Any]:
    """An issuer-signed BitstringStatusListCredential (built and signed with ledgr.vc)."""
    from ledgr.vc.proofs import add_proof
    from ledgr.vc.status_list import StatusList, build_status_list_credential
    bits = StatusList(entries)
    for index in revoked:
        bits.set(index)
    unsigned = build_status_list_credential(list_id=list_id, issuer=issuer, status_purpose=purpose,
                                            status_list=bits)
    signed: dict[str, Any] = add_proof(unsigned, private_key=signer, suite=suite, verification_method=vm,
                                       proof_purpose=proof_purpose, created="2026-11-25T08:00:00Z")
    return signed
