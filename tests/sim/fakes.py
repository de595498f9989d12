"""A fast *fake* signer/verifier: the simulator's own test double, never used outside ``tests/sim``.

The "signature" is the first 64 bytes of SHA-512(public key ‖ sign-bytes): deterministic, unforgeable
within the simulation only because simulated Byzantine nodes never compute it for another key
(they sign with their own key, or forge garbage). It exercises the same sign-bytes as Ed25519. Runs
with ``--crypto real`` (the default) use :class:`ledgr.consensus.Ed25519Signer` instead.
"""

from __future__ import annotations

import hashlib

from ledgr.consensus import Proposal, Vote
from ledgr.consensus.signbytes import sign_bytes_of_proposal, sign_bytes_of_vote
from ledgr.crypto import PrivateKey, PublicKey


def _fake_sig(key: PublicKey, message: bytes) -> bytes:
    return hashlib.sha512(key.raw + message).digest()


class FakeSigner:
    def __init__(self, key: PrivateKey) -> None:
        self._public = key.public_key

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign_vote(self, chain_id: str, vote: Vote) -> bytes:
        return _fake_sig(self._public, sign_bytes_of_vote(chain_id, vote))

    def sign_proposal(self, chain_id: str, proposal: Proposal) -> bytes:
        return _fake_sig(self._public, sign_bytes_of_proposal(chain_id, proposal))


class FakeVerifier:
    def verify_vote(self, chain_id: str, vote: Vote, key: PublicKey) -> bool:
        return vote.signature == _fake_sig(key, sign_bytes_of_vote(chain_id, vote))

    def verify_proposal(self, chain_id: str, proposal: Proposal, key: PublicKey) -> bool:
        return proposal.signature == _fake_sig(key, sign_bytes_of_proposal(chain_id, proposal))
