"""Keys, encodings, digests and JCS: the only importer of pynacl, cryptography, base58 and rfc8785."""

from ledgr.crypto.digest import sha256, sha256_hex
from ledgr.crypto.jcs import canonicalize
from ledgr.crypto.keys import PrivateKey, PublicKey

__all__ = ["PrivateKey", "PublicKey", "canonicalize", "sha256", "sha256_hex"]
