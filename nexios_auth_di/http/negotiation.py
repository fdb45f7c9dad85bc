"""``Accept`` negotiation: does this client want an HTML page or a JSON error?

Only one question is asked of the header, whether ``text/html`` ranks above
``application/json``, so guards can answer a browser navigation with a redirect to the
login page and keep the 401 for API clients. Quality values follow RFC 9110 §12.5.1:
each media type takes the q of the *most specific* range that matches it (``text/html``
beats ``text/*`` beats ``*/*``). A tie (``*/*``, no header) or a header that does not
parse is "not HTML": the JSON 401 is the safe answer for a client we cannot read.
"""

from __future__ import annotations

__all__ = ["MAX_ACCEPT_CHARS", "media_quality", "parse_accept", "prefers_html"]

#: longer headers are not parsed (a browser sends about 150 characters)
MAX_ACCEPT_CHARS = 2048
MAX_RANGES = 64

Range = tuple[str, str, float]  # (type, subtype, q)


def _quality(params: list[str]) -> float | None:
    """The ``q`` parameter of one range (1.0 when absent), or ``None`` when malformed."""
    for param in params:
        name, sep, value = param.partition("=")
        if name.strip().lower() != "q":
            continue
        value = value.strip()
        if not sep or not value or len(value) > 5:
            return None
        try:
            q = float(value)
        except ValueError:
            return None
        if not 0.0 <= q <= 1.0 or not value.replace(".", "", 1).isdigit():
            return None
        return q
    return 1.0


def parse_accept(header: str | None) -> list[Range] | None:
    """The ranges of an ``Accept`` header, or ``None`` when it is absent or malformed."""
    if header is None or not header.strip() or len(header) > MAX_ACCEPT_CHARS:
        return None
    ranges: list[Range] = []
    for item in header.split(","):
        if not item.strip():
            continue  # RFC 9110 §5.6.1: empty list elements are ignored
        media, *params = item.split(";")
        kind, slash, sub = media.strip().lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            return None
        q = _quality(params)
        if q is None:
            return None
        ranges.append((kind, sub, q))
        if len(ranges) > MAX_RANGES:
            return None
    return ranges or None


def media_quality(ranges: list[Range], media_type: str) -> float:
    """The q that ``ranges`` give ``media_type``: from the most specific matching range."""
    kind, _, sub = media_type.lower().partition("/")
    best_specificity, best_q = -1, 0.0
    for r_kind, r_sub, q in ranges:
        if r_kind == kind and r_sub == sub:
            specificity = 2
        elif r_kind == kind and r_sub == "*":
            specificity = 1
        elif r_kind == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, best_q = specificity, q
    return best_q


def prefers_html(header: str | None) -> bool:
    """True when ``text/html`` is acceptable and ranks strictly above ``application/json``.

    ``text/html,...,*/*;q=0.8`` (a browser navigation) is True; ``application/json``,
    ``*/*``, no header and a malformed header are False.
    """
    ranges = parse_accept(header)
    if ranges is None:
        return False
    html = media_quality(ranges, "text/html")
    return html > 0.0 and html > media_quality(ranges, "application/json")
