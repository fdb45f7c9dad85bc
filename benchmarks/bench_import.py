"""Import cost of ``nexios_auth_di`` over what an app imports anyway.

    python benchmarks/bench_import.py          (or: nox -s bench)

Each statement runs in a fresh interpreter and times itself (CPU time, ``process_time``,
around the statement: start-up is excluded, and other jobs on a shared machine inflate
it far less than wall time); statements are interleaved round by round and the figure
is the median of ROUNDS processes.

Bytecode: an installed wheel has its ``.pyc`` files, but this checkout may not
(``PYTHONDONTWRITEBYTECODE`` is set on some machines, and files being edited are
recompiled), so the children read and write bytecode under a private
``PYTHONPYCACHEPREFIX``, warmed by one untimed run: the "bytecode" columns are what an
installed app pays. The "source" column compiles this package from source on every
import (site-packages keep their own bytecode), as a checkout without ``.pyc`` does.

The baseline is Nexios plus our required dependencies. ``dependency_injector.containers``
gets its own row: any ``AuthContainer`` needs it, and its ``wiring`` module imports
FastAPI when FastAPI is installed (``nox -s bench`` installs it), which that row makes
visible; the "no FastAPI" columns hide it (``sys.modules["fastapi"] = None``), as in an
app without it. Goal (issue "One house"): first use (``from nexios_auth_di import
AuthContainer, install, current_user``) <= 15 ms over the baseline with containers.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "15"))
BASELINE = "import nexios, dependency_injector, jwt, argon2, itsdangerous, yaml"
CONTAINERS = BASELINE + ", dependency_injector.containers"
FIRST_USE = "from nexios_auth_di import AuthContainer, install, current_user"
ROWS = [
    ("baseline: nexios + required deps", BASELINE),
    ("baseline + dependency_injector.containers", CONTAINERS),
    ("import nexios_auth_di (alone)", "import nexios_auth_di"),
    ("baseline; import nexios_auth_di", BASELINE + "; import nexios_auth_di"),
    (FIRST_USE, FIRST_USE),
    (
        "first use + guide path (middleware, login_required)",
        FIRST_USE + ", login_required; import nexios_auth_di.middleware",
    ),
]
#: (column title, hide FastAPI, bytecode)
MODES = [
    ("bytecode", False, True),
    ("bc, no FastAPI", True, True),
    ("source, no FastAPI", True, False),
]
HIDE_FASTAPI = "import sys; sys.modules['fastapi'] = None\n"
#: the increment alone: baseline imported and its garbage collected before the timer
SETTLED = CONTAINERS + "\nimport gc\ngc.collect()\n"


def timed(statement: str, *, hide_fastapi: bool, env: dict[str, str], setup: str = "") -> float:
    """CPU ms the statement takes in a fresh interpreter, after an untimed ``setup``."""
    code = (
        (HIDE_FASTAPI if hide_fastapi else "")
        + setup
        + "import time\n_t = time.process_time()\n"
        + statement
        + "\nprint((time.process_time() - _t) * 1000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    return float(out.strip().splitlines()[-1])


def environments(prefix: str) -> dict[bool, dict[str, str]]:
    """Child environments by "bytecode?": a private pycache, or no bytecode for us."""
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.pop("PYTHONPYCACHEPREFIX", None)
    compiled = {**base, "PYTHONPYCACHEPREFIX": prefix}
    source = {**base, "PYTHONDONTWRITEBYTECODE": "1"}
    return {True: compiled, False: source}


def main() -> None:
    import importlib.util

    fastapi = importlib.util.find_spec("fastapi") is not None
    samples: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory() as prefix:
        envs = environments(prefix)
        for _, statement in ROWS:  # untimed: fills the private pycache
            timed(statement, hide_fastapi=False, env=envs[True])
        for _ in range(ROUNDS):
            for _, statement in ROWS:
                for title, hide, bytecode in MODES:
                    ms = timed(statement, hide_fastapi=hide, env=envs[bytecode])
                    samples.setdefault((statement, title), []).append(ms)
            for title, hide, bytecode in MODES:
                ms = timed(FIRST_USE, hide_fastapi=hide, env=envs[bytecode], setup=SETTLED)
                samples.setdefault(("settled", title), []).append(ms)
    med = {key: statistics.median(values) for key, values in samples.items()}
    spread = {key: (min(v), max(v)) for key, v in samples.items()}
    print(f"median of {ROUNDS} fresh processes, CPU ms (FastAPI installed: {fastapi}); "
          "each column: ms, then +/- over its own baseline")  # fmt: skip
    head = "".join(f" | {title:>18} {'+base':>6}" for title, _, _ in MODES)
    print(f"{'statement':62}{head}")
    for label, statement in ROWS:
        cells = ""
        for title, _, _ in MODES:
            ms = med[(statement, title)]
            cells += f" | {ms:18.1f} {ms - med[(BASELINE, title)]:+6.1f}"
        print(f"{label[:62]:62}{cells}")
    print("\nfirst use over baseline + dependency_injector.containers (goal <= 15 ms):")
    for title, _, _ in MODES:
        over = med[(FIRST_USE, title)] - med[(CONTAINERS, title)]
        low, high = spread[(FIRST_USE, title)]
        print(f"  {title:20} {over:+6.1f} ms   (first use alone: {low:.1f}-{high:.1f} ms)")
    print(
        "\nthe same increment timed alone, after the baseline is imported and gc.collect()"
        "\nhas run (the difference above includes a full collection that the baseline's"
        "\nobjects make due, which any next import pays):"
    )
    for title, _, _ in MODES:
        low, high = spread[("settled", title)]
        print(f"  {title:20} {med[('settled', title)]:6.1f} ms   [{low:.1f}-{high:.1f}]")


if __name__ == "__main__":
    main()
