"""Structure rules of the package, checked from its source: no import cycles, layers
import only downward, optional engines stay optional, the public API is complete, and
only the package's own exceptions are raised."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

import nexios_auth_di

PKG = "nexios_auth_di"
ROOT = Path(nexios_auth_di.__file__).parent

#: the intended layers; a module may import its own layer or lower ones only.
#: The longest matching prefix wins (``sessions.csrf`` is L1, ``sessions`` L3).
LAYERS: dict[int, tuple[str, ...]] = {
    0: ("exceptions", "strict_json", "http.asgi", "config", "events", "logs", "usernames"),
    1: ("base", "policies", "tokens", "passwords", "apikeys", "stores", "sessions.cookies",
        "sessions.csrf", "throttle", "lifetimes"),
    2: ("authenticator", "request_auth", "backends"),
    3: ("dependencies", "decorator", "sessions", "http", "middleware", "session"),
    4: ("", "websockets", "container", "factories", "install", "routes", "testing", "accounts",
        "pytest_plugin", "users", "cli", "__main__", "mfa", "oidc", "stores.sqlalchemy.users"),
}  # fmt: skip

#: modules that exist to drive an optional engine, and so may need it at import time
NEEDS_EXTRAS = {
    f"{PKG}.stores.sqlite",  # aiosqlite
    f"{PKG}.stores.sqlite_db",  # aiosqlite
    f"{PKG}.stores.redis",  # redis
    f"{PKG}.stores.sqlite_apikeys",  # aiosqlite (through stores.sqlite)
    f"{PKG}.stores.redis_apikeys",  # redis (through stores.redis)
    f"{PKG}.stores.sqlite_records",  # aiosqlite (through stores.sqlite)
    f"{PKG}.stores.redis_records",  # redis (through stores.redis)
    f"{PKG}.stores.revocation_cache",  # redis
    f"{PKG}.stores.redis_cluster",  # redis
    f"{PKG}.stores.redis_cluster_apikeys",  # redis (through stores.redis)
    f"{PKG}.http.throttling",  # limits: the rate limiter itself
}
BLOCKED = ("aiosqlite", "redis", "limits")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> set[str]:
    """Every package module ``module`` imports, at module level or inside functions,
    except under ``if TYPE_CHECKING:`` (never executed)."""
    mods = _modules()
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def target_of(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit_one(stmt)
                continue
            visit_one(child)

    def visit_one(node: ast.AST) -> None:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == PKG)
        elif isinstance(node, ast.ImportFrom):
            target = target_of(node)
            if target.split(".")[0] == PKG:
                for alias in node.names:  # ``from pkg import submodule`` imports the submodule
                    sub = f"{target}.{alias.name}"
                    found.add(sub if sub in mods else target)
        visit(node)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return {m for m in found if m in mods and m != module}


@cache
def _graph() -> dict[str, frozenset[str]]:
    return {m: frozenset(_imports(m, p)) for m, p in _modules().items()}


def _cycles(graph: dict[str, frozenset[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return components


def test_cycle_finder_finds_cycles() -> None:
    """The checker below can fail: a planted two-module and three-module cycle are found."""
    planted = {
        "a": frozenset({"b"}),
        "b": frozenset({"a"}),
        "c": frozenset({"d"}),
        "d": frozenset({"e"}),
        "e": frozenset({"c"}),
        "f": frozenset({"a"}),
    }
    assert _cycles(planted) == [["a", "b"], ["c", "d", "e"]]


def test_import_graph_sees_lazy_imports() -> None:
    """Function-level imports are edges (the checker is not blind to lazy imports), and
    ``if TYPE_CHECKING:`` imports are not."""
    graph = _graph()
    assert f"{PKG}.throttle" in graph[f"{PKG}.factories"]  # inside a function
    assert f"{PKG}.http.throttling" in graph[f"{PKG}.middleware"]  # inside PEP 562 __getattr__
    assert graph[PKG] == frozenset()  # the top level names modules only under TYPE_CHECKING


def test_no_import_cycles() -> None:
    """No two modules import each other, directly or through others, even lazily."""
    assert _cycles(_graph()) == []


def _layer(module: str) -> int | None:
    rel = module[len(PKG) + 1 :]
    matches = [
        (len(prefix), level)
        for level, prefixes in LAYERS.items()
        for prefix in prefixes
        if rel == prefix or (prefix and rel.startswith(prefix + "."))
    ]
    return max(matches)[1] if matches else None


def test_every_module_has_a_layer() -> None:
    """A new module must be placed in a layer (edit LAYERS) before it can be checked."""
    assert [m for m in _modules() if _layer(m) is None] == []


def test_layers_import_only_downward() -> None:
    """L0 exceptions/asgi/config ... L4 container/install/routes: no import goes up."""
    upward = [
        f"{m} (L{_layer(m)}) -> {t} (L{_layer(t)})"
        for m, targets in sorted(_graph().items())
        for t in sorted(targets)
        if (_layer(t) or 0) > (_layer(m) or 0)
    ]
    assert upward == []


_IMPORT_ALL = r"""
import importlib, importlib.abc, json, sys

