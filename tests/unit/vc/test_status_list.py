"""W3C Bitstring Status List v1.0: bitstring, encoding, entries and the status check through verify()."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgr.crypto import multibase
from ledgr.errors import InvalidDocument, InvalidEncoding, TooLarge, VerificationFailed
from ledgr.vc import StatusList, build_status_entry, build_status_list_credential, issue, verify
from ledgr.vc.status_list import (
    MAX_BITSTRING_BYTES,
    MIN_ENTRIES,
    expand_bitstring,
    parse_status_entry,
)
from tests.unit.vc.credential_factory import (
    CREATED,
    DATA_INTEGRITY,
    NOW,
    V1,
    credential,
    did,
    key,
    tampered,
)

LIST_URL = "https://status.example/lists/7"
# Example 3 of the Bitstring Status List v1.0 spec (§2.2): an all-zero 16 KiB list.
SPEC_EXAMPLE_LIST = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_spec_example_list_decodes_to_16_kib_of_zeros() -> None:
    status_list = StatusList.decode(SPEC_EXAMPLE_LIST)
    assert len(status_list.bits) == 16 * 1024
    assert status_list.entries == MIN_ENTRIES
    assert not any(status_list.bits)


def test_bit_order_is_left_most_first() -> None:
    status_list = StatusList()
    status_list.set(0)
    assert status_list.bits[0] == 0x80
    status_list.set(9)
    assert status_list.bits[1] == 0x40
    status_list.set(MIN_ENTRIES - 1)
    assert status_list.bits[-1] == 0x01
    assert [status_list.get(i) for i in (0, 1, 9, MIN_ENTRIES - 1)] == [1, 0, 1, 1]
    status_list.set(0, 0)
    assert status_list.get(0) == 0 and status_list.bits[0] == 0


def test_encode_decode_round_trip_is_deterministic() -> None:
    status_list = StatusList()
    for index in (3, 1000, 94567):
        status_list.set(index)
    encoded = status_list.encode()
    assert encoded.startswith("u") and "=" not in encoded
    assert encoded == status_list.encode()
    decoded = StatusList.decode(encoded)
    assert [i for i in range(MIN_ENTRIES) if decoded.get(i)] == [3, 1000, 94567]


def test_multi_bit_statuses() -> None:
    status_list = StatusList(status_size=2)
    assert len(status_list.bits) == MIN_ENTRIES * 2 // 8
    status_list.set(5, 3)
    status_list.set(6, 2)
    decoded = StatusList.decode(status_list.encode(), status_size=2)
    assert [decoded.get(i) for i in (4, 5, 6)] == [0, 3, 2]
    with pytest.raises(InvalidDocument):
        status_list.set(1, 4)


def test_range_and_length_errors() -> None:
    status_list = StatusList()
    with pytest.raises(VerificationFailed) as caught:
        status_list.get(MIN_ENTRIES)
    assert caught.value.extra["spec_error"] == "RANGE_ERROR"
    short = multibase.encode_base64url(gzip.compress(bytes(1024)))
    with pytest.raises(VerificationFailed) as caught:
        StatusList.decode(short)
    assert caught.value.extra["spec_error"] == "STATUS_LIST_LENGTH_ERROR"
    with pytest.raises(VerificationFailed):  # 16 KiB holds only 65,536 two-bit entries
        StatusList.decode(SPEC_EXAMPLE_LIST, status_size=2)
    with pytest.raises(InvalidDocument):
        StatusList(entries=1000)


def test_zip_bomb_is_bounded() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(64)]  # 64 MiB of zeros, ~64 KiB compressed
    bomb = multibase.encode_base64url(b"".join(parts) + compressor.flush())
    assert len(bomb) < 200_000
    with pytest.raises(TooLarge) as caught:
        expand_bitstring(bomb)
    assert caught.value.extra["limit"] == MAX_BITSTRING_BYTES


@pytest.mark.parametrize("value", [
    "z" + multibase.b58encode(gzip.compress(bytes(16384))),               # base58, not base64url
    multibase.encode_base64url(bytes(16384)),                              # not gzip
    multibase.encode_base64url(gzip.compress(bytes(16384)) + b"junk"),     # trailing bytes
    multibase.encode_base64url(gzip.compress(bytes(16384))[:-12]),         # truncated stream
    42,
])
def test_malformed_encoded_lists(value: Any) -> None:
    with pytest.raises(InvalidEncoding):
        expand_bitstring(value)


def test_entry_parsing() -> None:
    entry = parse_status_entry(build_status_entry(list_credential=LIST_URL, index=94567,
                                                  status_purpose="revocation"))
    assert (entry.index, entry.purpose, entry.status_size, entry.list_credential) == (
        94567, "revocation", 1, LIST_URL)
    good = build_status_entry(list_credential=LIST_URL, index=1, status_purpose="revocation")
    for change in ({"statusListIndex": "-1"}, {"statusListIndex": 5}, {"statusListIndex": "1" * 13},
                   {"statusListCredential": "not a url"}, {"id": LIST_URL}, {"statusSize": 0},
                   {"statusSize": 2}, {"statusPurpose": ""},
                   {"statusMessage": [{"status": "0x0", "message": "ok"}]}):
        with pytest.raises(InvalidDocument):
            parse_status_entry({**good, **change})


# --- the status check through verify() -------------------------------------------------------

ISSUER_KEY = key(7)


def _list_credential(status_list: StatusList, *, purpose: str = "revocation", signer: Any = ISSUER_KEY,
                     **extra: Any) -> dict[str, Any]:
    unsigned = build_status_list_credential(list_id=LIST_URL, issuer=did(signer), status_purpose=purpose,
                                            status_list=status_list, valid_from="2026-01-01T00:00:00Z",
                                            **extra)
    return issue(unsigned, secret_key=signer.multikey, suite="eddsa-rdfc-2022", created=CREATED)


def _credential_with_status(purpose: str = "revocation", index: int = 94567, **entry: Any) -> dict[str, Any]:
    status = {**build_status_entry(list_credential=LIST_URL, index=index, status_purpose=purpose), **entry}
    return issue(credential(did(ISSUER_KEY), credentialStatus=status), secret_key=ISSUER_KEY.multikey,
                 suite="eddsa-rdfc-2022", created=CREATED)


def _status(document: dict[str, Any], list_credential: Any) -> Any:
    result = verify(document, now=NOW, status_list_fetcher={LIST_URL: list_credential}.__getitem__)
    return result.check("status")


@pytest.mark.parametrize(("purpose", "reason"), [("revocation", "revoked"), ("suspension", "suspended")])
def test_set_bit_fails_the_status_check(purpose: str, reason: str) -> None:
    status_list = StatusList()
    document = _credential_with_status(purpose)
    assert _status(document, _list_credential(status_list, purpose=purpose)).verified
    status_list.set(94567)
    check = _status(document, _list_credential(status_list, purpose=purpose))
    assert not check.verified
    assert check.errors[0].extra["reason"] == reason
    assert check.details["statuses"][0]["status"] == 1
    status_list.set(94567, 0)  # unsuspend / (for tests only) un-revoke
    assert _status(document, _list_credential(status_list, purpose=purpose)).verified


def test_status_list_from_another_issuer_is_refused() -> None:
    check = _status(_credential_with_status(), _list_credential(StatusList(), signer=key(8)))
    assert not check.verified
    assert check.errors[0].extra["reason"] == "status-list-issuer-mismatch"


def test_tampered_or_expired_status_list_is_refused() -> None:
    status_list = StatusList()
    status_list.set(94567)
    signed_list = _list_credential(status_list)
    forged = tampered(signed_list, ("credentialSubject", "encodedList"), StatusList().encode())
    check = _status(_credential_with_status(), forged)
    assert check.errors[0].extra["reason"] == "status-list-unverified"
    expired = _list_credential(StatusList(), valid_until="2026-02-01T00:00:00Z")
    check = _status(_credential_with_status(), expired)
    assert check.errors[0].extra["spec_error"] == "STATUS_VERIFICATION_ERROR"
    assert "expired" in check.errors[0].detail


def test_purpose_and_id_mismatches() -> None:
    check = _status(_credential_with_status("suspension"), _list_credential(StatusList()))
    assert check.errors[0].extra["reason"] == "status-purpose-mismatch"
    other = _list_credential(StatusList())
    other = {**other, "id": "https://status.example/lists/8"}
    check = _status(_credential_with_status(), other)
    assert check.errors[0].extra["reason"] == "status-list-mismatch"


def test_retrieval_failures_are_failed_checks() -> None:
    document = _credential_with_status()
    result = verify(document, now=NOW)
    assert result.check("status").errors[0].extra["reason"] == "no-status-fetcher"  # type: ignore[union-attr]
    result = verify(document, now=NOW, status_list_fetcher={}.__getitem__)
    status = result.check("status")
    assert status is not None and not status.verified
    assert status.errors[0].extra["spec_error"] == "STATUS_RETRIEVAL_ERROR"
    assert not result.verified


def test_message_status_is_reported_not_failed() -> None:
    messages = [{"status": hex(i), "message": m} for i, m in enumerate(["pending", "accepted", "rejected",
                                                                       "undefined"])]
    status_list = StatusList(status_size=2)
    status_list.set(12, 2)
    document = _credential_with_status("message", 12, statusSize=2, statusMessage=messages)
    result = verify(document, now=NOW, status_list_fetcher={
        LIST_URL: _list_credential(status_list, purpose="message")}.__getitem__)
    assert result.verified
    status = result.check("status")
    assert status is not None and status.details["statuses"][0]["message"] == "rejected"
    assert any(w.code == "status-message" for w in result.warnings)


def test_status_entry_with_a_type_array_fails_cleanly() -> None:
    status = {**build_status_entry(list_credential=LIST_URL, index=1, status_purpose="revocation"),
              "type": ["BitstringStatusListEntry", "OtherEntry"]}
    document = issue(credential(did(ISSUER_KEY), credentialStatus=status), secret_key=ISSUER_KEY.multikey,
                     suite="eddsa-jcs-2022", created=CREATED)
    check = _status(document, _list_credential(StatusList()))
    assert not check.verified
    assert check.errors[0].extra["reason"] == "unsupported-status"


@settings(max_examples=40, deadline=None)
@given(status_size=st.integers(min_value=1, max_value=3),
       writes=st.lists(st.tuples(st.integers(min_value=0, max_value=MIN_ENTRIES - 1),
                                 st.integers(min_value=0, max_value=7)), max_size=40))
def test_status_list_matches_a_reference_model(status_size: int, writes: list[tuple[int, int]]) -> None:
    """Property: after any writes, get() and a decode of encode() agree with a plain dict."""
    status_list = StatusList(status_size=status_size)
    model: dict[int, int] = {}
    for index, value in writes:
        value %= 1 << status_size
        status_list.set(index, value)
        model[index] = value
    decoded = StatusList.decode(status_list.encode(), status_size)
    for index in {*model, 0, MIN_ENTRIES - 1}:
        assert status_list.get(index) == decoded.get(index) == model.get(index, 0)


SL2021_TERMS = {  # the StatusList2021 vocabulary (w3c-ccg vc-status-list-2021), inlined for the test
    "StatusList2021Entry": "https://w3id.org/vc/status-list#StatusList2021Entry",
    "StatusList2021Credential": "https://w3id.org/vc/status-list#StatusList2021Credential",
    "StatusList2021": "https://w3id.org/vc/status-list#StatusList2021",
    "statusPurpose": "https://w3id.org/vc/status-list#statusPurpose",
    "statusListIndex": "https://w3id.org/vc/status-list#statusListIndex",
    "statusListCredential": {"@id": "https://w3id.org/vc/status-list#statusListCredential", "@type": "@id"},
    "encodedList": "https://w3id.org/vc/status-list#encodedList",
}


def test_vc11_status_list_2021_is_checked_the_same_way() -> None:
    contexts = [V1, DATA_INTEGRITY, SL2021_TERMS]
    status_list = StatusList()
    status_list.set(42)
    list_credential = issue({
        "@context": contexts, "id": LIST_URL, "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": did(ISSUER_KEY), "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": LIST_URL + "#list", "type": "StatusList2021",
                              "statusPurpose": "revocation", "encodedList": status_list.encode()},
    }, secret_key=ISSUER_KEY.multikey, suite="eddsa-rdfc-2022", created=CREATED)

    def credential_at(index: int) -> dict[str, Any]:
        return issue({
            "@context": contexts, "type": ["VerifiableCredential"], "issuer": did(ISSUER_KEY),
            "issuanceDate": "2026-01-01T00:00:00Z", "credentialSubject": {"id": "did:example:alice"},
            "credentialStatus": {"id": f"{LIST_URL}#{index}", "type": "StatusList2021Entry",
                                 "statusPurpose": "revocation", "statusListIndex": str(index),
                                 "statusListCredential": LIST_URL},
        }, secret_key=ISSUER_KEY.multikey, suite="eddsa-rdfc-2022", created=CREATED)

    assert _status(credential_at(41), list_credential).verified
    revoked = _status(credential_at(42), list_credential)
    assert not revoked.verified and revoked.errors[0].extra["reason"] == "revoked"
