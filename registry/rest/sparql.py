"""SPARQL 1.1 Protocol answers: result formats and content negotiation.

SELECT results as SPARQL JSON (or plain ``application/json``), SPARQL XML, CSV and TSV;
ASK results as JSON or XML; CONSTRUCT and DESCRIBE as JSON-LD, Turtle, N-Triples or
RDF/XML. A request whose ``Accept`` allows none of the types of its result is answered
406 (:class:`~tinyreg.core.errors.NotAcceptableError`); no ``Accept`` means any.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.errors import NotAcceptableError
from tinyreg.core.namespaces import PREFIXES
from tinyreg.core.stores import QueryResult

__all__ = ["ASK_TYPES", "GRAPH_TYPES", "RESULT_TYPES", "acceptable", "negotiate", "render"]

SPARQL_JSON = "application/sparql-results+json"
SPARQL_XML = "application/sparql-results+xml"
CSV = "text/csv"
TSV = "text/tab-separated-values"
JSON = "application/json"
JSON_LD = "application/ld+json"
TURTLE = "text/turtle"
N_TRIPLES = "application/n-triples"
RDF_XML = "application/rdf+xml"
RESULT_TYPES = (SPARQL_JSON, JSON, SPARQL_XML, CSV, TSV)
ASK_TYPES = (SPARQL_JSON, JSON, SPARQL_XML)
GRAPH_TYPES = (JSON_LD, TURTLE, N_TRIPLES, RDF_XML)
_RDFLIB_FORMATS = {JSON_LD: "json-ld", TURTLE: "turtle", N_TRIPLES: "nt", RDF_XML: "xml"}
_OFFERS = {"select": RESULT_TYPES, "ask": ASK_TYPES, "graph": GRAPH_TYPES}


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


def _choose(accept: str | None, kind: str) -> str | None:
    offered = _OFFERS.get(kind, RESULT_TYPES)
    for media, q in _accepted(accept):
        if q <= 0:
            continue
        if media in ("*/*", "application/*"):
            return offered[0]
        if media == "text/*":
            texts = [m for m in offered if m.startswith("text/")]
            if texts:
                return texts[0]
        if media in offered:
            return media
    return None


def acceptable(accept: str | None) -> bool:
    """Whether ``Accept`` allows some result type of some query form (else 406 at once).

    >>> acceptable("text/csv"), acceptable("image/png")
    (True, False)
    """
    return any(_choose(accept, kind) is not None for kind in _OFFERS)


def negotiate(accept: str | None, kind: str) -> str:
    """Choose the response media type for a result kind (``select``/``ask``/``graph``).

    >>> negotiate(None, "select"), negotiate("text/csv", "select"), negotiate("text/*", "graph")
    ('application/sparql-results+json', 'text/csv', 'text/turtle')

    Raises:
        NotAcceptableError: If ``Accept`` allows none of the types of that kind.

    """
    chosen = _choose(accept, kind)
    if chosen is None:
        raise NotAcceptableError(accept or "", _OFFERS.get(kind, RESULT_TYPES))
    return chosen


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


def _plain(term: Node) -> str:
    """A term as SPARQL CSV writes it: IRIs and literals bare, blank nodes ``_:label``."""
    return f"_:{term}" if isinstance(term, BNode) else str(term)


def _csv(result: QueryResult) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_plain(row[v]) if v in row else "" for v in result.variables])
    return out.getvalue().encode("utf-8")


def _tsv(result: QueryResult) -> bytes:
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    for row in result.rows:
        lines.append("\t".join(row[v].n3() if v in row else "" for v in result.variables))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xml_term(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<uri>{escape(str(term))}</uri>"
    if isinstance(term, BNode):
        return f"<bnode>{escape(str(term))}</bnode>"
    if isinstance(term, Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(str(term))}</literal>"
        if term.datatype is not None:
            datatype = quoteattr(str(term.datatype))
            return f"<literal datatype={datatype}>{escape(str(term))}</literal>"
    return f"<literal>{escape(str(term))}</literal>"


def _xml(result: QueryResult) -> bytes:
    parts = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    parts.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in result.variables))
    parts.append("</head>")
    if result.kind == "ask":
        parts.append(f"<boolean>{'true' if result.boolean else 'false'}</boolean>")
    else:
        parts.append("<results>")
        for row in result.rows:
            bindings = "".join(
                f"<binding name={quoteattr(name)}>{_xml_term(value)}</binding>"
                for name, value in row.items()
            )
            parts.append(f"<result>{bindings}</result>")
        parts.append("</results>")
    parts.append("</sparql>\n")
    return "\n".join(parts).encode("utf-8")


def render(result: QueryResult, media: str) -> bytes:
    """Serialise a query result in the negotiated media type."""
    if result.kind == "graph":
        graph = result.graph
        assert graph is not None
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        text = graph.serialize(format=_RDFLIB_FORMATS[media])
        return text.encode("utf-8")
    if media == SPARQL_XML:
        return _xml(result)
    if media == CSV:
        return _csv(result)
    if media == TSV:
        return _tsv(result)
    if result.kind == "ask":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}).encode()
    body = {
        "head": {"vars": result.variables},
        "results": {
            "bindings": [{name: _term(value) for name, value in row.items()} for row in result.rows]
        },
    }
    return json.dumps(body).encode()