BLOCKED = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"blocked for this test: {name}", name=name)
        return None

sys.meta_path.insert(0, Block())
result = {}
for name in json.loads(sys.argv[2]):
    try:
        importlib.import_module(name)
        result[name] = None
    except Exception as exc:
        result[name] = f"{type(exc).__name__}: {exc}"
result["_leaked"] = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps(result))
"""


def test_core_imports_without_optional_engines() -> None:
    """With aiosqlite, redis and limits missing, every module that is not an engine
    adapter imports; the adapters themselves do fail (so the block is real)."""
    names = sorted(_modules())
    run = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, ",".join(BLOCKED), json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    failed = {n: e for n, e in result.items() if n in names and e and n not in NEEDS_EXTRAS}
    assert failed == {}
    assert result["_leaked"] == []
    assert all(result[n] and "blocked" in result[n] for n in NEEDS_EXTRAS), result


def test_all_matches_exports_and_resolves() -> None:
    """``__all__`` is exactly the sorted lazy-export map, and every name loads."""
    exports = nexios_auth_di._EXPORTS
    assert nexios_auth_di.__all__ == sorted(exports)
    for name, module in exports.items():
        value = getattr(nexios_auth_di, name)
        assert value is getattr(importlib.import_module(f"{PKG}.{module}"), name), name


def _builtin_exceptions() -> set[str]:
    import builtins

    return {
        n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
    }


def _raised_name(node: ast.Raise) -> str | None:
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return exc.id if isinstance(exc, ast.Name) else None


def _allowed(name: str, function: str | None) -> bool:
    """The protocol-mandated cases: ``NotImplementedError`` in abstract methods and
    ``AttributeError`` from ``__getattr__`` (PEP 562 and proxy objects)."""
    return (name == "NotImplementedError" and function is not None) or (
        name == "AttributeError" and function == "__getattr__"
    )


def _builtin_raises(tree: ast.AST) -> list[tuple[int, str]]:
    builtin = _builtin_exceptions()
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if isinstance(child, ast.Raise) and child.exc is not None:  # bare raise: re-raise
                name = _raised_name(child)
                if name in builtin and not _allowed(name, inner):
                    found.append((child.lineno, name))
            visit(child, inner)

    visit(tree, None)
    return found


def test_builtin_raise_finder_can_fail() -> None:
    """The checker flags a planted ``raise ValueError`` and lets re-raises through."""
    planted = ast.parse(
        "def f():\n    raise ValueError('x')\n"
        "def g():\n    try:\n        pass\n    except OSError as exc:\n        raise\n"
        "def h():\n    raise NotImplementedError\n"
        "def __getattr__(name):\n    raise AttributeError(name)\n"
        "raise RuntimeError\n"
    )
    assert _builtin_raises(planted) == [(2, "ValueError"), (12, "RuntimeError")]


@pytest.mark.parametrize("module", sorted(m for m in _modules() if m != f"{PKG}.exceptions"))
def test_only_package_exceptions_are_raised(module: str) -> None:
    """Callers can catch ``AuthError`` for everything the package raises: no module
    raises a builtin exception (outside abstract methods and ``__getattr__``)."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    assert _builtin_raises(tree) == []


@pytest.mark.parametrize("module", sorted(_modules()))
def test_no_runtime_asserts(module: str) -> None:
    """``assert`` vanishes under ``python -O``: runtime checks must be explicit raises."""
    tree = ast.parse(_modules()[module].read_text(encoding="utf-8"))
    assert [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Assert)] == []
