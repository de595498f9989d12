"""The node's keystore of issuer keys, encrypted at rest (architecture.md §5, issue 6 "Keystore").

Issuers sign credentials with Ed25519 keys held by the node: generated here or imported (Multikey
``secretKeyMultibase`` or an OKP JWK with ``d``). Each private key is sealed on disk with
:mod:`ledgr.crypto.sealed` (Argon2id-derived key from the operator's passphrase or key file +
XSalsa20-Poly1305); one Argon2id run per unlock, a fresh nonce per sealed key.

Nothing here returns private key material: callers see :class:`IssuerInfo` (public keys, ids, dates) and
may only ask the keystore to :meth:`Keystore.sign`. Rotation retires the active key but keeps its public
information, so the verification method id and key of credentials issued before stay answerable.
For ``did:key`` issuers the DID *is* the key, so they cannot rotate: create a new issuer instead.

Storage is one JSON file per keystore directory, replaced atomically (write a temporary file, fsync,
rename, fsync the directory) under an exclusive ``flock`` so the CLI and a running node never lose each
other's changes; every change re-reads the file under the lock first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledgr.crypto import PrivateKey, PublicKey, sealed
from ledgr.did.key import did_key_from_public_key, did_key_verification_method
from ledgr.did.syntax import parse_did
from ledgr.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    IntegrityError,
    InvalidInput,
    NotFound,
    StorageError,
    Unprocessable,
)

__all__ = [
    "IssuerInfo",
    "IssuerKeyInfo",
    "IssuerSigner",
    "Keystore",
    "file_lock",
    "format_time",
    "read_file_bounded",
    "secret_from_key_file",
    "secret_from_passphrase",
    "write_file_atomic",
]

KEYSTORE_FILE = "keystore.json"
FORMAT = "ledgr-keystore"
VERSION = 1
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_ISSUERS = 10_000
MAX_KEYS_PER_ISSUER = 256
MAX_LABEL_CHARS = 64
MIN_PASSPHRASE_CHARS = 12
MIN_KEY_FILE_BYTES = 32
_CHECK_PLAINTEXT = b"ledgr-keystore-check-v1"

RandomBytes = Callable[[int], bytes]


# ---------------------------------------------------------------- files (shared with ledgr.api.tokens)

def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data`` so a crash leaves either the old or the new file, never a mix."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc


def read_file_bounded(path: Path, limit_bytes: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from exc
    if len(data) > limit_bytes:
        raise StorageError(f"{path} is larger than {limit_bytes} bytes")
    return data


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if missing), held for the ``with`` block."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot open lock file {path}: {exc.strerror}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with second precision (``2026-11-25T08:00:00Z``)."""
    if moment.tzinfo is None:
        raise InvalidInput("timestamps must carry a timezone")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------- operator secrets

def secret_from_passphrase(passphrase: str) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise InvalidInput(f"the keystore passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
    return passphrase.encode("utf-8")


def secret_from_key_file(path: Path) -> bytes:
    """The bytes of a key file (e.g. 32+ bytes from ``head -c 32 /dev/urandom``), used as-is."""
    try:
        data = read_file_bounded(path, sealed.MAX_SECRET_BYTES)
    except FileNotFoundError as exc:
        raise ConfigError(f"keystore key file {path} does not exist") from exc
    except StorageError as exc:
        raise ConfigError(exc.detail) from exc
    if len(data) < MIN_KEY_FILE_BYTES:
        raise ConfigError(f"keystore key file {path} must hold at least {MIN_KEY_FILE_BYTES} bytes")
    return data


# ---------------------------------------------------------------- public views

@dataclass(frozen=True)
class IssuerKeyInfo:
    """Public information about one issuer key; ``retired`` is set once a rotation replaced it."""

    id: str
    public_key_multibase: str
    created: str
    retired: str | None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": "Multikey", "publicKeyMultibase": self.public_key_multibase,
                "created": self.created, "retired": self.retired}


@dataclass(frozen=True)
class IssuerInfo:
    did: str
    label: str
    created: str
    keys: tuple[IssuerKeyInfo, ...]

    @property
    def active_key(self) -> IssuerKeyInfo:
        return next(key for key in self.keys if key.retired is None)

    def to_json(self) -> dict[str, Any]:
        return {"did": self.did, "label": self.label, "created": self.created,
                "verificationMethod": self.active_key.id,
                "keys": [key.to_json() for key in self.keys]}


