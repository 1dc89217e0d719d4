"""SPARQL 1.1 Protocol answers: result formats and content negotiation."""

from __future__ import annotations

import json
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.namespaces import PREFIXES
from tinyreg.core.stores import QueryResult

__all__ = ["GRAPH_TYPES", "RESULT_TYPES", "negotiate", "render"]

SPARQL_JSON = "application/sparql-results+json"
JSON = "application/json"
JSON_LD = "application/ld+json"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
RESULT_TYPES = (SPARQL_JSON, JSON)
GRAPH_TYPES = (JSON_LD, TURTLE, N_TRIPLES)
_RDFLIB_FORMATS = {JSON_LD: "json-ld", TURTLE: "turtle", N_TRIPLES: "nt"}


def _accepted(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an ``Accept`` header with their q-values, best first."""
    ranges = []
    for part in (header or "*/*").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for param in fields[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        ranges.append((fields[0].lower(), q))
    return sorted(ranges, key=lambda r: -r[1])


def negotiate(accept: str | None, kind: str) -> str:
    """Choose the response media type for a result kind (``select``/``ask``/``graph``).

    When the client accepts none of the types offered, the first one is used (RFC 9110
    allows a server to disregard ``Accept`` rather than answer 406).
    """
    offered = GRAPH_TYPES if kind == "graph" else RESULT_TYPES
    for media, q in _accepted(accept):
        if q <= 0:
            continue
        if media in ("*/*", "application/*") or (media == "text/*" and kind == "graph"):
            return offered[0]
        if media in offered:
            return media
    return offered[0]


def _term(term: Node) -> dict[str, Any]:
    if isinstance(term, URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, BNode):
        return {"type": "bnode", "value": str(term)}
    if isinstance(term, Literal):
        data: dict[str, Any] = {"type": "literal", "value": str(term)}
        if term.language:
            data["xml:lang"] = term.language
        elif term.datatype is not None:
            data["datatype"] = str(term.datatype)
        return data
    return {"type": "literal", "value": str(term)}


def render(result: QueryResult, media: str) -> bytes:
    """Serialise a query result in the negotiated media type."""
    if result.kind == "graph":
        graph = result.graph
        assert graph is not None
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        text = graph.serialize(format=_RDFLIB_FORMATS[media])
        return text.encode("utf-8")
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}).encode()
    body = {
        "head": {"vars": result.variables},
        "results": {
            "bindings": [{name: _term(value) for name, value in row.items()} for row in result.rows]
        },
    }
    return json.dumps(body).encode()
