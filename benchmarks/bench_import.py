"""Import cost of ``nexios_auth_di`` over what an app imports anyway.

    python benchmarks/bench_import.py          (or: nox -s bench)

Each statement runs in a fresh interpreter and times itself (CPU time, ``process_time``,
around the statement: start-up is excluded, and other jobs on a shared machine inflate
it far less than wall time); statements are interleaved round by
round and the figure is the median of ROUNDS processes. The baseline is Nexios plus our
required dependencies. ``dependency_injector.containers`` gets its own row: any
``AuthContainer`` needs it, and its ``wiring`` module imports FastAPI when FastAPI is
installed (``nox -s bench`` installs it), which that row makes visible. The second
column hides FastAPI (``sys.modules["fastapi"] = None``), as in an app without it.
Goal (issue "One house"): first use (``from nexios_auth_di import AuthContainer,
install, current_user``) <= 15 ms over the baseline.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

ROUNDS = int(os.environ.get("BENCH_IMPORT_ROUNDS", "15"))
BASELINE = "import nexios, dependency_injector, jwt, argon2, itsdangerous, yaml"
CONTAINERS = BASELINE + ", dependency_injector.containers"
ROWS = [
    ("baseline: nexios + required deps", BASELINE),
    ("baseline + dependency_injector.containers", CONTAINERS),
    ("import nexios_auth_di", "import nexios_auth_di"),
    ("import nexios_auth_di + baseline", BASELINE + "; import nexios_auth_di"),
    (
        "from nexios_auth_di import AuthContainer, install, current_user",
        "from nexios_auth_di import AuthContainer, install, current_user",
    ),
    (
        "first use, then the guide path (middleware, login_required)",
        "from nexios_auth_di import AuthContainer, install, current_user, login_required; "
        "import nexios_auth_di.middleware",
    ),
]
HIDE_FASTAPI = "import sys; sys.modules['fastapi'] = None\n"


def timed(statement: str, *, hide_fastapi: bool) -> float:
    """CPU ms the statement takes in a fresh interpreter."""
    code = (
        (HIDE_FASTAPI if hide_fastapi else "")
        + "import time\n_t = time.process_time()\n"
        + statement
        + "\nprint((time.process_time() - _t) * 1000)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    try:
        import importlib.util

        fastapi = importlib.util.find_spec("fastapi") is not None
    except ValueError:
        fastapi = False
    samples: dict[tuple[str, bool], list[float]] = {}
    for _ in range(ROUNDS):
        for _, statement in ROWS:
            for hide in (False, True):
                samples.setdefault((statement, hide), []).append(
                    timed(statement, hide_fastapi=hide)
                )
    med = {key: statistics.median(values) for key, values in samples.items()}
    base = {hide: med[(BASELINE, hide)] for hide in (False, True)}
    print(f"median of {ROUNDS} fresh processes, CPU ms (FastAPI installed: {fastapi})")
    print(f"{'statement':62} {'ms':>7} {'+base':>7} | {'no FastAPI':>10} {'+base':>7}")
    for label, statement in ROWS:
        a, b = med[(statement, False)], med[(statement, True)]
        print(f"{label:62} {a:7.1f} {a - base[False]:+7.1f} | {b:10.1f} {b - base[True]:+7.1f}")
    first = "from nexios_auth_di import AuthContainer, install, current_user"
    for hide in (False, True):
        over = med[(first, hide)] - med[(CONTAINERS, hide)]
        note = "FastAPI hidden" if hide else "as installed"
        print(f"first use over baseline + containers ({note}): {over:+.1f} ms (goal <= 15)")


if __name__ == "__main__":
    main()
