"""What tinyreg checks in a user's SPARQL query text before a store sees it.

Three things, shared by every path that runs a user's query (``tinyreg query``,
:meth:`tinyreg.registry.Registry.query`, ``/search/sparql``):

* **Predeclared prefixes.** The project's prefixes (:data:`~tinyreg.core.namespaces.PREFIXES`)
  may be used undeclared. :func:`with_prefixes` writes the missing declarations on the
  query's *first line*, before the user's text, so line numbers of parser errors are the
  user's own; :func:`relocate_error` moves the columns of first-line errors back.
* **Federation.** A ``SERVICE`` clause makes the store send HTTP requests wherever the
  query says, the server's own loopback included (server-side request forgery). It is
  refused unless federation is allowed, and then only towards endpoints of an allow-list
  (:func:`check_federation`). A lexer, which skips strings, IRIs and comments, finds the
  ``SERVICE`` keyword; when it is there, the query is parsed (rdflib's SPARQL 1.1
  grammar) to read each clause's endpoint, prefixes resolved. A query that mentions the
  keyword but cannot be parsed is refused.
* **Parser messages a user can read** (:func:`friendly_syntax_error`): an unknown prefix is
  named, and the grammar's lists of expected tokens are cut short.

>>> text, shift = with_prefixes("SELECT * WHERE { ?s a tr:Model }")
>>> text.count(chr(10)), text.endswith("SELECT * WHERE { ?s a tr:Model }")
(0, True)
>>> service_endpoints("SELECT * WHERE { ?s ?p 'SERVICE <http://x/>' } # SERVICE")
[]
>>> service_endpoints("SELECT * { SERVICE <http://127.0.0.1:7878/> { ?s ?p ?o } }")
['http://127.0.0.1:7878/']
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from tinyreg.core.errors import FederationError
from tinyreg.core.namespaces import PREFIXES

__all__ = [
    "check_federation",
    "friendly_syntax_error",
    "has_service_keyword",
    "relocate_error",
    "service_endpoints",
    "with_prefixes",
]

_PREFIX_DECL = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.IGNORECASE)
_POSITION = re.compile(r"\bat (\d+):(\d+)")
_PNAME_END = re.compile(r"([A-Za-z][\w.-]*)?:[\w.%\\-]*$")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MESSAGE_LIMIT = 240


def with_prefixes(sparql: str, prefixes: Mapping[str, str] | None = None) -> tuple[str, int]:
    """Declare the prefixes a query uses without declaring them, on its first line.

    Args:
        sparql: The user's query.
        prefixes: Prefix name to IRI; default: the project's prefixes.

    Returns:
        The query to run, and the number of characters added before the user's first
        line (for :func:`relocate_error`).

    """
    declared = {m.lower() for m in _PREFIX_DECL.findall(sparql)}
    chosen = PREFIXES if prefixes is None else prefixes
    head = "".join(
        f"PREFIX {name}: <{iri}> " for name, iri in chosen.items() if name.lower() not in declared
    )
    return head + sparql, len(head)


def relocate_error(message: str, shift: int) -> str:
    """Rewrite ``at LINE:COLUMN`` in a parser message to count from the user's text.

    >>> relocate_error("error at 1:130: expected ...", 120)
    'error at 1:10: expected ...'
    >>> relocate_error("error at 3:4: expected ...", 120)
    'error at 3:4: expected ...'
    """

    def moved(match: re.Match[str]) -> str:
        line, column = int(match.group(1)), int(match.group(2))
        if line == 1:
            column = max(1, column - shift)
        return f"at {line}:{column}"

    return _POSITION.sub(moved, message, count=1)


def friendly_syntax_error(message: str, query: str) -> str:
    """A parser message a user can act on: unknown prefixes named, token lists cut short.

    Args:
        message: The parser's message, positions already relative to ``query``.
        query: The user's query.

    >>> friendly_syntax_error("error at 1:27: expected one of Prefix not found, [...]",
    ...                       "SELECT * WHERE { ?s foo:bar ?o }")
    "error at 1:27: unknown prefix 'foo:' (declare it: PREFIX foo: <...>)"

    """
    position = _POSITION.search(message)
    if "Prefix not found" in message:
        where = f"error at {position.group(1)}:{position.group(2)}: " if position else ""
        name = _prefix_at(query, position) if position else None
        if name is not None:
            return f"{where}unknown prefix '{name}:' (declare it: PREFIX {name}: <...>)"
        return f"{where}unknown prefix (declare it with PREFIX name: <...>)"
    text = " ".join(message.split())
    if len(text) > _MESSAGE_LIMIT:
        text = text[: _MESSAGE_LIMIT - 3] + "..."
    return text


def _prefix_at(query: str, position: re.Match[str]) -> str | None:
    """The prefix of the prefixed name that ends at a parser position, if any."""
    lines = query.split("\n")
    line, column = int(position.group(1)), int(position.group(2))
    if not 1 <= line <= len(lines):
        return None
    before = lines[line - 1][: max(0, column - 1)]
    for end in (len(before), len(before) + 1):
        found = _PNAME_END.search(lines[line - 1][:end])
        if found:
            return found.group(1) or ""
    return None


def _tokens(sparql: str) -> Iterator[tuple[str, str]]:
    """Words of a query with the character before them; strings, IRIs, comments skipped."""
    index, size = 0, len(sparql)
    while index < size:
        char = sparql[index]
        if char == "#":
            end = sparql.find("\n", index)
            index = size if end < 0 else end + 1
        elif char in "'\"":
            quote = char * 3 if sparql.startswith(char * 3, index) else char
            index += len(quote)
            while index < size and not sparql.startswith(quote, index):
                index += 2 if sparql[index] == "\\" else 1
            index += len(quote)
        elif char == "<" and _iri_at(sparql, index):
            index = sparql.index(">", index) + 1
        else:
            word = _WORD.match(sparql, index)
            if word is None:
                index += 1
                continue
            previous = sparql[index - 1] if index else " "
            after = sparql[word.end()] if word.end() < size else " "
            if after != ":" and previous not in "?$:@_-.":
                yield previous, word.group(0)
            index = word.end()


def _iri_at(sparql: str, index: int) -> bool:
    """Whether an IRI reference (``<...>`` without spaces) starts at ``index``."""
    end = sparql.find(">", index)
    return end > index and not any(c in sparql[index + 1 : end] for c in ' \t\n\r<"{}|^`')


def has_service_keyword(sparql: str) -> bool:
    """Whether the query holds the ``SERVICE`` keyword outside strings, IRIs and comments.

    >>> has_service_keyword("SELECT ?service WHERE { ?service ex:SERVICE 'SERVICE' }")
    False
    >>> has_service_keyword("SELECT * { service <http://x/> { ?s ?p ?o } }")
    True
    """
    return any(word.upper() == "SERVICE" for _, word in _tokens(sparql))


def service_endpoints(
    sparql: str, prefixes: Mapping[str, str] | None = None
) -> list[str | None] | None:
    """The endpoint of every ``SERVICE`` clause of a query, prefixed names resolved.

    Args:
        sparql: The query.
        prefixes: Prefixes usable without declaration; default: the project's.

    Returns:
        One entry per clause: the endpoint IRI, or ``None`` for a variable endpoint. An
        empty list when the query has no ``SERVICE`` keyword; ``None`` when it has one
        but cannot be parsed.

    """
    if not has_service_keyword(sparql):
        return []
    from pyparsing import ParseException, ParseResults
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        parsed = parseQuery(sparql)
    except (ParseException, ValueError, TypeError, RecursionError):
        return None
    known = dict(PREFIXES if prefixes is None else prefixes)
    for declaration in parsed[0] if len(parsed) > 1 else []:
        if isinstance(declaration, CompValue) and declaration.name == "PrefixDecl":
            known[str(declaration.get("prefix") or "")] = str(declaration["iri"])
    found: list[str | None] = []

    def walk(node: Any) -> None:
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append(_endpoint(node.get("term"), known))
            for value in node.values():
                walk(value)
        elif isinstance(node, ParseResults | list | tuple):
            for value in node:
                walk(value)

    walk(parsed)
    return found


def _endpoint(term: Any, prefixes: Mapping[str, str]) -> str | None:
    from rdflib import URIRef
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, CompValue) and term.name == "pname":
        namespace = prefixes.get(str(term.get("prefix") or ""))
        return None if namespace is None else namespace + str(term.get("localname") or "")
    return None


def check_federation(
    sparql: str,
    *,
    allowed: Collection[str] = (),
    enabled: bool = False,
    prefixes: Mapping[str, str] | None = None,
) -> None:
    """Refuse a query whose ``SERVICE`` clauses are not allowed.

    Args:
        sparql: The user's query.
        allowed: Endpoint IRIs a ``SERVICE`` clause may name when federation is on.
        enabled: Whether federated queries are allowed at all.
        prefixes: Prefixes usable without declaration; default: the project's.

    Raises:
        FederationError: If federation is off and the query has a ``SERVICE`` clause, or
            a clause names an endpoint outside ``allowed`` (a variable endpoint never is
            allowed), or the query mentions ``SERVICE`` and cannot be parsed.

    >>> check_federation("SELECT * { ?s ?p ?o }")
    >>> check_federation("SELECT * { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    tinyreg.core.errors.FederationError: federated queries (SERVICE) are off on this server

    """
    endpoints = service_endpoints(sparql, prefixes)
    if endpoints == []:
        return
    if not enabled:
        raise FederationError("federated queries (SERVICE) are off on this server")
    if endpoints is None:
        raise FederationError("a query with SERVICE must parse as SPARQL 1.1")
    refused = [e for e in endpoints if e is None or e not in allowed]
    if refused:
        raise FederationError(
            "SERVICE may only name an endpoint of the server's allow-list"
            + ("" if None in refused else f" ({len(refused)} clause(s) outside it)")
        )