class IssuerSigner:
    """Signs as one issuer's active key without exposing it.

    It offers what a Data Integrity proof needs from a key (``sign(bytes)``, ``public_key``) plus the
    ``verification_method`` id to put in the proof, so the VC engine can take it where it now takes a
    :class:`~ledgr.crypto.PrivateKey`. Only hashes need to cross to a worker pool: canonicalize and hash
    there, sign here (Ed25519 signing is ~50 µs), and the key never leaves the keystore's process.
    """

    __slots__ = ("_key", "did", "public_key", "verification_method")

    def __init__(self, did: str, verification_method: str, key: PrivateKey) -> None:
        self.did = did
        self.verification_method = verification_method
        self.public_key = key.public_key
        self._key = key

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"IssuerSigner({self.verification_method})"

    def __reduce__(self) -> Any:
        raise TypeError("an IssuerSigner is not picklable: send hashes to workers, not keys")


# ---------------------------------------------------------------- the keystore

class Keystore:
    """An unlocked keystore: public records plus the private keys decrypted in memory."""

    def __init__(self, directory: Path, sealer: sealed.Sealer, random_bytes: RandomBytes) -> None:
        self.directory = Path(directory)
        self._sealer = sealer
        self._random = random_bytes
        self._doc: dict[str, Any] = {}
        self._private: dict[str, PrivateKey] = {}
        self._stamp: tuple[int, int, int] | None = None

    @property
    def path(self) -> Path:
        return self.directory / KEYSTORE_FILE

    @staticmethod
    def exists(directory: Path) -> bool:
        return (Path(directory) / KEYSTORE_FILE).exists()

    @classmethod
    def create(cls, directory: Path, secret: bytes, *, params: sealed.KdfParams = sealed.DEFAULT_PARAMS,
               random_bytes: RandomBytes = os.urandom) -> Keystore:
        """A new, empty keystore in ``directory`` sealed with ``secret`` (refuses to overwrite)."""
        directory = Path(directory)
        if cls.exists(directory):
            raise Conflict(f"a keystore already exists in {directory}")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        sealer = sealed.Sealer.derive(secret, random_bytes(sealed.SALT_BYTES), params)
        store = cls(directory, sealer, random_bytes)
        with store._locked():
            if store.path.exists():
                raise Conflict(f"a keystore already exists in {directory}")
            store._doc = {"format": FORMAT, "version": VERSION,
                          "check": sealer.seal(_CHECK_PLAINTEXT, random_bytes(sealed.NONCE_BYTES)),
                          "issuers": []}
            store._write()
        return store

    @classmethod
    def open(cls, directory: Path, secret: bytes, *, random_bytes: RandomBytes = os.urandom) -> Keystore:
        """Unlock the keystore in ``directory``; a wrong secret raises :class:`ledgr.errors.Unauthorized`."""
        directory = Path(directory)
        doc = _read_doc(directory / KEYSTORE_FILE)
        sealer = sealed.sealer_for(doc["check"], secret)
        if sealer.unseal(doc["check"]) != _CHECK_PLAINTEXT:
            raise IntegrityError("keystore check value does not match")
        store = cls(directory, sealer, random_bytes)
        store._load(doc)
        store._stamp = _stamp_of(store.path)
        return store

    @classmethod
    def open_or_create(cls, directory: Path, secret: bytes, *,
                       params: sealed.KdfParams = sealed.DEFAULT_PARAMS,
                       random_bytes: RandomBytes = os.urandom) -> Keystore:
        if cls.exists(directory):
            return cls.open(directory, secret, random_bytes=random_bytes)
        return cls.create(directory, secret, params=params, random_bytes=random_bytes)

    # -- reads

    def reload(self) -> None:
        """Pick up changes another process (e.g. the CLI) made to the file."""
        stamp = _stamp_of(self.path)
        self._load(_read_doc(self.path))
        self._stamp = stamp

    def reload_if_changed(self) -> bool:
        """:meth:`reload` when the file changed since it was last read (one ``stat`` otherwise), so a
        running node sees issuers added with ``ledgr issuer create`` without a restart."""
        if _stamp_of(self.path) == self._stamp:
            return False
        self.reload()
        return True

    def issuers(self) -> list[IssuerInfo]:
        return [_issuer_info(record) for record in self._doc["issuers"]]

    def issuer(self, did: str) -> IssuerInfo:
        return _issuer_info(self._record(did))

    def public_key(self, verification_method: str) -> PublicKey:
        """The public key of any key this keystore ever held (active or retired), by its id."""
        for record in self._doc["issuers"]:
            for key in record["keys"]:
                if key["id"] == verification_method:
                    return PublicKey.from_multikey(key["publicKeyMultibase"])
        raise NotFound(f"no key {verification_method} in this keystore")

    # -- signing

    def sign(self, did: str, message: bytes) -> tuple[str, bytes]:
        """Sign ``message`` with the active key of issuer ``did``: ``(verification method id, signature)``."""
        key_info = self.issuer(did).active_key
        return key_info.id, self._private[key_info.id].sign(message)

    def signer(self, did: str) -> IssuerSigner:
        """A signer for the active key of issuer ``did`` (for building proofs)."""
        key_info = self.issuer(did).active_key
        return IssuerSigner(did, key_info.id, self._private[key_info.id])

    def sign_with(self, verification_method: str, message: bytes, *, retired_ok: bool = False) -> bytes:
        """Sign with a named key, which must be an issuer's *active* key (retired keys never sign
        credentials; ``retired_ok`` is only for the ledger update that replaces a retired key in its
        DID document, which the key still controlling the DID on the ledger must sign)."""
        for record in self._doc["issuers"]:
            for key in record["keys"]:
                if key["id"] == verification_method:
                    if key["retired"] is not None and not retired_ok:
                        raise Forbidden(f"key {verification_method} was retired on {key['retired']}")
                    return self._private[verification_method].sign(message)
        raise NotFound(f"no key {verification_method} in this keystore")

    # -- changes

    def create_issuer(self, label: str, *, now: datetime, did: str | None = None,
                      did_for_key: Callable[[PublicKey], str] | None = None) -> IssuerInfo:
        """Generate a key on the node for a new issuer: a ``did:key`` unless ``did`` (e.g. a
        ``did:ledgr`` the registrar will write with this key) is given, or ``did_for_key`` derives
        one from the new public key (a self-certifying ``did:ledgr`` of the key's default document)."""
        key = PrivateKey(self._random(32))
        if did_for_key is not None:
            did = did_for_key(key.public_key)
        return self._add_issuer(key, label, now=now, did=did)

    def import_issuer(self, secret_key: str | dict[str, Any], label: str, *, now: datetime,
                      did: str | None = None) -> IssuerInfo:
        """Import an issuer key: Multikey ``secretKeyMultibase`` (``z3u2…``) or an Ed25519 JWK with ``d``."""
        key = (PrivateKey.from_jwk(secret_key) if isinstance(secret_key, dict)
               else PrivateKey.from_multikey(secret_key))
        return self._add_issuer(key, label, now=now, did=did)

    def rotate_key(self, did: str, *, now: datetime) -> IssuerInfo:
        """Retire the active key of ``did`` and generate a new one; old keys keep their public info."""
        if did.startswith("did:key:"):
            raise Unprocessable("a did:key issuer cannot rotate its key (the DID is the key); "
                                "create a new issuer instead")
        stamp = format_time(now)
        new_key = PrivateKey(self._random(32))
        with self._locked():
            self.reload()
            record = self._record(did)
            if len(record["keys"]) >= MAX_KEYS_PER_ISSUER:
                raise Unprocessable(f"issuer {did} already has {MAX_KEYS_PER_ISSUER} keys")
            for key in record["keys"]:
                if key["retired"] is None:
                    key["retired"] = stamp
            record["keys"].append(self._key_record(did, new_key, stamp))
            self._private[record["keys"][-1]["id"]] = new_key
            self._write()
            return _issuer_info(record)

    # -- internals

    def _add_issuer(self, key: PrivateKey, label: str, *, now: datetime, did: str | None) -> IssuerInfo:
        label = _check_label(label)
        did = _issuer_did(key, did)
        stamp = format_time(now)
        with self._locked():
            self.reload()
            if any(record["did"] == did for record in self._doc["issuers"]):
                raise Conflict(f"issuer {did} is already in the keystore")
            if len(self._doc["issuers"]) >= MAX_ISSUERS:
                raise Unprocessable(f"the keystore already holds {MAX_ISSUERS} issuers")
            key_record = self._key_record(did, key, stamp)
            record: dict[str, Any] = {"did": did, "label": label, "created": stamp, "keys": [key_record]}
            self._doc["issuers"].append(record)
            self._private[key_record["id"]] = key
            self._write()
            return _issuer_info(record)

    def _key_record(self, did: str, key: PrivateKey, stamp: str) -> dict[str, Any]:
        multikey = key.public_key.multikey
        key_id = (did_key_verification_method(key.public_key) if did.startswith("did:key:")
                  else f"{did}#{multikey}")
        envelope = self._sealer.seal(key.seed, self._random(sealed.NONCE_BYTES))
        return {"id": key_id, "publicKeyMultibase": multikey, "created": stamp, "retired": None,
                "sealedSecretKey": envelope}

    def _record(self, did: str) -> dict[str, Any]:
        for record in self._doc["issuers"]:
            if record["did"] == did:
                return record  # type: ignore[no-any-return]
        raise NotFound(f"no issuer {did} in this keystore")

    def _load(self, doc: dict[str, Any]) -> None:
        private: dict[str, PrivateKey] = {}
        for record in doc["issuers"]:
            for key in record["keys"]:
                known = self._private.get(key["id"])
                if known is None or known.public_key.multikey != key["publicKeyMultibase"]:
                    known = PrivateKey(self._sealer.unseal(key["sealedSecretKey"]))
                    if known.public_key.multikey != key["publicKeyMultibase"]:
                        raise IntegrityError(f"sealed key of {key['id']} does not match its public key")
                private[key["id"]] = known
        self._doc, self._private = doc, private

    def _write(self) -> None:
        write_file_atomic(self.path, json.dumps(self._doc, indent=1, sort_keys=True).encode())
        self._stamp = _stamp_of(self.path)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(self.directory / ".keystore.lock")


