"""@mentions: finding the members a comment names, and showing the names highlighted.

Names may contain spaces ("@Ana Lima"), so a mention is "@" followed by one of the
workspace's member names, longest first, compared without case, and ending at a word
boundary. Rendering escapes the text first and only wraps what matched in markup that
we write ourselves, so a comment can never inject HTML or htmx attributes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def _pattern(names: Iterable[str]) -> re.Pattern | None:
    alternatives = sorted({n for n in names if n.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    joined = "|".join(re.escape(n) for n in alternatives)
    return re.compile(rf"(?<![\w@])@({joined})(?!\w)", re.IGNORECASE)


def find_mentions(body: str, people: Iterable) -> list:
    """The people (objects with a ``name``) named with @ in ``body``, in order, once each."""
    by_name = {}
    for person in people:
        by_name.setdefault(person.name.casefold(), person)
    pattern = _pattern(person.name for person in by_name.values())
    if pattern is None:
        return []
    found: dict = {}
    for match in pattern.finditer(body):
        person = by_name[match.group(1).casefold()]
        found.setdefault(person.pk, person)
    return list(found.values())


def render_mentions(body: str, names: Iterable[str]) -> SafeString:
    """``body`` as safe HTML: escaped, with the given @names wrapped in a span."""
    pattern = _pattern(names)
    if pattern is None:
        return format_html("{}", body)
    parts: list[tuple[str, str]] = []
    position = 0
    for match in pattern.finditer(body):
        parts.append(("{}", body[position : match.start()]))
        parts.append(('<span class="mention">{}</span>', match.group(0)))
        position = match.end()
    parts.append(("{}", body[position:]))
    return format_html_join("", "{}", ((format_html(markup, text),) for markup, text in parts))
