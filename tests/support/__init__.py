"""Helpers shared by more than one test folder (importable as ``support``: pytest puts
``tests/`` on ``sys.path``, see ``pythonpath`` in pyproject.toml).

- ``support.clock``: ``FakeClock``, the suite's one fake clock.
- ``support.attack_cases``: forged, malformed and replayed tokens as data rows.
- ``support.redis_server``: a Redis URL never skipped in CI, and throwaway redis-servers.
- ``support.postgres_server``: a PostgreSQL URL never skipped in CI, and private clusters.
"""

from support.clock import EPOCH, FakeClock

__all__ = ["EPOCH", "FakeClock"]
