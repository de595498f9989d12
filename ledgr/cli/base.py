"""Shared CLI plumbing: error translation at the edge and JSON output."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ledgr.errors import ConfigError, InvalidInput, LedgrError

EXIT_FAILED = 1
EXIT_USAGE = 2


class LedgrGroup(click.Group):
    """A click group that turns every :class:`LedgrError` into one line on stderr and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except LedgrError as exc:
            click.echo(f"error: {exc.detail}", err=True)
            code = EXIT_USAGE if isinstance(exc, InvalidInput | ConfigError) else EXIT_FAILED
            ctx.exit(code)


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def read_json_file(path: str) -> Any:
    """Read a JSON document from ``path`` (``-`` for stdin) with a clear one-line error."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from exc
