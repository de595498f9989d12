"""``ledgr completion`` prints click's completion script; remote commands fail with one line."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ledgr.cli import cli


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o"), ("zsh", "compdef"),
                                                ("fish", "complete --no-files")])
def test_completion_scripts(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0
    assert marker in result.output and "_LEDGR_COMPLETE" in result.output


def test_remote_commands_give_one_line_errors(tmp_path: object) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["validators", "list", "--node", "http://127.0.0.1:1"])
    assert result.exit_code != 0 and result.output.count("\n") == 1 and result.output.startswith("error:")
    result = runner.invoke(cli, ["vc", "revoke", "--node", "ftp://x", "--token", "t", "missing.json"])
    assert result.exit_code == 2 and result.output.startswith("error:")
    result = runner.invoke(cli, ["vc", "issue", "missing.json"])
    assert result.exit_code == 2 and "error:" in result.output
