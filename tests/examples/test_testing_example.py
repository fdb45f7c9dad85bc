"""Collects ``examples/testing/test_app.py`` (the example app's own test file) into the suite."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examples.testing.test_app import *  # noqa: F403
