"""Storage of the sparse Merkle tree in pages of four binary levels (Jellyfish's 16-ary nodes).

The logical tree, its hashes, its root and its proofs are exactly the binary tree of :mod:`smt`;
only the way nodes are stored differs. A *page* holds the internal node at a depth that is a multiple
of four together with everything below it down to four levels further: internal nodes in between and
leaves inline, and references (hashes) to the pages of internal nodes four levels down. A page is
stored under the binary hash of its top node, so ``app_root`` is the key of the root page (when the
whole tree is a single leaf, that leaf is stored as a one-entry page under its hash). A block's
update writes about one page per four levels of each changed path instead of one node per level, and
leaves are never stored on their own: roughly a third of the records and of the store's page writes.

Page encoding (version 1): ``0x02 ‖ entry(top)``, where ``entry`` is ``0x00`` (EMPTY), ``0x01 ‖
key_hash ‖ value_hash`` (leaf), ``0x02 ‖ entry(left) ‖ entry(right)`` (internal node inside the page)
or ``0x03 ‖ hash`` (internal node four levels below the top: its own page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

from ledgr.crypto import sha256
from ledgr.errors import InvariantViolation
from ledgr.ledger.memo import Memo

EMPTY = b"\x00" * 32
PAGE_LEVELS = 4
PAGE_VERSION = 0x02
KEY_BITS = 256

NodeGetter = Callable[[bytes], bytes | None]


def bit(key_hash: bytes, depth: int) -> int:
    return (key_hash[depth >> 3] >> (7 - (depth & 7))) & 1


class Leaf:
    __slots__ = ("_hash", "key", "value")

    def __init__(self, key: bytes, value: bytes) -> None:
        self.key = key
        self.value = value
        self._hash: bytes | None = None

    @property
    def hash(self) -> bytes:
        if self._hash is None:
            self._hash = sha256(b"\x00" + self.key + self.value)
        return self._hash


class Ref:
    """An internal node whose page has not been loaded (known only by its hash)."""

    __slots__ = ("hash",)

    def __init__(self, node_hash: bytes) -> None:
        self.hash = node_hash


class Internal:
    __slots__ = ("_hash", "left", "right")

    def __init__(self, left: Node, right: Node) -> None:
        self.left = left
        self.right = right
        self._hash: bytes | None = None

    @property
    def hash(self) -> bytes:
        if self._hash is None:
            self._hash = sha256(b"\x01" + hash_of(self.left) + hash_of(self.right))
        return self._hash


Node: TypeAlias = Leaf | Ref | Internal | None


def hash_of(node: Node) -> bytes:
    return EMPTY if node is None else node.hash


def _read_entry(data: bytes, pos: int, rel: int) -> tuple[Node, int]:
    tag = data[pos]
    if tag == 0:
        return None, pos + 1
    if tag == 1:
        return Leaf(data[pos + 1:pos + 33], data[pos + 33:pos + 65]), pos + 65
    if tag == 2 and rel < PAGE_LEVELS:
        left, pos = _read_entry(data, pos + 1, rel + 1)
        right, pos = _read_entry(data, pos, rel + 1)
        return Internal(left, right), pos
    if tag == 3 and rel == PAGE_LEVELS:
        return Ref(data[pos + 1:pos + 33]), pos + 33
    raise InvariantViolation("corrupt SMT page")


_PAGE_CACHE_SIZE = 16384
_PAGE_CACHE: Memo[bytes, Leaf | Internal] = Memo(_PAGE_CACHE_SIZE)


def load_page(get_node: NodeGetter, node_hash: bytes) -> Leaf | Internal:
    """The parsed page stored under ``node_hash``.

    The store is always asked (a missing page is an error), but parsed pages are cached by hash: a
    key names one content forever, so the cache is never stale, and the upper pages every update
    passes through stay parsed with their hashes known. Parsed nodes are never modified (only their
    lazily computed hashes are filled in).
    """
    data = get_node(node_hash)
    if data is None:
        raise InvariantViolation(f"SMT page {node_hash.hex()} is missing from the store")
    cached = _PAGE_CACHE.get(node_hash)
    if cached is not None:
        return cached
    page = _parse_page(data, node_hash)
    # first-in-first-out eviction in atomic steps: readers on other threads (the node may prove
    # reads while a block executes) never see an error, at worst a miss
    _PAGE_CACHE.remember(node_hash, page)
    return page


def _parse_page(data: bytes, node_hash: bytes) -> Leaf | Internal:
    if not data or data[0] != PAGE_VERSION:
        raise InvariantViolation(f"SMT page {node_hash.hex()} has an unknown format")
    try:
        node, end = _read_entry(data, 1, 0)
    except IndexError as exc:
        raise InvariantViolation(f"SMT page {node_hash.hex()} is truncated") from exc
    if end != len(data) or not isinstance(node, Leaf | Internal):
        raise InvariantViolation(f"SMT page {node_hash.hex()} is malformed")
    return node


def _write_entry(node: Node, rel: int, out: list[bytes], below: list[Internal]) -> Node:
    """Append the encoding of ``node`` (``rel`` levels under its page's top) to ``out``; return the
    node as :func:`_parse_page` would read it back (pages below are references)."""
    if node is None:
        out.append(b"\x00")
        return None
    if isinstance(node, Leaf):
        out.append(b"\x01" + node.key + node.value)
        return node
    if rel == PAGE_LEVELS:
        out.append(b"\x03" + node.hash)
        if isinstance(node, Internal):
            below.append(node)
        return Ref(node.hash)
    if isinstance(node, Internal):
        out.append(b"\x02")
        copy = Internal(_write_entry(node.left, rel + 1, out, below),
                        _write_entry(node.right, rel + 1, out, below))
        copy._hash = node._hash
        return copy
    raise InvariantViolation("an unloaded SMT node inside a page")


def pages_of(root: Node) -> dict[bytes, bytes]:
    """The pages to store for the new tree under ``root`` (unchanged pages stay referenced).

    Each new page also goes into the parsed-page cache, exactly as :func:`load_page` would parse it:
    the next block's update passes through the pages this one rewrote (the upper levels change with
    every block), and parsing them back from the store was a fifth of a block's execution time. A
    page that is never committed is harmless there: :func:`load_page` asks the store first.
    """
    pages: dict[bytes, bytes] = {}
    if root is None or isinstance(root, Ref):
        return pages
    todo: list[Leaf | Internal] = [root]
    while todo:
        top = todo.pop()
        out = [bytes([PAGE_VERSION])]
        below: list[Internal] = []
        parsed = _write_entry(top, 0, out, below)
        pages[top.hash] = b"".join(out)
        if isinstance(parsed, Leaf | Internal):
            _PAGE_CACHE.remember(top.hash, parsed)
        todo.extend(below)
    return pages


class Updater:
    """One batch update over the sorted, distinct ``updates`` (key hash → value hash or None)."""

    def __init__(self, get_node: NodeGetter, updates: list[tuple[bytes, bytes | None]]) -> None:
        self.get_node = get_node
        self.updates = updates

    def split(self, lo: int, hi: int, depth: int) -> int:
        updates = self.updates
        while lo < hi:
            mid = (lo + hi) // 2
            if bit(updates[mid][0], depth):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def build(self, depth: int, leaves: list[tuple[bytes, bytes]]) -> Node:
        if not leaves:
            return None
        if len(leaves) == 1:
            return Leaf(*leaves[0])
        if depth >= KEY_BITS:
            raise InvariantViolation("two SMT leaves share a full 256-bit key hash")
        mid = 0
        while mid < len(leaves) and not bit(leaves[mid][0], depth):
            mid += 1
        return combine(self.build(depth + 1, leaves[:mid]), self.build(depth + 1, leaves[mid:]))

    def update(self, node: Node, depth: int, lo: int, hi: int) -> Node:
        if lo == hi:
            return node
        loaded = load_page(self.get_node, node.hash) if isinstance(node, Ref) else node
        return self._update_loaded(loaded, depth, lo, hi)

    def _update_loaded(self, node: Leaf | Internal | None, depth: int, lo: int, hi: int) -> Node:
        if node is None:
            return self.build(depth, [(k, v) for k, v in self.updates[lo:hi] if v is not None])
        if isinstance(node, Leaf):
            leaves = [(k, v) for k, v in self.updates[lo:hi] if v is not None]
            if all(k != node.key for k, _ in self.updates[lo:hi]):
                leaves.append((node.key, node.value))
                leaves.sort()
            return self.build(depth, leaves)
        mid = self.split(lo, hi, depth)
        return combine(self.update(node.left, depth + 1, lo, mid),
                       self.update(node.right, depth + 1, mid, hi))


def combine(left: Node, right: Node) -> Node:
    """The canonical node over two halves: a lone leaf moves up, an empty pair vanishes."""
    if left is None and (right is None or isinstance(right, Leaf)):
        return right
    if right is None and isinstance(left, Leaf):
        return left
    return Internal(left, right)
