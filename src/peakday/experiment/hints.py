"""Small text helpers shared by the spec checks: close matches, lists of choices, quoting."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

_MAX_QUOTE_CHARS = 60


def closest(word: object, choices: Iterable[str]) -> str | None:
    """The choice most like `word`, when one is close enough to be a likely typo."""
    matches = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """The sentence "Did you mean 'spawn_rate'? " when a choice is close to `word`, else ''."""
    match = closest(word, choices)
    return f"Did you mean {match!r}? " if match else ""


def one_of(choices: Iterable[str]) -> str:
    """'a, b or c'."""
    return _join(list(choices), "or")


def all_of(items: Iterable[str]) -> str:
    """'a, b and c'."""
    return _join(list(items), "and")


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def quote(value: object) -> str:
    """repr(value), shortened so a whole mapping pasted by mistake keeps the message readable."""
    text = repr(value)
    if len(text) > _MAX_QUOTE_CHARS:
        return text[: _MAX_QUOTE_CHARS - 3] + "..."
    return text


def sentence(text: str) -> str:
    """Capitalise the first letter and end with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
