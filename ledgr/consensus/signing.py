"""Pluggable signing and verification of consensus messages.

The core only talks to a :class:`Signer` (its own consensus key) and a :class:`Verifier` (everyone's
signatures), both over structured messages, so the node may plug in a remote signer or a verifier
that runs in a thread pool. :class:`Ed25519Signer` / :class:`Ed25519Verifier` are the default
implementations over :mod:`ledgr.consensus.signbytes` with real Ed25519 (RFC 8032).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ledgr.consensus.messages import Proposal, Vote
from ledgr.consensus.signbytes import check_chain_id, sign_bytes_of_proposal, sign_bytes_of_vote
from ledgr.crypto import PrivateKey, PublicKey


@runtime_checkable
class Signer(Protocol):
    """Signs this node's votes and proposals. ``public_key`` identifies the node in validator sets."""

    @property
    def public_key(self) -> PublicKey: ...

    def sign_vote(self, chain_id: str, vote: Vote) -> bytes:
        """The 64-byte signature of ``vote`` (whose ``signature`` field is empty)."""
        ...

    def sign_proposal(self, chain_id: str, proposal: Proposal) -> bytes:
        """The 64-byte signature of ``proposal`` (whose ``signature`` field is empty)."""
        ...


@runtime_checkable
class Verifier(Protocol):
    """Checks a message's signature against the key of the validator that claims to have signed it."""

    def verify_vote(self, chain_id: str, vote: Vote, key: PublicKey) -> bool: ...

    def verify_proposal(self, chain_id: str, proposal: Proposal, key: PublicKey) -> bool: ...


class Ed25519Signer:
    """The default :class:`Signer`: Ed25519 over the version-1 sign-bytes."""

    __slots__ = ("_key",)

    def __init__(self, key: PrivateKey) -> None:
        self._key = key

    @property
    def public_key(self) -> PublicKey:
        return self._key.public_key

    def sign_vote(self, chain_id: str, vote: Vote) -> bytes:
        return self._key.sign(sign_bytes_of_vote(chain_id, vote))

    def sign_proposal(self, chain_id: str, proposal: Proposal) -> bytes:
        return self._key.sign(sign_bytes_of_proposal(chain_id, proposal))


class Ed25519Verifier:
    """The default :class:`Verifier`: Ed25519 over the version-1 sign-bytes."""

    __slots__ = ()

    def verify_vote(self, chain_id: str, vote: Vote, key: PublicKey) -> bool:
        check_chain_id(chain_id)
        return key.verify(sign_bytes_of_vote(chain_id, vote), vote.signature)

    def verify_proposal(self, chain_id: str, proposal: Proposal, key: PublicKey) -> bool:
        return key.verify(sign_bytes_of_proposal(chain_id, proposal), proposal.signature)
