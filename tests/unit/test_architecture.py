"""Enforces the architecture's import direction and purity rules (architecture.md §2, style.md §3).

Allowed imports go downward only:
cli → api → node → store → {consensus, ledger} → vc → did → crypto → errors.
Pure layers never import aiohttp/lmdb/click/asyncio nor read the clock or global randomness.
Each third-party concern has exactly one owner module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "ledgr"

RANK = {
    "errors": 0, "crypto": 1, "did": 2, "vc": 3, "ledger": 4, "consensus": 4,
    "store": 5, "node": 6, "api": 7, "cli": 8, "demo": 8,
}
PURE = {"errors", "crypto", "did", "vc", "ledger", "consensus"}
IMPURE_MODULES = {"aiohttp", "lmdb", "click", "asyncio", "time", "random", "socket", "threading",
                  "subprocess", "multiprocessing", "structlog", "uvloop"}
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("date", "today"), ("time", "time"),
               ("time", "monotonic"), ("os", "urandom")}
# third-party package -> the only ledgr modules (path prefixes) allowed to import it
OWNERS = {
    "base58": ("crypto/multibase.py",),
    "multiformats": ("crypto/multibase.py",),
    "nacl": ("crypto/",),
    "cryptography": ("crypto/",),
    "rfc8785": ("crypto/jcs.py",),
    "pyoxigraph": ("vc/canonical",),
    "pyld": ("vc/canonical",),
    "lmdb": ("store/",),
    "click": ("cli",),
}
# os.urandom is allowed in exactly one place: key generation.
URANDOM_OK = {"crypto/keys.py"}


def _layer(rel: str) -> str:
    head = rel.split("/", 1)[0]
    return head.removesuffix(".py")


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == "__init__.py":
            continue
        out.append((rel, ast.parse(path.read_text(), filename=str(path))))
    return out


def _imports(tree: ast.Module) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


MODULES = _modules()


def test_modules_found() -> None:
    assert any(rel.startswith("crypto/") for rel, _ in MODULES)


@pytest.mark.parametrize(("rel", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_imports_flow_downward(rel: str, tree: ast.Module) -> None:
    layer = _layer(rel)
    assert layer in RANK, f"{rel}: unknown layer {layer!r}; add it to the architecture"
    for name in _imports(tree):
        if not name.startswith("ledgr.") and name != "ledgr":
            continue
        parts = name.split(".")
        if len(parts) < 2:
            continue
        target = parts[1]
        if target == layer or target == "__init__":
            continue
        assert target in RANK, f"{rel} imports unknown layer {name}"
        assert RANK[target] < RANK[layer], f"{rel} ({layer}) must not import {name} ({target})"
        assert {layer, target} != {"consensus", "ledger"}, f"{rel}: consensus and ledger are peers"


@pytest.mark.parametrize(("rel", "tree"), [m for m in MODULES if _layer(m[0]) in PURE],
                         ids=[m[0] for m in MODULES if _layer(m[0]) in PURE])
def test_pure_layers_do_no_io(rel: str, tree: ast.Module) -> None:
    for name in _imports(tree):
        top = name.split(".")[0]
        assert top not in IMPURE_MODULES, f"pure module {rel} imports {name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if pair == ("os", "urandom") and rel in URANDOM_OK:
                continue
            assert pair not in CLOCK_CALLS, f"pure module {rel} calls {pair[0]}.{pair[1]}"


@pytest.mark.parametrize(("rel", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_single_owner_per_dependency(rel: str, tree: ast.Module) -> None:
    for name in _imports(tree):
        top = name.split(".")[0]
        if top in OWNERS:
            assert rel.startswith(OWNERS[top]), f"{rel} imports {top}; only {OWNERS[top]} may"
