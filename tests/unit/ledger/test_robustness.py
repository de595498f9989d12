"""Hostile bytes and hostile JSON: decoders and rules fail only with ledgr errors, never crash."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgr.errors import InvalidDocument, InvalidEncoding, InvalidInput, OperationRejected, TooLarge
from ledgr.ledger.formats import Block, Header, QuorumCertificate
from ledgr.ledger.operations import OP_TYPES, decode_operation
from ledgr.ledger.smt import SmtProof
from tests.unit.ledger.chain import Chain, document_for, key

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**60, 2**60) | st.floats(allow_nan=False)
                    | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                max_size=4),
                    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_envelopes_are_rejected_cleanly(data: bytes) -> None:
    with pytest.raises(OperationRejected):
        decode_operation(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_format_bytes_fail_cleanly(data: bytes) -> None:
    for decoder in (Header.decode, Block.decode, QuorumCertificate.decode, SmtProof.decode):
        with contextlib.suppress(InvalidEncoding, InvalidInput, TooLarge):
            decoder(data)


@pytest.fixture(scope="module")
def chain() -> tuple[Chain, str]:
    chain = Chain.start()
    did, env = chain.create_did(key("robust"))
    chain.accept(env)
    return chain, did


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(OP_TYPES), JSON, st.booleans(), st.sampled_from(["did", "other", "list"]))
def test_random_bodies_are_rejected_or_applied_never_crash(chain: tuple[Chain, str], op_type: str, body: Any,
                                                            with_prev: bool, target_kind: str) -> None:
    state, did = chain
    target = {"did": did, "other": "did:key:z6Mk", "list": "https://e.example/l"}[target_kind]
    signer = key("robust")
    body_obj = body if isinstance(body, dict) else {"document": body, "credential": body, "content": body}
    try:
        env = state.op(op_type, target, body_obj, signer, f"{did}#key-1",
                       prev=state.prev(did) if with_prev else None)
    except InvalidDocument:  # integers beyond 2^53 cannot even be signed (RFC 8785)
        return
    rule = state.check(env)
    assert rule is None or isinstance(rule, str)


PATHS = [("@context",), ("id",), ("verificationMethod",), ("verificationMethod", 0),
         ("verificationMethod", 0, "id"), ("verificationMethod", 0, "type"),
         ("verificationMethod", 0, "publicKeyMultibase"), ("verificationMethod", 0, "controller"),
         ("authentication",), ("authentication", 0), ("assertionMethod",), ("capabilityInvocation", 0),
         ("controller",), ("service",), ("alsoKnownAs",), ("keyAgreement",)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PATHS), JSON)
def test_mutated_documents_are_rejected_or_accepted_never_crash(chain: tuple[Chain, str],
                                                               path: tuple[Any, ...], value: Any) -> None:
    state, did = chain
    document = copy.deepcopy(document_for(did, key("robust")))
    target: Any = document
    for step in path[:-1]:
        target = target[step]
    if isinstance(target, list):
        target[path[-1]] = value
    else:
        target[path[-1]] = value
    try:
        env = state.op("did.update", did, {"document": document}, key("robust"), f"{did}#key-1",
                       prev=state.prev(did))
    except InvalidDocument:
        return
    rule = state.check(env)
    assert rule in (None, "invalid-document", "size-limit", "malformed", "unauthorized-key",
                    "compromised-key"), rule


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=12)),
       st.one_of(st.none(), st.text(max_size=30)))
def test_resolver_and_dereferencer_never_raise(chain: tuple[Chain, str], suffix: str, version_id: str | None,
                                               version_time: str | None) -> None:
    from ledgr.did.dereference import dereference
    from ledgr.did.resolver import resolve
    from ledgr.ledger.records import LedgerDidReader
    state, did = chain
    reader = LedgerDidReader(state.state)
    for text in (suffix, f"did:ledgr:{suffix}", f"{did}{suffix}", f"did:key:z6Mk{suffix}"):
        if version_id is not None and version_time is not None:
            result = resolve(text, reader, version_id=version_id, version_time=version_time)
            assert result.error == "invalidOptions" or result.error == "invalidDid" \
                or result.error == "methodNotSupported"
        else:
            resolve(text, reader, version_id=version_id, version_time=version_time)
        dereference(text, reader)


CREDENTIAL_PATHS = [("type",), ("issuer",), ("id",), ("credentialSubject",), ("credentialSubject", "type"),
                    ("credentialSubject", "statusPurpose"), ("credentialSubject", "encodedList"),
                    ("proof",), ("proof", "verificationMethod"), ("proof", "proofPurpose"),
                    ("proof", "proofValue"), ("proof", "cryptosuite"), ("@context",)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(CREDENTIAL_PATHS), JSON)
def test_mutated_status_credentials_never_crash(chain: tuple[Chain, str], path: tuple[str, ...],
                                                value: Any) -> None:
    from tests.unit.ledger.chain import status_credential
    state, did = chain
    vm = f"{did}#key-1"
    credential = status_credential("https://e.example/lists/fuzz", did, vm, key("robust"))
    target: Any = credential
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    try:
        env = state.op("statuslist.create", "https://e.example/lists/fuzz", {"credential": credential},
                       key("robust"), vm)
    except InvalidDocument:
        return
    rule = state.check(env)
    assert rule is None or isinstance(rule, str)
