"""Bound RDFC-1.0's blank-node work before handing a dataset to native code (placeholder: no-op)."""

from __future__ import annotations


def check_blank_node_work(lines: list[str]) -> None:
    return None
