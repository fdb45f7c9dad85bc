"""Suite-wide settings. Each area keeps its own fixtures in its folder's conftest."""

from __future__ import annotations

import logging

# Nexios 3.12 prints "Resolving dependency:" on every Depend; keep test logs readable.
logging.getLogger("nexios").setLevel(logging.WARNING)
