"""The ``ledgr`` operator CLI (click). Nothing imports this package.

Each command group lives in its own module and is registered here. Errors from the layers below are
:class:`ledgr.errors.LedgrError`; :func:`main` prints them as one line on stderr and exits non-zero
(2 for unusable input or configuration, 1 for other failures) — never a stack trace.
"""

from __future__ import annotations

import click

from ledgr import __version__
from ledgr.cli.base import LedgrGroup


@click.group(cls=LedgrGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ledgr")
def cli() -> None:
    """ledgr: self-hosted SSI ledger node, issuer and verifier."""


def _register_groups() -> None:
    """Register every command module under ``ledgr/cli/``: each exports ``COMMANDS`` (a list)."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            cli.add_command(command)


_register_groups()


def main() -> None:
    cli.main(prog_name="ledgr", standalone_mode=True)
