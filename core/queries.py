"""The one loader of packaged SPARQL queries.

Every query lives in a ``queries/NAME.rq`` file of the package that runs it
(``tinyreg.registry`` or ``tinyreg.matchmaker``); values are bound by the store
(``substitutions``), never formatted into the text.

>>> "SELECT" in load_query("tinyreg.matchmaker", "verdicts")
True
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from tinyreg.core.errors import ConfigError

if TYPE_CHECKING:
    from rdflib.term import Node

__all__ = ["load_query", "values_block", "with_values"]


@cache
def load_query(package: str, name: str) -> str:
    """The text of ``queries/NAME.rq`` shipped with ``package``.

    Args:
        package: The dotted package that ships the query, e.g. ``tinyreg.registry``.
        name: The file stem.

    Raises:
        ConfigError: If the package ships no such query (an installation without its data).

    """
    entry = resources.files(package).joinpath("queries", f"{name}.rq")
    if not entry.is_file():
        raise ConfigError(f"no packaged query {name}.rq in {package}")
    return entry.read_text("utf-8")


def values_block(variable: str, terms: Iterable[Node]) -> str:
    """A ``VALUES`` block of terms (IRIs, literals) for one variable.

    >>> from rdflib import Literal, URIRef
    >>> values_block("x", [URIRef("urn:a"), Literal("b")])
    'VALUES ?x { <urn:a> "b" }'
    """
    return f"VALUES ?{variable} {{ {' '.join(term.n3() for term in terms)} }}"


def with_values(query: str, variable: str, terms: Iterable[Node]) -> str:
    """A query whose ``WHERE`` group starts with a ``VALUES`` block of terms for a variable.

    Oxigraph joins a leading ``VALUES`` block of one variable first, so the query starts
    from those values (a set of profiles, models, or SHA-256 digests).
    """
    return query.replace("WHERE {", f"WHERE {{ {values_block(variable, terms)}", 1)
