"""``ledgr completion bash|zsh|fish``: print click's shell completion script for ``ledgr``."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL.

    \b
    Examples:
      eval "$(ledgr completion bash)"            # in ~/.bashrc
      ledgr completion zsh > ~/.zfunc/_ledgr
      ledgr completion fish > ~/.config/fish/completions/ledgr.fish
    """
    cls = get_completion_class(shell)
    if cls is None:
        raise click.UsageError(f"no completion for {shell}")
    root = ctx.find_root().command
    click.echo(cls(root, {}, "ledgr", "_LEDGR_COMPLETE").source())


COMMANDS = [completion]
