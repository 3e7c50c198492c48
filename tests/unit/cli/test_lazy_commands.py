"""`aq` imports a subcommand's module only when that subcommand runs (aq_cli/main.py, LazyGroup)."""
import json
import subprocess
import sys

import click
from click.testing import CliRunner

from aq_cli.main import COMMANDS, cli


def test_every_listed_command_loads_under_its_own_name():
    ctx = click.Context(cli)
    for name in COMMANDS:
        assert cli.get_command(ctx, name).name == name


def test_the_help_lists_every_command():
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = {line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)


def test_a_command_does_not_import_the_others():
    """`aq grades …` needs the RPC client, not SQLAlchemy (aq users) nor the policy plugins (aq policy)."""
    probe = ("import json, sys, runpy; sys.argv = ['aq', 'grades', '--help']\n"
             "try:\n    runpy.run_module('aq_cli.main', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'aq_cli.commands')))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out.strip().splitlines()[-1])
    assert "aq_cli.commands.uploads" in loaded
    assert not [m for m in loaded if m.startswith("sqlalchemy") or m == "aq_cli.commands.users"]
