"""examples/multiworker_app.py in-process: a malformed /login-attempt body is a clear 4xx,
never a 500 (the many-worker flows run under uvicorn in tests/integration)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from nexios.testclient import TestClient

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multiworker_app.py"

#: (id, body, content type, status, rule)
BAD_BODIES = [
    ("not json", b"{oops", "application/json", 400, "RFC 8259: parse, never crash"),
    ("deep nesting", b"[" * 30_000 + b"]" * 30_000, "application/json", 400, "CWE-674"),
    ("username missing", b"{}", "application/json", 400, "required field"),
    ("username a number", b'{"username": 7}', "application/json", 400, "type check"),
    ("invalid utf-8", b'{"username": "\xff"}', "application/json", 400, "RFC 8259 §8.1"),
    ("text/plain", b'{"username": "a"}', "text/plain", 415, "CSRF: simple requests refused"),
    ("over 64 KiB", b'{"username": "' + b"a" * 70_000 + b'"}', "application/json", 413,
     "OWASP DoS: bounded body"),
]  # fmt: skip


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The example's app over memory stores (its own module, loaded from the file)."""
    spec = importlib.util.spec_from_file_location("multiworker_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    with TestClient(module.build_app(module.build_container({}))) as c:
        yield c


@pytest.mark.parametrize(
    ("case", "body", "ctype", "status", "rule"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
def test_bad_login_attempt_body_is_a_clear_4xx(
    client: TestClient, case: str, body: bytes, ctype: str, status: int, rule: str
) -> None:
    """Each malformed body gets its 4xx with a JSON detail, and no traceback."""
    r = client.post("/login-attempt", content=body, headers={"Content-Type": ctype})
    assert r.status_code == status, (rule, r.text[:200])
    assert r.json()["detail"], rule
    assert "Traceback" not in r.text


def test_well_formed_attempt_is_refused_as_credentials(client: TestClient) -> None:
    """A proper body reaches the throttle and the always-failing check: 401."""
    assert client.post("/login-attempt", json={"username": "mallory"}).status_code == 401
