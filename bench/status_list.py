"""Bitstring Status List throughput: encode, decode (bounded gunzip) and the full status check.

Lists hold 131,072 entries (the §2.2 minimum) with 1 % of the bits set at random positions (a fixed
seed), which is what a busy issuer's revocation list looks like. ``check`` runs
``verify(checks=["status"])`` on a credential whose status list credential is signed with
eddsa-rdfc-2022, so it includes verifying the list credential's proof and decoding the list.

Usage: ``.venv/bin/python bench/status_list.py [--seconds 2]``
"""

from __future__ import annotations

import argparse
import platform
import random
import shlex
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ledgr.crypto import PrivateKey
from ledgr.vc import StatusList, build_status_entry, build_status_list_credential, issue, verify

LIST_URL = "https://status.example/lists/1"
CREATED = "2026-01-01T00:00:00Z"
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def rate(fn: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    rng = random.Random(7)
    status_list = StatusList()
    for index in rng.sample(range(status_list.entries), status_list.entries // 100):
        status_list.set(index)
    encoded = status_list.encode()
    key = PrivateKey.from_seed(bytes(range(32)))
    issuer = "did:key:" + key.public_key.multikey
    unsigned_list = build_status_list_credential(list_id=LIST_URL, issuer=issuer, status_purpose="revocation",
                                                 status_list=status_list)
    list_credential = issue(unsigned_list, secret_key=key.multikey, suite="eddsa-rdfc-2022", created=CREATED)
    credential = issue({
        "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": issuer, "credentialSubject": {"id": "did:example:a"},
        "credentialStatus": build_status_entry(list_credential=LIST_URL, index=12_345,
                                               status_purpose="revocation"),
    }, secret_key=key.multikey, suite="eddsa-rdfc-2022", created=CREATED)
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"python {platform.python_version()}, {status_list.entries} entries, 1 % set, "
          f"encodedList {len(encoded)} chars; one core, in-process (machine shared: figures are noisy)")
    print(f"encode/s  {rate(status_list.encode, args.seconds):10.0f}")
    print(f"decode/s  {rate(lambda: StatusList.decode(encoded), args.seconds):10.0f}")

    def check() -> object:
        return verify(credential, now=NOW, checks=["status"], status_list_fetcher=lambda url: list_credential)

    print(f"check/s   {rate(check, args.seconds):10.0f}")


if __name__ == "__main__":
    main()
