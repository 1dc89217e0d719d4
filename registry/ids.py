"""The rule for model ids: slugs, so that a model's IRI and URL stay one path segment.

A model id is lowercase letters, digits, ``-``, ``.`` and ``_``, starting with a letter
or digit, at most 128 characters, without ``..``: ``../../x`` or ``a/b`` would give an
IRI no route can reach. Thing ids are IRIs, kept out of tinyreg's own graph names by
:func:`tinyreg.registry.td.reserved_id`.

>>> check_model_id("kws-dscnn-int8")
'kws-dscnn-int8'
>>> check_model_id("../../x")
Traceback (most recent call last):
...
tinyreg.core.errors.CardError: <model id>: field 'id': '../../x' is not a model id: ...
"""

from __future__ import annotations

import re

from tinyreg.core.errors import CardError

__all__ = ["MODEL_ID", "check_model_id"]

MODEL_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,127}")
"""Lowercase letters, digits, ``-``, ``.``, ``_``; 1 to 128 characters."""


def check_model_id(ident: str) -> str:
    """Return ``ident`` if it is a valid model id.

    Raises:
        CardError: If it is not (field ``id``); nothing was written.

    """
    if not MODEL_ID.fullmatch(ident) or ".." in ident:
        raise CardError(
            "<model id>",
            "id",
            f"{ident[:80]!r} is not a model id: use 1 to 128 lowercase letters, digits, "
            "'-', '.' or '_', starting with a letter or digit, without '..'",
        )
    return ident
