"""The docs site's own pages: their Python snippets run, their CLI lines exist, the nav
names only pages that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner

from nexios_auth_di.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUNNABLE = ["container.md", "migrating.md", "passkeys.md"]


def blocks(page: str, lang: str) -> list[str]:
    """The fenced ``lang`` blocks of docs/``page``."""
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / page).read_text(), re.S)


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_snippets_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Python block of the page runs as written (asserts inside it hold)."""
    monkeypatch.chdir(tmp_path)
    snippets = blocks(page, "python")
    assert snippets, f"{page} has no python block: the test would prove nothing"
    for i, code in enumerate(snippets):
        exec(compile(code, f"docs/{page}#{i}", "exec"), {"__name__": f"doc_{i}"})


def documented_commands() -> list[list[str]]:
    """Each ``nexios-auth ...`` line of docs/cli.md, as argv (comments dropped)."""
    lines = [line for b in blocks("cli.md", "bash") for line in b.splitlines()]
    return [shlex.split(line, comments=True)[1:] for line in lines if "nexios-auth " in line]


def leaf(argv: list[str]) -> tuple[list[str], click.Command]:
    """The command path argv names, and its command."""
    command: click.Command = cli
    path: list[str] = []
    for word in argv:
        if not isinstance(command, click.Group) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return path, command


@pytest.mark.parametrize("argv", documented_commands(), ids=" ".join)
def test_documented_cli_lines_name_real_commands_and_options(argv: list[str]) -> None:
    """Every documented CLI line names a real subcommand whose --help exits 0 and lists
    each option the line uses."""
    path, command = leaf(argv)
    assert not isinstance(command, click.Group), f"{argv} names no leaf command"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    for word in argv[len(path) :]:
        if word.startswith("--"):
            assert word in result.output, f"{word} is not an option of {' '.join(path)}"


def test_every_cli_command_is_documented() -> None:
    """Each leaf command of ``nexios-auth`` appears in docs/cli.md."""
    documented = {" ".join(leaf(argv)[0]) for argv in documented_commands()}

    def leaves(group: click.Group, prefix: str) -> list[str]:
        out: list[str] = []
        for name, sub in group.commands.items():
            full = f"{prefix}{name}"
            out.extend(leaves(sub, full + " ") if isinstance(sub, click.Group) else [full])
        return out

    missing = set(leaves(cli, "")) - documented
    assert not missing, missing


def test_mkdocs_nav_names_existing_pages_and_every_page() -> None:
    """mkdocs.yml's nav lists only files that exist, and every docs/*.md is in it."""
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = [next(iter(entry.values())) for entry in config["nav"]]
    for page in nav:
        assert (DOCS / page).is_file(), page
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))


def test_index_serves_with_the_readme_command_one() -> None:
    """The site's home page and the README give the same command 1."""
    command = blocks("index.md", "bash")[0].strip()
    assert command.endswith("nox -s demo")
    assert command in (ROOT / "README.md").read_text()
