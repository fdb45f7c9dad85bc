"""Opt-in workarounds for measured bugs of Nexios 3.12 (see DESIGN.md §3).

Nothing here runs unless the app calls it: each one changes Nexios's behaviour for the
whole process, so it must be a visible decision at bootstrap.
"""

from __future__ import annotations

from typing import Any

__all__ = ["silence_dependency_print"]


def _quiet(*args: Any, **kwargs: Any) -> None:
    return None


def silence_dependency_print() -> None:
    """Stop ``nexios.dependencies`` printing "Resolving dependency:" on every ``Depend``.

    Nexios 3.12.3 calls ``print`` once per dependency per request: noise in logs and a
    stdout write on the hot path. This shadows ``print`` in that module only.
    """
    import nexios.dependencies as deps

    deps.print = _quiet
