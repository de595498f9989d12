"""Seeded mutation fuzzing of ``verify``: hostile input gives a failed result, never a crash.

Each case replaces (or deletes) one value somewhere in a signed credential or presentation with a
value of another shape. Two properties must hold: ``verify`` returns a JSON-serializable result
(no TypeError/KeyError reaching a user as a stack trace or an HTTP 500), and a changed claim never
verifies. Reproduce a failure with the seed printed in the assertion message.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import pytest

from ledgr.vc import (
    StatusList,
    VerificationResult,
    build_status_entry,
    build_status_list_credential,
    create_presentation,
    issue,
    sign_presentation,
    verify,
)
from tests.unit.vc.credential_factory import CREATED, NOW, credential, did, key, signed

KEY = key(91)
LIST_URL = "https://status.example/fuzz/1"
SCHEMA_URL = "https://schemas.example/fuzz/1"
SHAPES: list[Any] = [None, True, 0, -1, 1.5, "", "x", "did:key:z6Mk", "did:ledgr:abc#k-1",
                     "https://a.example", [], {}, [1], {"a": 1}, {"id": 5}, ["VerifiableCredential"],
                     "2026-01-01T00:00:00Z", {"@value": "x"}, {"type": 3}, [None], {"type": ["a", "b"]}]


def _documents() -> list[dict[str, Any]]:
    with_status = issue(credential(
        did(KEY), credentialStatus=build_status_entry(list_credential=LIST_URL, index=3,
                                                      status_purpose="revocation"),
        credentialSchema={"id": SCHEMA_URL, "type": "JsonSchema"}),
        secret_key=KEY.multikey, suite="eddsa-rdfc-2022", created=CREATED)
    presentation = sign_presentation(create_presentation([signed(KEY)], holder=did(KEY)),
                                     secret_key=KEY.multikey, suite="eddsa-jcs-2022", challenge="c1",
                                     created=CREATED)
    return [signed(KEY), signed(KEY, "eddsa-jcs-2022"), signed(KEY, "Ed25519Signature2020"), with_status,
            presentation]


DOCUMENTS = _documents()
STATUS_LIST = issue(build_status_list_credential(list_id=LIST_URL, issuer=did(KEY),
                                                 status_purpose="revocation",
                                                 status_list=StatusList()),
                    secret_key=KEY.multikey, suite="eddsa-rdfc-2022", created=CREATED)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _paths(item, (*prefix, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate(rng: random.Random, original: dict[str, Any], *, skip_proof: bool) -> tuple[dict[str, Any], Any]:
    document = copy.deepcopy(original)
    paths = [p for p in _paths(document) if not (skip_proof and p[0] == "proof")]
    path = rng.choice(paths)
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and rng.random() < 0.2:
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(SHAPES))
    return document, path


def _verify(document: dict[str, Any]) -> VerificationResult:
    return verify(document, now=NOW, challenge="c1", status_list_fetcher={LIST_URL: STATUS_LIST}.__getitem__,
                  schema_resolver={SCHEMA_URL: {"type": "object"}}.__getitem__)


def test_unmutated_documents_verify() -> None:
    assert all(_verify(document).verified for document in DOCUMENTS)


@pytest.mark.parametrize("seed", range(4))
def test_mutations_never_crash_and_never_verify(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(150):
        original = rng.choice(DOCUMENTS)
        document, path = _mutate(rng, original, skip_proof=rng.random() < 0.7)
        result = _verify(document)
        json.dumps(result.to_json())
        if document != original and path[0] != "proof":
            assert not result.verified, f"seed {seed}: changing {path} still verifies"
