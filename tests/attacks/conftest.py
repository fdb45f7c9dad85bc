"""Fixtures for the HTTP attack suites: the token attack rows are loaded from tests/tokens."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# Reuse tests/tokens/attack_cases.py (never copy its rows). Registered under the name the
# token suite uses, so a run of both directories shares one module and one key cache.
_CASES = Path(__file__).parents[1] / "tokens" / "attack_cases.py"
if "attack_cases" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("attack_cases", _CASES)
    assert _spec is not None
    assert _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["attack_cases"] = _module
    _spec.loader.exec_module(_module)
