"""The ``ledgr`` operator CLI (click). Nothing imports this package.

Each command group lives in its own module and is registered here. Errors from the layers below are
:class:`ledgr.errors.LedgrError`; :func:`main` prints them as one line on stderr and exits non-zero
(2 for unusable input or configuration, 1 for other failures) — never a stack trace.
"""

from __future__ import annotations

import sys

import click

from ledgr import __version__
from ledgr.cli.base import LedgrGroup
from ledgr.cli.key import key


@click.group(cls=LedgrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ledgr")
def cli() -> None:
    """ledgr: self-hosted SSI ledger node, issuer and verifier."""


cli.add_command(key)


def _register_optional() -> None:
    """Register command groups whose modules exist (each group is one module under ledgr/cli/)."""
    import importlib

    for module_name, attr in (("vc", "vc"),):
        try:
            module = importlib.import_module(f"ledgr.cli.{module_name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"ledgr.cli.{module_name}":
                raise
            continue
        cli.add_command(getattr(module, attr))


_register_optional()


def main() -> None:
    cli.main(prog_name="ledgr", standalone_mode=True)
    sys.exit(0)
