"""Names a package exports but loads on first use (PEP 562), so importing it stays cheap.

>>> namespace = {"__name__": "example"}
>>> getter = lazy_names(namespace, {"sqrt": "math"})
>>> getter("sqrt")(9.0), "sqrt" in namespace
(3.0, True)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(namespace: dict[str, Any], table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that loads each name of ``table`` from its module on first use.

    Args:
        namespace: The package's ``globals()``: a loaded name is kept there, so the
            next use does not come back here.
        table: Each lazily exported name and the module that defines it.

    Returns:
        The function to assign to the package's ``__getattr__``.

    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
