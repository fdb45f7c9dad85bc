"""docs/security.md cites tests as proof; these checks keep every citation real.

They parse the document and the cited test files only (no test runs), so a renamed or
deleted test fails here instead of leaving the ASVS map pointing at nothing.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
#: `tests/dir/test_x.py::test_name` with an optional `[parametrize row id]`
NODE_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]`]+)\])?`")
#: rows of the ASVS tables: | 6.2.1 (L1) | ... | status | how | proof |
ASVS_ROW = re.compile(r"^\| (\d+\.\d+\.\d+)[^|]*\|[^|]*\| ([^|]+) \|", re.MULTILINE)
STATUSES = ("S", "C", "App", "N", "N/A", "**Partly**")


def cited() -> list[tuple[str, str, str | None]]:
    """Every (file, test function, row id) the document cites, in order, deduplicated."""
    found = NODE_ID.findall(DOC.read_text(encoding="utf-8"))
    return list(dict.fromkeys((path, name, row or None) for path, name, row in found))


@cache
def defined_functions(path: str) -> frozenset[str]:
    """Names of the module-level test functions defined in ``path``."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
    return frozenset(n.name for n in tree.body if isinstance(n, kinds))


def test_the_document_cites_many_tests() -> None:
    """The map is not empty: the extraction finds the citations it is meant to check."""
    files = {path for path, _, _ in cited()}
    assert len(cited()) >= 100
    assert len(files) >= 30


@pytest.mark.parametrize(
    ("path", "name", "row"),
    cited(),
    ids=[f"{p}::{n}" + (f"[{r}]" if r else "") for p, n, r in cited()],
)
def test_cited_test_exists(path: str, name: str, row: str | None) -> None:
    """Each cited node id names an existing test file that defines that test function."""
    assert (ROOT / path).is_file(), f"docs/security.md cites missing file {path}"
    assert name.startswith("test_"), f"{path}::{name} is not a test"
    assert name in defined_functions(path), f"docs/security.md cites {path}::{name}, not defined"


def test_every_asvs_row_has_a_known_status() -> None:
    """Each ASVS table row states one of the legend's statuses (first word of the cell)."""
    rows = ASVS_ROW.findall(DOC.read_text(encoding="utf-8"))
    assert len(rows) >= 60
    for number, status in rows:
        assert status.split(" (")[0].split(" for ")[0].strip() in STATUSES, (number, status)


def test_satisfied_rows_cite_a_test() -> None:
    """A row marked satisfied (S) or satisfied by configuration (C) names its proof."""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.match(r"\d+\.\d+\.\d+", cells[0]) and cells[2] in ("S", "C"):
            assert NODE_ID.search(cells[4]) or cells[4] == "—", line


def test_cited_parametrize_rows_are_collected() -> None:
    """Each cited ``[row id]`` is a row pytest still collects (collection only, no run)."""
    rows = [f"{path}::{name}[{row}]" for path, name, row in cited() if row]
    assert rows, "the document cites no parametrize row"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly", *rows],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    counts = re.findall(r"^tests/\S+\.py: (\d+)$", done.stdout, re.MULTILINE)
    assert sum(map(int, counts)) == len(rows), done.stdout[-2000:]
