"""Login-throttle keys live under the store namespace."""

from __future__ import annotations

import pytest
from limits.aio.storage import MemoryStorage

from nexios_auth_di.exceptions import Throttled
from nexios_auth_di.http.throttling import LoginThrottle


async def test_apps_sharing_a_storage_keep_separate_counters():
    """Two apps on one storage (one Redis) with different namespaces don't throttle
    each other's users."""
    shared = MemoryStorage()
    a = LoginThrottle(shared, per_account=(1, 60), namespace="app-a")
    b = LoginThrottle(shared, per_account=(1, 60), namespace="app-b")
    await a.failed("eve", "10.0.0.1")
    await a.failed("eve", "10.0.0.1")
    with pytest.raises(Throttled):
        await a.check("eve", "10.0.0.1")
    await b.check("eve", "10.0.0.1")  # untouched namespace: not throttled