def _stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _read_doc(path: Path) -> dict[str, Any]:
    try:
        data = read_file_bounded(path, MAX_FILE_BYTES)
    except FileNotFoundError as exc:
        raise ConfigError(f"no keystore at {path}; create one first (ledgr issuer create)") from exc
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise IntegrityError(f"keystore {path} is not valid JSON") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("version") != VERSION:
        raise IntegrityError(f"{path} is not a version {VERSION} ledgr keystore")
    issuers = doc.get("issuers")
    if not isinstance(issuers, list) or not isinstance(doc.get("check"), dict):
        raise IntegrityError(f"keystore {path} is malformed")
    for record in issuers:
        _check_record_shape(record, path)
    return doc


def _check_record_shape(record: Any, path: Path) -> None:
    ok = (isinstance(record, dict) and isinstance(record.get("did"), str)
          and isinstance(record.get("label"), str) and isinstance(record.get("keys"), list)
          and record["keys"]
          and all(isinstance(k, dict) and isinstance(k.get("id"), str)
                  and isinstance(k.get("publicKeyMultibase"), str) and isinstance(k.get("created"), str)
                  and (k.get("retired") is None or isinstance(k.get("retired"), str))
                  and isinstance(k.get("sealedSecretKey"), dict) for k in record["keys"])
          and sum(1 for k in record["keys"] if k.get("retired") is None) == 1)
    if not ok:
        raise IntegrityError(f"keystore {path} has a malformed issuer record")


def _issuer_info(record: dict[str, Any]) -> IssuerInfo:
    keys = tuple(IssuerKeyInfo(k["id"], k["publicKeyMultibase"], k["created"], k["retired"])
                 for k in record["keys"])
    return IssuerInfo(record["did"], record["label"], record["created"], keys)


def _issuer_did(key: PrivateKey, did: str | None) -> str:
    own = did_key_from_public_key(key.public_key)
    if did is None:
        return own
    method, _ = parse_did(did)
    if method == "key" and did != own:
        raise InvalidInput("a did:key issuer's DID must be the did:key of its own key")
    if method not in {"key", "ledgr"}:
        raise InvalidInput(f"issuers use did:ledgr or did:key, not did:{method}")
    return did


def _check_label(label: str) -> str:
    label = label.strip()
    if not label or len(label) > MAX_LABEL_CHARS or not label.isprintable():
        raise InvalidInput(f"an issuer label is 1-{MAX_LABEL_CHARS} printable characters")
    return label
