"""Reading an embedded store through pyoxigraph alone, answers as plain Python values.

The full store layer (:mod:`tinyreg.core.stores.base`) exchanges rdflib terms and graphs,
and rdflib takes a third of a second to import. A command that only reads a few rows
(``tinyreg list``, ``tinyreg show``) opens the store directory read-only with
:class:`PlainReader` instead: no lock is taken (a running server or another command may
hold it), and rows come back as the same Python values rdflib's ``Literal.toPython``
gives (:func:`plain_term`), so both paths print the same answer.

Nothing here imports rdflib; ``tests/test_cli.py`` checks that ``tinyreg list`` does not
load it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeAlias

import pyoxigraph as ox

from tinyreg.core.errors import QueryError, StoreError
from tinyreg.core.iris import XSD_INTEGER_TYPES, XSD_IRI

__all__ = ["PlainReader", "PlainTerm", "is_store_directory", "open_error", "plain_term"]

PlainTerm: TypeAlias = "ox.NamedNode | ox.Literal"
"""A value a :class:`PlainReader` query can be bound to: an IRI or a literal."""

_FLOATS = frozenset((XSD_IRI + "double", XSD_IRI + "float"))
_STRINGS = frozenset((XSD_IRI + "string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"))


def plain_term(term: object) -> Any:
    """A pyoxigraph term as the Python value rdflib's ``toPython`` gives for it.

    IRIs and blank nodes become their text; ``xsd:integer`` (and its derived types)
    ``int``, ``xsd:double``/``xsd:float`` ``float``, ``xsd:decimal`` ``Decimal``,
    ``xsd:boolean`` ``bool`` (``true``/``1``); strings and any other datatype the
    lexical form (what rdflib's literal prints).

    >>> plain_term(ox.Literal("042", datatype=ox.NamedNode(XSD_IRI + "integer")))
    42
    >>> plain_term(ox.Literal("1", datatype=ox.NamedNode(XSD_IRI + "boolean")))
    True
    >>> plain_term(ox.NamedNode("https://w3id.org/tinyreg#Model"))
    'https://w3id.org/tinyreg#Model'
    """
    if not isinstance(term, ox.Literal):
        return getattr(term, "value", str(term))
    lexical, datatype = term.value, term.datatype.value
    if datatype in _STRINGS:
        return lexical
    try:
        if datatype in XSD_INTEGER_TYPES:
            return int(lexical)
        if datatype in _FLOATS:
            return float(lexical)
        if datatype == XSD_IRI + "decimal":
            return Decimal(lexical)
    except (ValueError, InvalidOperation):
        return lexical  # ill-typed: rdflib keeps the literal, which prints as its lexical form
    if datatype == XSD_IRI + "boolean":
        return lexical.lower() in ("true", "1")
    return lexical


def open_error(exc: OSError) -> str:
    """Explain why a store directory could not be opened.

    Args:
        exc: The error raised by pyoxigraph.

    Returns:
        A message for :class:`~tinyreg.core.errors.StoreError`.

    """
    text = str(exc)
    if "lock" in text.lower():
        return (
            "the store directory is locked by another open store (an embedded store can be "
            "used by one process at a time; serve it with `oxigraph serve` to share it): "
            f"{text}"
        )
    return f"cannot open the store directory: {text}"


def is_store_directory(path: str | os.PathLike[str]) -> bool:
    """Whether a path is a directory holding an embedded store (RocksDB's ``CURRENT``)."""
    return (Path(path) / "CURRENT").is_file()


class PlainReader:
    """An embedded store directory opened read-only, queried over the union of its graphs.

    The store is opened without its lock (pyoxigraph ``Store.read_only``): it sees every
    transaction committed before it was opened, never half of one, and none after.

    Args:
        path: The store directory (it must hold a store: see :func:`is_store_directory`).

    Raises:
        StoreError: The directory holds no readable store.

    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.label = str(path)
        try:
            self._store: ox.Store | None = ox.Store.read_only(self.label)
        except OSError as exc:
            raise StoreError(self.label, open_error(exc)) from exc

    def _db(self) -> ox.Store:
        if self._store is None:
            raise StoreError(self.label, "the store is closed")
        return self._store

    def _run(self, sparql: str, bindings: Mapping[str, PlainTerm] | None) -> object:
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]
        substitutions = {ox.Variable(name): term for name, term in (bindings or {}).items()}
        try:
            return self._db().query(
                sparql, use_default_graph_as_union=True, substitutions=substitutions or None
            )
        except SyntaxError as exc:
            raise QueryError(str(exc.msg or exc)) from exc
        except OSError as exc:
            raise StoreError(self.label, f"query failed: {exc}") from exc
        except (RuntimeError, ValueError, TypeError) as exc:
            # Oxigraph substitutes only projected variables: the packaged queries
            # this reader runs project every variable they are bound by
            raise QueryError(str(exc)) from exc

    def select(
        self, sparql: str, bindings: Mapping[str, PlainTerm] | None = None
    ) -> list[dict[str, Any]]:
        """Run a ``SELECT`` query; one dict of plain values per row, unbound variables absent.

        Args:
            sparql: The query.
            bindings: Values of projected variables (pyoxigraph IRIs or literals).

        Raises:
            QueryError: The query is not a valid ``SELECT`` query, or binds a variable
                it does not project.
            StoreError: Reading the store failed.

        """
        result = self._run(sparql, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        names = [variable.value for variable in result.variables]
        rows: list[dict[str, Any]] = []
        try:
            for solution in result:
                row: dict[str, Any] = {}
                for index, name in enumerate(names):
                    term = solution[index]
                    if term is not None:
                        row[name] = plain_term(term)
                rows.append(row)
        except OSError as exc:
            raise StoreError(self.label, f"query failed: {exc}") from exc
        return rows

    def ask(self, sparql: str, bindings: Mapping[str, PlainTerm] | None = None) -> bool:
        """Run an ``ASK`` query.

        Raises:
            QueryError: The query is not a valid ``ASK`` query.
            StoreError: Reading the store failed.

        """
        result = self._run(sparql, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def close(self) -> None:
        """Let go of the store."""
        self._store = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
