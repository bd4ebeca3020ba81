"""Refuse JSON that parses but cannot be used safely.

`json.loads` raises RecursionError on documents nested about a thousand levels deep (the
exact depth depends on the stack in use) and ValueError on integers longer than 4,300
digits; a string may hold U+0000, which PostgreSQL cannot store, or a lone surrogate
(`"\\ud800"`), which cannot be encoded as UTF-8 at all. Every such body is refused as
malformed before anything else reads it, with a fixed depth limit far below the
interpreter's, so that no later step (signature, validation, storage) meets it.
"""

from __future__ import annotations

import json
from typing import Any

# No document the API or the providers define comes near this depth.
MAX_DEPTH = 32


class HostileJson(ValueError):
    """The text is JSON a gateway cannot safely use; the message says why."""


def loads(text: str | bytes) -> Any:
    """json.loads, refusing what `check` refuses; a plain syntax error stays a ValueError
    (json.JSONDecodeError), so callers keep telling "not JSON" apart."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise HostileJson(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise HostileJson(f"unreadable number: {str(exc)[:60]}") from None
    check(document)
    return document


def check(document: Any) -> None:
    """Walk the document without recursion; refuse depth, U+0000 and lone surrogates."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise HostileJson(f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(value, dict):
                for key, item in value.items():
                    check_text(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in value)


def check_text(value: str) -> None:
    if "\x00" in value:
        raise HostileJson("a string holds U+0000")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise HostileJson("a string holds a lone surrogate") from None
