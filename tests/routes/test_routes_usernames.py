"""Usernames through /auth/register: look-alikes collide or are refused, invisible and
control characters are refused with a clear 400, and plain names in any one script work."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from route_helpers import PASSWORD, Env

#: (id, submitted name, status, fragment of the 400 detail or None, the rule it covers);
#: "ada" is registered first, so a look-alike that maps onto it gets 409.
ATTACKS = [
    ("fullwidth", "ａｄａ", 409, None, "RFC 8265 §3.3.1 width mapping (NFKC)"),
    ("fullwidth upper", "ＡＤＡ", 409, None, "RFC 8265 §3.3.1 width + case mapping"),
    ("case variant", "ADA", 409, None, "RFC 8265 §3.3.2 UsernameCaseMapped"),
    ("math bold", "𝐚𝐝𝐚", 409, None, "NFKC compatibility mapping (UAX #15)"),
    ("cyrillic a", "аda", 400, "mixes scripts", "UTS #39 §5.1 single-script restriction"),
    ("greek omicron", "bοb", 400, "mixes scripts", "UTS #39 §5.1 single-script restriction"),
    ("latin+cyrillic", "\u0440aypal", 400, "mixes scripts", "UTS #39 §5.1; OWASP homograph"),
    ("latin+arabic", "adaب", 400, "mixes scripts", "UTS #39 §5.1 single-script restriction"),
    ("latin+cyrillic+han", "аda山", 400, "mixes scripts", "UTS #39 §5.2 highly restrictive"),
    ("han+hangul+kana", "山김やま", 400, "mixes scripts", "UTS #39 §5.2 highly restrictive"),
    ("whole-script cyrillic", "аԁа", 400, "look like Latin", "UTS #39 §4 whole-script confusable"),
    ("whole-script greek", "ονο", 400, "look like Latin", "UTS #39 §4 whole-script confusable"),
    ("zero-width joiner", "a\u200dda", 400, "format character", "RFC 8264 §9.8 CONTEXTJ; UTS #39"),
    ("zero-width non-joiner", "ad\u200ca", 400, "format character", "RFC 8264 §9.8 CONTEXTJ"),
    ("zero-width space", "a\u200bda", 400, "format character", "UTS #39 §3.1 default-ignorable"),
    ("rtl override", "ada\u202etxt", 400, "format character", "CVE-2021-42574 Trojan Source"),
    ("soft hyphen", "a\u00adda", 400, "format character", "RFC 8264 §9.12 (Cf disallowed)"),
    ("bom", "\ufeffada", 400, "format character", "RFC 8264 §9.12 (Cf disallowed)"),
    ("nul", "ada\x00", 400, "control character", "RFC 8264 §9.12 Controls"),
    ("tab", "a\tda", 400, "control character", "RFC 8264 §9.12 Controls"),
    ("newline (log forging)", "ada\nadmin", 400, "control character", "OWASP log injection"),
    ("inner space", "a da", 400, "whitespace", "RFC 8265 §3.3 IdentifierClass: no spaces"),
    ("leading space", " ada", 400, "whitespace", "RFC 8265 §3.3 IdentifierClass: no spaces"),
    ("no-break space", "ada\u00a0", 400, "whitespace", "RFC 8264 §9.14 Spaces"),
    ("ideographic space", "ada\u3000", 400, "whitespace", "RFC 8264 §9.14 Spaces"),
    ("hangul filler", "ada\u3164", 400, "invisible", "UTS #39 §3.1 default-ignorable"),
    ("variation selector", "ada\ufe0f", 400, "invisible", "UTS #39 §3.1 default-ignorable"),
    ("braille blank", "ada\u2800", 400, "invisible", "UTS #39 restriction: blank glyph"),
    ("combining marks only", "\u0301\u0301", 400, "combining mark", "RFC 5891 §5.4"),
    ("leading combining mark", "\u0301ada", 400, "combining mark", "RFC 5891 §5.4"),
    (
        "stacked marks (zalgo)",
        "a" + "\u0301\u0300\u0302\u0303\u0304",
        400,
        "combining marks",
        "UTS #39 §5.4 excessive nonspacing marks",
    ),
    ("unassigned", "ad\u0378a", 400, "unassigned", "RFC 8264 §9.10 Unassigned"),
    ("private use", "ada\ue000", 400, "private-use", "RFC 8264 §9.13 (not LetterDigits)"),
    ("emoji", "ada\U0001f600", 400, "not allowed", "RFC 8264 §9.11 Symbols (IdentifierClass)"),
    ("non-ASCII punctuation", "ada\u2022", 400, "not allowed", "RFC 8264 §9.12 Punctuation"),
    ("too long", "a" * 65, 400, "at most 64", "usernames.max_length (OWASP input limits)"),
]


@pytest.mark.parametrize(
    ("case", "name", "status", "fragment", "rule"), ATTACKS, ids=[a[0] for a in ATTACKS]
)
def test_register_refuses_lookalike_and_invisible_names(
    env: Env, case: str, name: str, status: int, fragment: str | None, rule: str
) -> None:
    """Each attack row is refused (409 as the same account as "ada", or 400 with a clear
    reason), never stored as a second account that looks like "ada"."""
    env.register("ada")
    response = env.client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code == status, (rule, response.text)
    if fragment is not None:
        assert fragment in response.json()["detail"], (rule, response.text)


ACCEPTED = [
    ("precomposed accent", "José", "José"),
    ("decomposed accent is composed (NFKC)", "Jose\u0301", "José"),
    ("fullwidth is stored in its plain form", "ｂｏｂ", "bob"),
    ("cyrillic only", "Мария", "Мария"),
    ("greek only", "Ελένη", "Ελένη"),
    ("han + hiragana (Japanese)", "やまだ太郎", "やまだ太郎"),
    ("hangul + han (Korean)", "김철수金", "김철수金"),
    ("latin + kana + han (UTS #39 highly restrictive)", "taroやまだ山田", "taroやまだ山田"),
    ("ascii punctuation", "ada.lovelace_1-2", "ada.lovelace_1-2"),  # "@": own address only
    ("one character", "x", "x"),
    ("exactly 64", "a" * 64, "a" * 64),
]


@pytest.mark.parametrize(("case", "name", "stored"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_register_accepts_names_in_one_script(env: Env, case: str, name: str, stored: str) -> None:
    """Ordinary names in one script (or a CJK writing system) register, stored in their
    NFKC form, and their owner logs in by any width or case of them."""
    assert env.register(name)["username"] == stored
    assert (
        env.client.post(
            "/auth/login", json={"username": stored.upper(), "password": PASSWORD}
        ).status_code
        == 200
    )


def test_fullwidth_login_reaches_the_same_account(env: Env) -> None:
    """ "ａｄａ" at login is the account "ada": one key for lookup and uniqueness."""
    ada = env.register("ada")
    tokens = env.login("ａｄａ")
    me = env.me(Authorization=f"Bearer {tokens['access_token']}")
    assert me.json()["id"] == ada["id"]


def test_mixed_scripts_can_be_allowed(make_env: Callable[..., Env]) -> None:
    """``usernames.allow_mixed_scripts: true`` lets an operator accept mixed names."""
    env = make_env(usernames={"allow_mixed_scripts": True})
    env.register("ada")
    assert env.register("аda")["username"] == "аda"
    assert env.register("аԁа")["username"] == "аԁа"


@pytest.mark.parametrize(
    ("limits", "name", "fragment"),
    [({"max_length": 8}, "abcdefghi", "at most 8"), ({"min_length": 3}, "ab", "at least 3")],
)
def test_length_limits_come_from_settings(
    make_env: Callable[..., Env], limits: dict[str, int], name: str, fragment: str
) -> None:
    """``usernames.min_length`` / ``max_length`` bound the NFKC form, with a clear 400."""
    env = make_env(usernames=limits)
    response = env.client.post("/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
