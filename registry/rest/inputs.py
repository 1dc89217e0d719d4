"""Request bodies and headers checked before anything is written.

JSON bodies are parsed with bounds, so that what cannot be processed is refused with a
400 Problem at the door rather than failing after a write: nesting deeper than
:data:`MAX_DEPTH` (processing it recursively would exhaust the stack), numbers written
with more than :data:`MAX_NUMBER_CHARS` characters (Python refuses integers of more than
4,300 digits with a ``ValueError``), and ``NaN``/``Infinity`` or overflowing floats (not
JSON, and not servable back as JSON). ``Location`` headers percent-encode ids, which may
hold any Unicode character an IRI allows.

>>> parse_json(b'{"a": [1, 2.5, "x"]}', "td")
{'a': [1, 2.5, 'x']}
>>> location("/things/", "urn:dev:lampe-éclairée")
'/things/urn:dev:lampe-%C3%A9clair%C3%A9e'
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import quote

from tinyreg.core.errors import ThingDescriptionError

__all__ = ["MAX_DEPTH", "MAX_NUMBER_CHARS", "json_depth", "location", "parse_json"]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in a JSON body."""

MAX_NUMBER_CHARS = 100
"""Longest number (its characters in the JSON text) accepted in a JSON body."""


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text (strings skipped).

    >>> json_depth('{"a": [[1], "[[["]}')
    3
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _number(text: str) -> str:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters (at most {MAX_NUMBER_CHARS})")
    return text


def _float(text: str) -> float:
    value = float(_number(text))
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} overflows a double")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, label: str) -> Any:
    """Parse a JSON request body within the bounds of this module.

    Args:
        raw: The body.
        label: What it is, for messages (an id, ``<anonymous TD>``).

    Returns:
        The parsed value.

    Raises:
        ThingDescriptionError: If it is not UTF-8 JSON or exceeds a bound.

    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ThingDescriptionError(label, None, f"not valid JSON: {exc}") from exc
    depth = json_depth(text)
    if depth > MAX_DEPTH:
        raise ThingDescriptionError(
            label, None, f"JSON nested {depth} levels deep (at most {MAX_DEPTH})"
        )
    try:
        return json.loads(
            text,
            parse_int=lambda t: int(_number(t)),
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise ThingDescriptionError(label, None, f"not valid JSON: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise ThingDescriptionError(label, None, f"not accepted: {exc}") from exc


def location(prefix: str, ident: str) -> str:
    """A ``Location`` header value for a resource under ``prefix``, its id percent-encoded."""
    return prefix + quote(ident, safe=":@!$&'()*+,;=-._~")
