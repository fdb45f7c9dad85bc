"""Usernames: the one uniqueness key, and the rules a new name must pass.

The key (``username_key``) is NFKC + full case folding, Unicode's NFKC_Casefold without
the ignorable-stripping (names holding ignorables are refused instead), in the spirit of
RFC 8265's UsernameCaseMapped profile: "ａｄａ", "ADA" and "𝐚𝐝𝐚" are all the account
"ada". The repositories key by it and ``LoginThrottle`` counts failures under it, so a
width or case variant can neither register a twin nor dodge the per-account backoff.

``enforce_username`` is applied at registration. It refuses (400, with a reason naming
the offending code point) what renders invisibly or misleadingly:

* controls, format characters (ZWJ, U+202E), private-use, unassigned code points and
  default-ignorable fillers (RFC 8264 §9; UTS #39 §3.1);
* all whitespace, inside as well as around the name: RFC 8265 builds usernames on the
  IdentifierClass, which has no spaces, and "a da" next to "a  da" is a trap;
* anything outside RFC 8264's LetterDigits plus printable ASCII (emoji, non-ASCII
  punctuation and symbols), judged on the NFKC form;
* a leading combining mark, or a pile of them (RFC 5891 §5.4; UTS #39 §5.4);
* unless ``usernames.allow_mixed_scripts``: letters from two scripts ("pаypal" with a
  Cyrillic а; UTS #39 §5.1), except the CJK writing systems (Han with Kana, Hangul or
  Bopomofo, and Latin; UTS #39 §5.2), and a name written wholly in non-Latin letters
  that all look like Latin ones ("аԁа"; UTS #39 §4 whole-script confusables, for the
  common look-alikes only).

Scripts come from ``unicodedata`` (the first word of a character's name), not from a
new dependency: rough at the edges of rare scripts, exact for the look-alikes that
matter. Not done: the RFC 5893 bidi rule (RTL names mixed with Latin are refused as
mixed scripts) and the full confusables table. A name is stored in its NFKC form (width
mapped, case kept). Unassigned code points are refused, so an accepted name's key is
stable across Python's Unicode upgrades (normalisation stability policy).
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING

from nexios_auth_di.exceptions import BadRequest

if TYPE_CHECKING:
    from nexios_auth_di.config import UsernameSettings

__all__ = ["enforce_username", "script_of", "scripts_of", "username_key"]

MAX_MARKS = 4  # UTS #39 §5.4: more nonspacing marks than this on one base is refused
COMMON = "COMMON"
INHERITED = "INHERITED"

#: writing systems that mix scripts by nature, each with Latin (UTS #39 §5.2 "Highly
#: Restrictive"): a name may use any one of these sets, never letters from two sets
CJK_SETS = (
    frozenset({"LATIN", "CJK", "HIRAGANA", "KATAKANA"}),  # Japanese
    frozenset({"LATIN", "CJK", "HANGUL"}),  # Korean
    frozenset({"LATIN", "CJK", "BOPOMOFO"}),  # Chinese with phonetic annotation
)
_SCRIPT_ALIASES = {"IDEOGRAPHIC": "CJK", "MODIFIER": COMMON, "COMBINING": INHERITED}

#: default-ignorable code points that are not format (Cf) characters: they render as
#: nothing, so "ada" + one of them is an invisible twin (UTS #39 §3.1), plus the blank
#: braille pattern, which renders as a space
INVISIBLE = frozenset(
    (0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800,
     0x3164, 0xFFA0, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))
)  # fmt: skip

#: lower-case letters of other scripts that pass for Latin ones (a subset of UTS #39
#: confusables.txt); a name made only of these passes for a Latin name
LATIN_LOOKALIKES = frozenset(
    "аеорсухѕіјԁһԛԝӏүѵ"  # Cyrillic
    "ονιαρυϲϳγ"  # Greek
    "օսհոցզ"  # Armenian
)

_CATEGORY_REASONS = {
    "Cc": ("control character", "username_control"),
    "Cs": ("control character", "username_control"),
    "Cf": ("invisible format character", "username_format"),
    "Co": ("private-use character", "username_private_use"),
    "Cn": ("unassigned code point", "username_unassigned"),
    "Zs": ("whitespace", "username_whitespace"),
    "Zl": ("whitespace", "username_whitespace"),
    "Zp": ("whitespace", "username_whitespace"),
}
_LETTER_DIGITS = frozenset({"Ll", "Lu", "Lo", "Lm", "Mn", "Mc", "Nd"})  # RFC 8264 §9.1


def username_key(username: str) -> str:
    """The form uniqueness, lookup and login throttling use: NFKC_Casefold.

    Folding twice around NFKD (Unicode §3.13, R5) makes the key a fixed point: keying a
    key never changes it, which a stored, indexed column needs.
    """
    once = unicodedata.normalize("NFKD", unicodedata.normalize("NFD", username.strip()).casefold())
    return unicodedata.normalize("NFKC", once.casefold())


def script_of(ch: str) -> str:
    """A character's script, from the first word of its Unicode name: ``LATIN``,
    ``CYRILLIC``, ``CJK``...; ``COMMON`` for ASCII digits and punctuation, ``INHERITED``
    for generic combining marks."""
    if ch.isascii() and not ch.isalpha():
        return COMMON
    name = unicodedata.name(ch, "")
    if not name:
        return "UNKNOWN"
    if name.startswith("DIGIT "):
        return COMMON
    word = name.split(" ", 1)[0].split("-", 1)[0]
    return _SCRIPT_ALIASES.get(word, word)


def scripts_of(text: str) -> frozenset[str]:
    """The scripts ``text`` is written in, leaving out common and inherited ones."""
    return frozenset(script_of(ch) for ch in text) - {COMMON, INHERITED}


def _refuse(what: str, reason: str, ch: str | None = None) -> BadRequest:
    where = "" if ch is None else f" (U+{ord(ch):04X})"
    return BadRequest(f"Username must not contain {what}{where}.", reason=reason)


def _check_characters(raw: str, name: str) -> None:
    for ch in raw:  # before NFKC: it would turn some of these into others
        found = _CATEGORY_REASONS.get(unicodedata.category(ch))
        if found is not None:
            raise _refuse(*found, ch)
        if ord(ch) in INVISIBLE:
            raise _refuse("invisible characters", "username_invisible", ch)
    for ch in name:  # the NFKC form: what is stored and shown
        category = unicodedata.category(ch)
        if ch.isspace() or category.startswith("Z"):
            raise _refuse("whitespace", "username_whitespace", ch)
        if ord(ch) in INVISIBLE:
            raise _refuse("invisible characters", "username_invisible", ch)
        if category not in _LETTER_DIGITS and not (ch.isascii() and ch.isprintable()):
            raise BadRequest(
                f"Username may hold only letters, digits and ASCII punctuation "
                f"(U+{ord(ch):04X} is not allowed).",
                reason="username_disallowed",
            )


def _check_marks(name: str) -> None:
    if unicodedata.category(name[0]).startswith("M"):
        raise BadRequest("Username must not start with a combining mark.", reason="username_mark")
    run, previous = 0, ""
    for ch in unicodedata.normalize("NFD", name):
        if not unicodedata.category(ch).startswith("M"):
            run, previous = 0, ""
            continue
        run += 1
        if run > MAX_MARKS or ch == previous:
            raise BadRequest(
                "Username has too many combining marks on one letter.", reason="username_marks"
            )
        previous = ch


def _check_scripts(name: str) -> None:
    scripts = scripts_of(name)
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in CJK_SETS):
        listed = ", ".join(sorted(s.title() for s in scripts))
        raise BadRequest(
            f"Username mixes scripts ({listed}); write it in one script.",
            reason="username_mixed_scripts",
        )
    if scripts and scripts != {"LATIN"}:
        letters = [ch for ch in username_key(name) if script_of(ch) not in (COMMON, INHERITED)]
        if all(ch in LATIN_LOOKALIKES for ch in letters):
            (script,) = scripts
            raise BadRequest(
                f"Username uses only {script.title()} letters that look like Latin ones; "
                "it could pass for another name.",
                reason="username_whole_script_confusable",
            )


def enforce_username(username: str, rules: UsernameSettings) -> str:
    """The name to store (NFKC: width mapped, case kept), or ``BadRequest`` (400) naming
    what is wrong with it. Registration calls this; login only looks the key up."""
    name = unicodedata.normalize("NFKC", username)
    _check_characters(username, name)
    if not name:
        raise BadRequest("Username must not be empty.", reason="username_empty")
    _check_marks(name)
    if len(name) < rules.min_length:
        raise BadRequest(
            f"Username must be at least {rules.min_length} characters.", reason="username_short"
        )
    if len(name) > rules.max_length:
        raise BadRequest(
            f"Username must be at most {rules.max_length} characters.", reason="username_long"
        )
    if not rules.allow_mixed_scripts:
        _check_scripts(name)
    return name
