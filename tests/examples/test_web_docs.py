"""docs/web.md's complete example executes as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "web.md"


def test_web_doc_snippet_runs() -> None:
    """The python block of docs/web.md runs to the end (its asserts pass)."""
    match = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None
    exec(compile(match.group(1), str(DOC), "exec"), {"__name__": "docs_web"})
