"""The README's commands are the CLI's: every `lite-tools ...` line in a code block parses with the real argument
parser (a synopsis is reduced to its required form: [optional] groups dropped, the first of (a | b) taken), and
the README opens with the two commands a new user runs."""

from __future__ import annotations

import re
import shlex

import pytest

from lite_tools.cli import build_parser
from conftest import REPO


def readme_commands() -> list:
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```(?:bash)?\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if not line.startswith("lite-tools "):
                continue
            while re.search(r"\[[^\[\]]*\]", line):
                line = re.sub(r"\[[^\[\]]*\]", "", line)
            line = re.sub(r"\(([^()|]*)\|[^()]*\)", r"\1", line)
            commands.append(" ".join(line.split()))
    return commands


def test_readme_opens_with_demo_and_test():
    head = (REPO / "README.md").read_text().split("\n## ")[0]
    assert "make demo" in head and "make test" in head


@pytest.mark.parametrize("command", readme_commands())
def test_readme_command_parses(command):
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert callable(args.func)


def test_readme_has_commands_to_check():
    assert len(readme_commands()) >= 4
