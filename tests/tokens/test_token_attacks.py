"""Every row of ``attack_cases.ATTACKS`` is refused for the right reason; honest tokens pass."""

from __future__ import annotations

import pytest
from support.attack_cases import ATTACKS, AttackCase, AttackKit

from nexios_auth_di.exceptions import TokenError


async def _present(kit: AttackKit, case: AttackCase, token: object) -> object:
    if case.use == "refresh":
        return await kit.service.refresh(token)  # type: ignore[arg-type]
    return await kit.service.verify(token)  # type: ignore[arg-type]


def test_attack_table_is_large_and_unique() -> None:
    """The table keeps at least 60 distinct rows, each naming its rule."""
    ids = [case.id for case in ATTACKS]
    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)
    assert all(case.rule.strip() for case in ATTACKS)


async def test_honest_token_passes(kit: AttackKit) -> None:
    """Control row: the kit's honest token is accepted, so the suite can fail."""
    claims = await kit.service.verify(kit.honest())
    assert claims["sub"] == "alice"
    access, refresh = await kit.service.refresh(kit.service.create_refresh_token("alice"))
    assert (await kit.service.verify(access))["sub"] == "alice"
    assert refresh.count(".") == 2


@pytest.mark.parametrize("case", ATTACKS, ids=[case.id for case in ATTACKS])
async def test_attack_is_refused(kit: AttackKit, case: AttackCase) -> None:
    """A forged, malformed or replayed token never authenticates."""
    assert case.applies_to(kit)
    token = case.make(kit)
    if case.setup is not None:
        await case.setup(kit, token)  # type: ignore[arg-type]
    with pytest.raises(case.expect) as info:
        await _present(kit, case, token)
    assert isinstance(info.value, TokenError)
    if case.reasons:
        assert info.value.reason in case.reasons


@pytest.mark.parametrize("case", [c for c in ATTACKS if c.use == "access"], ids=lambda c: c.id)
async def test_attack_refused_again_after_honest_traffic(kit: AttackKit, case: AttackCase) -> None:
    """A refused row stays refused when asked twice (nothing bad gets cached)."""
    token = case.make(kit)
    if case.setup is not None:
        await case.setup(kit, token)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(TokenError):
            await kit.service.verify(token)  # type: ignore[arg-type]
    assert kit.service.verifier.cache_len <= 1
