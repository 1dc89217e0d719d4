"""The graph-store interface of tinyreg and the helpers its implementations share.

Every store keeps tinyreg's data as a set of *named graphs* (one per model,
device or vocabulary) and answers SPARQL 1.1 over them. Two implementations
exist and behave the same way:

* :class:`~tinyreg.core.stores.oxigraph_store.OxigraphStore`, an embedded
  store in a local directory (or in memory), and
* :class:`~tinyreg.core.stores.sparql_store.SparqlEndpointStore`, any
  SPARQL 1.1 endpoint over HTTP, such as ``oxigraph serve``.

Conventions shared by all stores:

* Graph names are absolute IRIs given as :class:`str`; data is exchanged as
  :class:`rdflib.Graph` and query results are rdflib terms.
* The default graph of a query is the union of all named graphs.
* A named graph *exists* when it holds at least one triple; an empty graph is
  the same as an absent one, whatever the backend thinks of empty graphs.
* :meth:`GraphStore.replace_graph` and :meth:`GraphStore.replace_graphs` send a
  single SPARQL Update request (``DROP SILENT GRAPH ... ; INSERT DATA ...``),
  which the backends apply as one transaction.
* Blank nodes written with one graph never merge with blank nodes of another
  graph: blank-node labels are relabelled per graph before they are sent, and
  SPARQL gives ``INSERT DATA`` fresh blank nodes on every request.
* Values of query variables are passed as ``bindings`` (rdflib IRIs or
  literals), never formatted into the query text by the caller.

Bindings
--------
The embedded store hands bindings to Oxigraph's native substitution
(SEP-0007), which accepts a bound variable only when the query projects it
(``SELECT ?m ?dev``, ``SELECT *``, or an ``ASK``/``CONSTRUCT`` pattern that binds
it). For other queries, and always on a remote endpoint, which cannot
substitute, the values are written into the query as a ``VALUES`` block placed
first in the outermost ``WHERE`` group (:func:`inject_values`)::

    SELECT ?m WHERE { VALUES (?dev ?max) { (<https://ex/d1> "64"^^xsd:integer) }
                      ?m :fitsOn ?dev ; :ram ?ram . FILTER(?ram <= ?max) }

The values are serialised by pyoxigraph as escaped N-Triples terms; user text
never becomes SPARQL syntax. Being joined first, the block constrains the
whole group (patterns, ``OPTIONAL``, ``FILTER``) before grouping, ordering and
``LIMIT``, which is what native substitution does: for tinyreg's queries
(bound variables used in triple patterns and filters) both forms give the same
solutions, and a projected bound variable carries its bound value in every row.
Differences remain only for unusual shapes: a ``BIND`` that assigns a bound
variable is refused inline (:class:`~tinyreg.core.errors.QueryError`), and
``DESCRIBE`` without a ``WHERE`` group takes bindings only natively. Blank
nodes cannot be bound, since their labels do not identify nodes across
requests.
"""

from __future__ import annotations

import abc
import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeAlias, runtime_checkable
from typing import Literal as TypingLiteral

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from tinyreg.core.errors import InputError, QueryError
from tinyreg.core.iris import XSD_INTEGER_TYPES, XSD_IRI

__all__ = [
    "BaseGraphStore",
    "BulkFormat",
    "BulkSource",
    "GraphStore",
    "OxTerm",
    "QueryKind",
    "QueryResult",
    "StoreCapabilities",
    "check_query",
    "from_oxigraph",
    "graph_node",
    "guess_bulk_format",
    "inject_values",
    "inline_bindings",
    "normalise_bindings",
    "ntriples",
    "parse_ntriples",
    "query_form",
    "replace_update",
    "result_from_oxigraph",
    "template_inserts",
    "to_oxigraph",
    "too_many",
]

XSD_PREFIX = XSD_IRI
XSD_STRING = XSD_PREFIX + "string"

QueryKind: TypeAlias = TypingLiteral["select", "ask", "graph"]
"""What a query returned: solutions, a boolean, or triples (CONSTRUCT/DESCRIBE)."""

BulkFormat: TypeAlias = TypingLiteral["nt", "nq"]
"""Line-based RDF syntaxes accepted by ``bulk_load``: N-Triples and N-Quads."""

BulkSource: TypeAlias = "str | os.PathLike[str] | bytes"
"""A file path, or the serialised data itself as :class:`bytes`."""

OxTerm: TypeAlias = "ox.NamedNode | ox.BlankNode | ox.Literal"
"""A pyoxigraph RDF term."""

COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
"""Counts the triples of all named graphs."""


@dataclass(frozen=True)
class StoreCapabilities:
    """What a store can do, in the spirit of rdflib's ``Store`` feature flags.

    Attributes:
        transactional: One update request is applied atomically, so
            ``replace_graph`` and ``replace_graphs`` never leave a partial state.
        substitutions: Query ``bindings`` are substituted natively by the engine
            where it can; when ``False`` they are always written inline as a
            ``VALUES`` block.
        persistent: The data outlives the process.
        union_default_graph: The default graph of queries is the union of all
            named graphs (required by tinyreg; remote endpoints must be
            configured that way).
        graph_store_protocol: ``bulk_load`` uses the SPARQL 1.1 Graph Store
            HTTP Protocol instead of SPARQL Update.

    """

    transactional: bool
    substitutions: bool
    persistent: bool
    union_default_graph: bool = True
    graph_store_protocol: bool = False


@dataclass
class QueryResult:
    """The materialised answer to a SPARQL query.

    Attributes:
        kind: ``"select"`` for solutions, ``"ask"`` for a boolean, ``"graph"``
            for the triples of a ``CONSTRUCT`` or ``DESCRIBE`` query.
        variables: The projected variables of a ``SELECT`` query, in order,
            without ``?``.
        rows: One dict per solution mapping variable names to rdflib terms;
            unbound variables are absent from the dict.
        boolean: The answer of an ``ASK`` query, else ``None``.
        graph: The triples of a ``CONSTRUCT`` or ``DESCRIBE`` query, else ``None``.

    """

    kind: QueryKind
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, Node]] = field(default_factory=list)
    boolean: bool | None = None
    graph: Graph | None = None


@runtime_checkable
class GraphStore(Protocol):
    """A set of named RDF graphs answering SPARQL 1.1.

    Implementations must behave identically: the same calls give the same
    rdflib terms. Graph names are absolute IRIs; an invalid one raises
    :class:`~tinyreg.core.errors.InputError`.

    Attributes:
        label: The store's path or URL, for messages.
        capabilities: What the store can do.

    """

    label: str
    capabilities: StoreCapabilities

    @property
    def dialect(self) -> str:
        """The SPARQL dialect of the store's engine.

        ``"virtuoso"``, or ``"sparql"`` for an engine that evaluates every SPARQL 1.1
        query tinyreg sends; queries with a variant for an engine pick it by this name.
        """
        ...

    def replace_graph(self, name: str, data: Graph) -> None:
        """Atomically make the named graph ``name`` hold exactly ``data``.

        Args:
            name: The graph IRI.
            data: The new content; an empty graph deletes the graph.

        Raises:
            InputError: ``name`` or a term of ``data`` is not valid RDF.
            StoreError: The store failed; it is unchanged.

        """
        ...

    def replace_graphs(self, graphs: Mapping[str, Graph]) -> None:
        """Atomically replace several named graphs in one update.

        Args:
            graphs: New content by graph IRI.

        Raises:
            InputError: A name or a term is not valid RDF.
            StoreError: The store failed; it is unchanged.

        """
        ...

    def replace_graphs_text(self, graphs: Mapping[str, str], *, trusted: bool = False) -> None:
        """Atomically replace several named graphs with N-Triples text, in one write.

        The text is what :func:`ntriples` or a description writer gives: one triple per
        line, each line ending in `` .``, no comments and no blank nodes. It reaches the
        embedded store without rdflib (parsed by Oxigraph); other stores parse it.

        Args:
            graphs: New content by graph IRI, as N-Triples; ``""`` deletes the graph.
            trusted: The text comes from tinyreg's own description writer, which
                checked every IRI as it made it: a store may skip checking them again
                (the embedded store parses the text leniently, which cost 10.1-11.8
                against 11.0-14.5 µs of CPU a quad in bulk loads of the corpus). Never
                set it for text from outside: an invalid IRI would then be stored.

        Raises:
            InputError: A name or the text is not valid RDF; nothing was written.
            StoreError: The store failed; it is unchanged.

        """
        ...

    def delete_graph(self, name: str) -> bool:
        """Delete a named graph.

        Args:
            name: The graph IRI.

        Returns:
            ``True`` if the graph held triples before.

        """
        ...

    def has_graph(self, name: str) -> bool:
        """Tell whether a named graph holds at least one triple.

        Args:
            name: The graph IRI.

        Returns:
            ``True`` if the graph exists.

        """
        ...

    def graph_names(self) -> list[str]:
        """List the IRIs of the non-empty named graphs.

        Returns:
            The graph IRIs, sorted.

        """
        ...

    def get_graph(self, name: str) -> Graph:
        """Return the content of a named graph.

        Args:
            name: The graph IRI.

        Returns:
            A new rdflib graph, empty if the named graph is absent.

        """
        ...

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        """Run a SPARQL query whose default graph is the union of all graphs.

        Args:
            sparql: A ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` query.
            bindings: Values for variables of the query (names with or without
                ``?``), as rdflib IRIs or literals; see "Bindings" above.

        Returns:
            The materialised result.

        Raises:
            QueryError: The query cannot be parsed or evaluated.
            StoreError: The store failed or is unreachable.

        """
        ...

    def select(
        self, sparql: str, bindings: Mapping[str, Node] | None = None
    ) -> list[dict[str, Node]]:
        """Run a ``SELECT`` query and return its rows.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            One dict per solution; unbound variables are absent.

        """
        ...

    def select_values(
        self, sparql: str, bindings: Mapping[str, Node] | None = None
    ) -> list[dict[str, Any]]:
        """Run a ``SELECT`` query and return its rows as plain Python values.

        IRIs become ``str``; ``xsd:integer`` (and its subtypes) ``int``; ``xsd:decimal``,
        ``xsd:double`` and ``xsd:float`` ``float``; ``xsd:boolean`` ``bool``; other
        literals their lexical form. For large results this avoids building rdflib terms.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            One dict per solution; unbound variables are absent.

        """
        ...

    def ask(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> bool:
        """Run an ``ASK`` query.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            The answer.

        """
        ...

    def update(self, sparql: str) -> None:
        """Run a raw SPARQL 1.1 Update request (administration, bulk edits).

        Args:
            sparql: The update request.

        Raises:
            QueryError: The request cannot be parsed or applied.
            StoreError: The store failed or is unreachable.

        """
        ...

    def bulk_load(
        self,
        source: BulkSource,
        graph: str | None = None,
        *,
        rdf_format: BulkFormat | None = None,
    ) -> None:
        """Add a large N-Triples or N-Quads document, as fast as possible.

        Bulk loads add to the existing data and are not atomic: if one fails,
        part of the data may have been written.

        Args:
            source: A file path, or the document as bytes.
            graph: The named graph receiving N-Triples; ``None`` for N-Quads,
                whose lines carry their graph.
            rdf_format: ``"nt"`` or ``"nq"``; guessed from the file extension,
                or from ``graph`` for bytes, when ``None``.

        """
        ...

    def triple_count(self) -> int:
        """Count the triples of all named graphs.

        Returns:
            The number of (graph, triple) pairs.

        """
        ...

    def flush(self) -> None:
        """Write what is committed to the store's files now (where the store decides).

        Committed writes are durable either way; an embedded store writes them from
        memory to its sorted files later, and a bulk write that follows recent writes waits
        for that first. A server store decides this itself: nothing is done.
        """
        ...

    def close(self) -> None:
        """Release the store; further calls raise ``StoreError``. Idempotent."""
        ...

    def __enter__(self) -> Self:
        """Return the store itself."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...


# --------------------------------------------------------------------------- terms


def graph_node(name: str) -> ox.NamedNode:
    """Check a graph name and return it as a pyoxigraph IRI.

    Args:
        name: The graph name, an absolute IRI.

    Returns:
        The IRI as a pyoxigraph node.

    Raises:
        InputError: ``name`` is not an absolute IRI.

    """
    if not isinstance(name, str):
        raise InputError(f"graph name {name!r} is not a string")
    try:
        return ox.NamedNode(name)
    except ValueError as exc:
        raise InputError(f"graph name {name!r} is not an absolute IRI: {exc}") from exc


def to_oxigraph(term: Node, bnode_label: str | None = None) -> OxTerm:
    """Convert an rdflib term to the equal pyoxigraph term.

    Args:
        term: An rdflib IRI, blank node or literal.
        bnode_label: The label to give a blank node; its own id when ``None``.

    Returns:
        The pyoxigraph term.

    Raises:
        InputError: The term is not valid RDF (relative IRI, bad language tag,
            lone surrogate, variable, quoted graph...).

    """
    try:
        if isinstance(term, URIRef):
            return ox.NamedNode(str(term))
        if isinstance(term, BNode):
            return ox.BlankNode(bnode_label if bnode_label is not None else str(term))
        if isinstance(term, Literal):
            lexical = str(term)
            if term.language is not None:
                return ox.Literal(lexical, language=term.language)
            if term.datatype is not None:
                return ox.Literal(lexical, datatype=ox.NamedNode(str(term.datatype)))
            return ox.Literal(lexical)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise InputError(f"{term!r} is not a valid RDF term: {exc}") from exc
    raise InputError(f"{term!r} is not an RDF IRI, blank node or literal")


def from_oxigraph(term: object) -> Node:
    """Convert a pyoxigraph term to the equal rdflib term.

    Simple literals (``xsd:string``) become rdflib literals without datatype,
    so results compare equal to ``Literal("text")``; other literals keep their
    datatype and are normalised by rdflib like ``Literal(5)``.

    Args:
        term: A pyoxigraph IRI, blank node or literal.

    Returns:
        The rdflib term.

    Raises:
        QueryError: The term is an RDF 1.2 triple term, which rdflib cannot hold.

    """
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language is not None:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        if datatype == XSD_STRING:
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(datatype))
    raise QueryError(f"unsupported RDF term in result: {term!r}")


_FLOAT_TYPES = frozenset(XSD_PREFIX + name for name in ("decimal", "double", "float"))


def plain_from_lexical(lexical: str, datatype: str | None) -> Any:
    """A literal's plain Python value from its lexical form and datatype IRI.

    >>> plain_from_lexical("042", "http://www.w3.org/2001/XMLSchema#integer")
    42
    >>> plain_from_lexical("true", "http://www.w3.org/2001/XMLSchema#boolean")
    True
    """
    try:
        if datatype in XSD_INTEGER_TYPES:
            return int(lexical)
        if datatype in _FLOAT_TYPES:
            return float(lexical)
    except ValueError:
        return lexical
    if datatype == XSD_PREFIX + "boolean":
        return lexical.strip() in ("true", "1")
    return lexical


def plain_value(term: Node) -> Any:
    """An rdflib term as a plain Python value (see :meth:`GraphStore.select_values`)."""
    if isinstance(term, Literal):
        return plain_from_lexical(str(term), str(term.datatype) if term.datatype else None)
    return str(term)


def normalise_bindings(bindings: Mapping[str, Node] | None) -> dict[str, OxTerm]:
    """Check query bindings and convert them to pyoxigraph terms.

    Args:
        bindings: Variable names (with or without ``?``/``$``) to IRIs or literals.

    Returns:
        The bindings keyed by bare variable name.

    Raises:
        QueryError: A name is not a SPARQL variable name, or a value is a blank
            node (blank-node labels do not identify nodes across requests) or
            not an RDF term.

    """
    result: dict[str, OxTerm] = {}
    for raw_name, value in (bindings or {}).items():
        name = raw_name[1:] if raw_name[:1] in ("?", "$") else raw_name
        try:
            ox.Variable(name)
        except (ValueError, TypeError) as exc:
            raise QueryError(f"{raw_name!r} is not a SPARQL variable name") from exc
        if isinstance(value, BNode):
            raise QueryError(f"?{name}: blank nodes cannot be bound, use an IRI")
        if not isinstance(value, URIRef | Literal):
            raise QueryError(f"?{name}: {value!r} is not an rdflib IRI or literal")
        try:
            result[name] = to_oxigraph(value)
        except InputError as exc:
            raise QueryError(f"?{name}: {exc.message}") from exc
    return result


def too_many(max_rows: int) -> QueryError:
    """The error for an answer of more than ``max_rows`` rows or triples."""
    return QueryError(
        f"the answer has more than {max_rows:,} rows (or triples), the most one query may "
        "return here; add a LIMIT (and page with OFFSET) or aggregate"
    )


def result_from_oxigraph(result: object, max_rows: int | None = None) -> QueryResult:
    """Materialise a pyoxigraph query result as a :class:`QueryResult`.

    Args:
        result: A ``QuerySolutions``, ``QueryBoolean`` or an iterable of
            triples or quads (``QueryTriples`` or a parser).
        max_rows: Refuse an answer of more rows or triples than this (read one at a
            time, so memory stays bounded); ``None``: no bound.

    Returns:
        The result with rdflib terms.

    Raises:
        QueryError: If the answer has more than ``max_rows`` rows or triples.

    """
    if isinstance(result, ox.QueryBoolean):
        return QueryResult(kind="ask", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [variable.value for variable in result.variables]
        rows: list[dict[str, Node]] = []
        for solution in result:
            if max_rows is not None and len(rows) >= max_rows:
                raise too_many(max_rows)
            row: dict[str, Node] = {}
            for index, name in enumerate(variables):
                value = solution[index]
                if value is not None:
                    row[name] = from_oxigraph(value)
            rows.append(row)
        return QueryResult(kind="select", variables=variables, rows=rows)
    graph = Graph()
    triples: Iterable[ox.Triple | ox.Quad] = result  # type: ignore[assignment]
    for triple in triples:
        if max_rows is not None and len(graph) >= max_rows:
            raise too_many(max_rows)
        graph.add(
            (
                from_oxigraph(triple.subject),
                from_oxigraph(triple.predicate),
                from_oxigraph(triple.object),
            )
        )
    return QueryResult(kind="graph", graph=graph)


# --------------------------------------------------------------------------- updates


def parse_ntriples(text: str) -> Graph:
    """N-Triples text as an rdflib graph.

    Raises:
        InputError: The text is not valid N-Triples.

    """
    graph = Graph()
    if text:
        try:
            graph.parse(data=text, format="nt")
        except Exception as exc:  # rdflib's parser raises its own ParseError and others
            raise InputError(f"invalid N-Triples: {exc}") from exc
    return graph


def ntriples(data: Graph, bnode_prefix: str) -> str:
    """Serialise a graph as N-Triples with blank nodes relabelled.

    Every blank node gets the label ``{bnode_prefix}{n}``, so graphs serialised
    with different prefixes never share a blank node, whatever ids rdflib gave
    them.

    Args:
        data: The triples.
        bnode_prefix: A prefix unique within one update request.

    Returns:
        The N-Triples text, one triple per line.

    Raises:
        InputError: A term is not valid RDF or a triple is ill-formed
            (a literal subject, a non-IRI predicate).

    """
    labels: dict[str, ox.BlankNode] = {}
    datatypes: dict[str, ox.NamedNode] = {}
    named_node, literal = ox.NamedNode, ox.Literal

    def convert(term: Node) -> OxTerm:
        # Fast path for the exact rdflib classes; anything else, and any error,
        # goes through to_oxigraph, which checks and explains.
        try:
            if isinstance(term, BNode):
                key = str(term)
                blank = labels.get(key)
                if blank is None:
                    blank = labels[key] = ox.BlankNode(f"{bnode_prefix}{len(labels)}")
                return blank
            if type(term) is URIRef:
                return named_node(str(term))
            if type(term) is Literal:
                lexical, language, datatype = str(term), term.language, term.datatype
                if language is not None:
                    return literal(lexical, language=language)
                if datatype is None:
                    return literal(lexical)
                node = datatypes.get(str(datatype))
                if node is None:
                    node = datatypes[str(datatype)] = named_node(str(datatype))
                return literal(lexical, datatype=node)
        except (ValueError, TypeError, UnicodeError):
            pass
        return to_oxigraph(term)

    triples = []
    for s, p, o in data:
        subject, predicate, obj = convert(s), convert(p), convert(o)
        if isinstance(subject, ox.Literal) or not isinstance(predicate, ox.NamedNode):
            raise InputError(f"ill-formed triple ({s!r}, {p!r}, {o!r})")
        triples.append(ox.Triple(subject, predicate, obj))
    serialised = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return serialised.decode("utf-8") if serialised else ""


def replace_update(graphs: Mapping[str, Graph], *, template: bool = False) -> str:
    """Build the single SPARQL Update request that replaces named graphs.

    The request is ``DROP SILENT GRAPH <g1> ; ... ; INSERT DATA { GRAPH <g1>
    {...} ... }``. The triples are written by pyoxigraph's N-Triples
    serialiser (which escapes every literal) and each graph's blank nodes get
    their own label prefix, so blank nodes of different graphs stay distinct.

    With ``template`` the triples with blank nodes are inserted by ``INSERT { GRAPH
    <g> { ... } } WHERE { }`` operations of the same request instead
    (:func:`template_inserts`), for endpoints that refuse blank nodes in ``INSERT
    DATA`` (Virtuoso, which also fails on a template spanning several graphs with
    blank nodes, or of thousands of triples); a template's blank nodes are fresh
    nodes too.

    Args:
        graphs: New content by graph IRI.
        template: Write ``INSERT { ... } WHERE { }`` rather than ``INSERT DATA``.

    Returns:
        The update request.

    Raises:
        InputError: A graph name or term is not valid RDF.

    """
    drops: list[str] = []
    blocks: list[str] = []
    pieces: list[tuple[ox.NamedNode, str]] = []
    for index, (name, data) in enumerate(graphs.items()):
        node = graph_node(name)
        drops.append(f"DROP SILENT GRAPH {node}")
        if len(data):
            text = ntriples(data, f"g{index}b")
            blocks.append(f"GRAPH {node} {{\n{text}}}")
            pieces.append((node, text))
    if template:
        parts = list(drops)
        for node, text in pieces:
            parts.extend(template_inserts(node, text))
        return " ;\n".join(parts)
    parts = list(drops)
    if blocks:
        parts.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
    return " ;\n".join(parts)


_BNODE_LABEL = re.compile(r"_:[A-Za-z0-9_]+")
TEMPLATE_TRIPLES = 200
"""Triples per ``INSERT { } WHERE { }`` template: Virtuoso 7.2.5 compiles a template of
5,000 triples out of memory (``SP030 ... memory exhausted``)."""
DATA_TRIPLES = 1000
"""Triples per ``INSERT DATA`` for Virtuoso, whose parser runs out of stack (``SP030 ...
memory exhausted``) on about 5,000 triples in one operation."""


def template_inserts(graph: ox.NamedNode, text: str) -> list[str]:
    """Insert one graph's N-Triples without blank nodes in ``INSERT DATA`` (for Virtuoso).

    Triples without blank nodes go into ``INSERT DATA`` operations of
    :data:`DATA_TRIPLES` triples; the others into
    ``INSERT { ... } WHERE { }`` templates of about :data:`TEMPLATE_TRIPLES` triples, the
    triples sharing a blank node always in the same template (a label names one node
    within one template only).

    Args:
        graph: The graph.
        text: Its N-Triples, one triple a line, blank nodes labelled for this request.

    Returns:
        The update operations, to be joined with ``;``.

    >>> lines = ["<http://ex/a> <http://ex/p> _:b1 .", '_:b1 <http://ex/q> "1" .']
    >>> lines.append('<http://ex/a> <http://ex/r> "_:b2" .')
    >>> ops = template_inserts(ox.NamedNode("http://ex/g"), chr(10).join(lines))
    >>> [(op.split(" ", 2)[:2], op.count(" .")) for op in ops]
    [(['INSERT', 'DATA'], 1), (['INSERT', '{'], 2)]

    """
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    ground: list[str] = []
    linked: list[tuple[str, str]] = []
    # Virtuoso ends a short string at U+2028/U+2029 in INSERT DATA: send them escaped
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    for line in text.split("\n"):
        labels = _BNODE_LABEL.findall(line.split('"', 1)[0] + line.rsplit('"', 1)[-1])
        if not labels:
            if line.strip():
                ground.append(line)
            continue
        first = root(labels[0])
        for other in labels[1:]:
            parent[root(other)] = first
        linked.append((labels[0], line))
    operations = []
    for start in range(0, len(ground), DATA_TRIPLES):
        body = "\n".join(ground[start : start + DATA_TRIPLES])
        operations.append(f"INSERT DATA {{ GRAPH {graph} {{\n{body}\n}} }}")
    components: dict[str, list[str]] = {}
    for label, line in linked:
        components.setdefault(root(label), []).append(line)
    chunk: list[str] = []
    for lines in components.values():
        chunk.extend(lines)
        if len(chunk) >= TEMPLATE_TRIPLES:
            operations.append(
                f"INSERT {{ GRAPH {graph} {{\n" + "\n".join(chunk) + "\n} } WHERE { }"
            )
            chunk = []
    if chunk:
        operations.append(f"INSERT {{ GRAPH {graph} {{\n" + "\n".join(chunk) + "\n} } WHERE { }")
    return operations


def guess_bulk_format(
    source: BulkSource, graph: str | None, rdf_format: BulkFormat | None
) -> BulkFormat:
    """Decide whether a bulk-load source is N-Triples or N-Quads.

    Args:
        source: A file path or the data as bytes.
        graph: The target graph, if any.
        rdf_format: An explicit choice, returned as is when valid.

    Returns:
        ``"nt"`` or ``"nq"``.

    Raises:
        InputError: The file does not exist, the format is unknown, or N-Triples
            come without a graph.

    """
    if not isinstance(source, bytes | bytearray) and not Path(os.fspath(source)).is_file():
        raise InputError(f"{os.fspath(source)}: no such file")
    if rdf_format is None:
        if isinstance(source, bytes | bytearray):
            rdf_format = "nt" if graph is not None else "nq"
        else:
            suffix = Path(os.fspath(source)).suffix.lower()
            if suffix in (".nt", ".ntriples"):
                rdf_format = "nt"
            elif suffix in (".nq", ".nquads"):
                rdf_format = "nq"
            else:
                raise InputError(
                    f"{os.fspath(source)}: cannot tell N-Triples from N-Quads, "
                    "name it .nt or .nq or pass rdf_format"
                )
    if rdf_format not in ("nt", "nq"):
        raise InputError(f"unsupported bulk-load format {rdf_format!r}, use 'nt' or 'nq'")
    if rdf_format == "nt" and graph is None:
        raise InputError("N-Triples need a target graph; pass graph=<IRI>")
    return rdf_format


# --------------------------------------------------------------------------- bindings


_CHECK_STORE: ox.Store | None = None
_CHECK_LOCK = threading.Lock()

FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_VARNAME = re.compile(r"[\w\u00b7\u0300-\u036f\u203f-\u2040]+")
_WORD = re.compile(r"(?:[A-Za-z_][\w\-.]*)?:[\w\-.:%\\]*|[A-Za-z_][\w\-]*")


def _check_store() -> ox.Store:
    """Return the empty in-memory store used to check queries locally.

    Returns:
        A shared, always empty pyoxigraph store.

    """
    global _CHECK_STORE
    with _CHECK_LOCK:
        if _CHECK_STORE is None:
            _CHECK_STORE = ox.Store()
        return _CHECK_STORE


def check_query(sparql: str) -> None:
    """Parse a query with Oxigraph, without data, to report syntax errors early.

    Args:
        sparql: The query.

    Raises:
        QueryError: The query is not valid SPARQL 1.1, with the parser's message.

    """
    try:
        _check_store().query(sparql, use_default_graph_as_union=True)
    except SyntaxError as exc:
        raise QueryError(str(exc.msg or exc)) from exc
    except (RuntimeError, ValueError, TypeError, OSError) as exc:
        raise QueryError(str(exc)) from exc


def query_form(sparql: str) -> str | None:
    r"""Tell the form of a query from its first keyword, past prologue and comments.

    Args:
        sparql: The query.

    Returns:
        ``"SELECT"``, ``"ASK"``, ``"CONSTRUCT"`` or ``"DESCRIBE"``, or ``None``.

    >>> query_form("PREFIX s: <http://ex/select#> # SELECT\nconstruct where { ?s ?p ?o }")
    'CONSTRUCT'

    """
    return next((t.upper() for t, _, _ in _tokens(sparql) if t.upper() in FORMS), None)


def inline_bindings(sparql: str, values: Mapping[str, OxTerm]) -> str:
    """Write bound values into a query as a ``VALUES`` block (see :func:`inject_values`).

    Args:
        sparql: A valid query.
        values: The bindings, by variable name.

    Returns:
        The rewritten query, checked to parse.

    Raises:
        QueryError: The query has no ``WHERE`` group, or the rewritten query
            does not parse (e.g. a ``BIND`` assigns a bound variable).

    """
    rewritten = inject_values(sparql, values)
    try:
        check_query(rewritten)
    except QueryError as exc:
        raise QueryError(f"cannot inline the bindings into this query: {exc.detail}") from exc
    return rewritten


def _skip_string(text: str, start: int) -> int:
    """Skip a SPARQL string literal (short or long, either quote).

    Args:
        text: The query.
        start: The index of the opening quote.

    Returns:
        The index just after the closing quote.

    """
    quote = text[start]
    delimiter = quote * 3 if text.startswith(quote * 3, start) else quote
    index = start + len(delimiter)
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text.startswith(delimiter, index):
            return index + len(delimiter)
        else:
            index += 1
    return len(text)


def _tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """Yield the braces and bare words of a SPARQL query.

    Comments, strings, IRIs and variables are skipped, so a brace or keyword
    inside them is never reported.

    Args:
        text: The query.

    Yields:
        ``(token, start, end)`` where token is ``"{"``, ``"}"`` or the word.

    """
    index, length = 0, len(text)
    while index < length:
        char = text[index]
        if char.isspace():
            index += 1
        elif char == "#":
            newline = text.find("\n", index)
            index = length if newline < 0 else newline + 1
        elif char in "\"'":
            index = _skip_string(text, index)
        elif char == "<" and (iri := _IRIREF.match(text, index)):
            index = iri.end()
        elif char in "?$":
            name = _VARNAME.match(text, index + 1)
            index = name.end() if name else index + 1
        elif char in "{}":
            yield char, index, index + 1
            index += 1
        elif word := _WORD.match(text, index):
            yield word.group(0), index, word.end()
            index = word.end()
        else:
            index += 1


def _matching(tokens: list[tuple[str, int, int]], opening: int) -> int:
    """Find the index of the brace closing ``tokens[opening]``.

    Args:
        tokens: The tokens of the query.
        opening: The index of an opening brace.

    Returns:
        The index of its closing brace.

    Raises:
        QueryError: The braces do not balance.

    """
    depth = 0
    for index in range(opening, len(tokens)):
        token = tokens[index][0]
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
            if depth == 0:
                return index
    raise QueryError("unbalanced braces in the query")


def _next_brace(tokens: list[tuple[str, int, int]], start: int) -> int | None:
    """Find the first opening brace at or after ``start``.

    Args:
        tokens: The tokens of the query.
        start: Where to look from.

    Returns:
        Its index, or ``None``.

    """
    return next((i for i in range(start, len(tokens)) if tokens[i][0] == "{"), None)


def inject_values(sparql: str, values: Mapping[str, OxTerm]) -> str:
    """Place bound values first in the outermost ``WHERE`` group of a query.

    ``SELECT``/``ASK``/``DESCRIBE ... WHERE { P }`` and
    ``CONSTRUCT { T } WHERE { P }`` become ``... { VALUES (?a) { (v) } P }``;
    a group that is a single sub-``SELECT`` is wrapped as
    ``{ VALUES ... { SELECT ... } }``; ``CONSTRUCT WHERE { T }`` becomes
    ``CONSTRUCT { T } WHERE { VALUES ... T }``.

    Args:
        sparql: A valid SPARQL query.
        values: The bindings, by variable name, as pyoxigraph terms.

    Returns:
        The rewritten query.

    Raises:
        QueryError: The query has no ``WHERE`` group.

    """
    names = " ".join(f"?{name}" for name in values)
    terms = " ".join(str(term) for term in values.values())
    block = f"VALUES ({names}) {{ ({terms}) }}"
    tokens = list(_tokens(sparql))
    form = next(
        (i for i, (token, _, _) in enumerate(tokens) if token.upper() in FORMS),
        None,
    )
    if form is None:
        raise QueryError("bindings need a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    short_construct = False
    opening = _next_brace(tokens, form + 1)
    if tokens[form][0].upper() == "CONSTRUCT":
        if opening == form + 1:
            opening = _next_brace(tokens, _matching(tokens, form + 1) + 1)
        else:
            short_construct = True
    if opening is None:
        raise QueryError("bindings need a query with a WHERE { ... } group")
    closing = _matching(tokens, opening)
    body_start, body_end = tokens[opening][2], tokens[closing][1]
    body = sparql[body_start:body_end]
    if opening + 1 < closing and tokens[opening + 1][0].upper() == "SELECT":
        group = f" {block} {{{body}}} "
    else:
        group = f" {block}\n{body}"
    rewritten = sparql[:body_start] + group + sparql[body_end:]
    if short_construct:
        form_end = tokens[form][2]
        rewritten = rewritten[:form_end] + f" {{{body}}}" + rewritten[form_end:]
    return rewritten


# --------------------------------------------------------------------------- base class


class BaseGraphStore(abc.ABC):
    """Behaviour shared by the store implementations.

    Subclasses provide the backend primitives; this class derives the rest of
    :class:`GraphStore` from them.
    """

    label: str
    capabilities: StoreCapabilities

    @property
    def dialect(self) -> str:
        """The SPARQL dialect; see :attr:`GraphStore.dialect`."""
        return "sparql"

    @abc.abstractmethod
    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        """Run a SPARQL query; see :meth:`GraphStore.query`."""

    @abc.abstractmethod
    def update(self, sparql: str) -> None:
        """Run a SPARQL Update request; see :meth:`GraphStore.update`."""

    @abc.abstractmethod
    def has_graph(self, name: str) -> bool:
        """Tell whether a named graph holds a triple; see :meth:`GraphStore.has_graph`."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the store; see :meth:`GraphStore.close`."""

    def flush(self) -> None:  # noqa: B027 - a no-op by design: a server store decides
        """Nothing to do (a server store decides); see :meth:`GraphStore.flush`."""

    def replace_graph(self, name: str, data: Graph) -> None:
        """Atomically make a named graph hold exactly ``data``.

        Args:
            name: The graph IRI.
            data: The new content; an empty graph deletes the graph.

        """
        self.replace_graphs({name: data})

    def replace_graphs(self, graphs: Mapping[str, Graph]) -> None:
        """Atomically replace several named graphs with one SPARQL Update.

        Args:
            graphs: New content by graph IRI.

        """
        if graphs:
            self.update(replace_update(graphs))

    def replace_graphs_text(self, graphs: Mapping[str, str], *, trusted: bool = False) -> None:
        """Atomically replace named graphs with N-Triples text (parsed here with rdflib).

        Args:
            graphs: New content by graph IRI, as N-Triples; ``""`` deletes the graph.
            trusted: Ignored: rdflib checks the text either way.

        """
        self.replace_graphs({name: parse_ntriples(text) for name, text in graphs.items()})

    def delete_graph(self, name: str) -> bool:
        """Delete a named graph.

        Args:
            name: The graph IRI.

        Returns:
            ``True`` if the graph held triples before.

        """
        node = graph_node(name)
        existed = self.has_graph(name)
        if existed:
            self.update(f"DROP SILENT GRAPH {node}")
        return existed

    def select(
        self, sparql: str, bindings: Mapping[str, Node] | None = None
    ) -> list[dict[str, Node]]:
        """Run a ``SELECT`` query and return its rows.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            One dict per solution; unbound variables are absent.

        Raises:
            QueryError: The query is not a ``SELECT`` query or is invalid.

        """
        result = self.query(sparql, bindings)
        if result.kind != "select":
            raise QueryError(f"expected a SELECT query, got a query returning {result.kind}")
        return result.rows

    def select_values(
        self, sparql: str, bindings: Mapping[str, Node] | None = None
    ) -> list[dict[str, Any]]:
        """Run a ``SELECT`` query; rows as plain Python values (see :class:`GraphStore`)."""
        return [
            {name: plain_value(term) for name, term in row.items()}
            for row in self.select(sparql, bindings)
        ]

    def ask(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> bool:
        """Run an ``ASK`` query.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            The answer.

        Raises:
            QueryError: The query is not an ``ASK`` query or is invalid.

        """
        result = self.query(sparql, bindings)
        if result.kind != "ask" or result.boolean is None:
            raise QueryError(f"expected an ASK query, got a query returning {result.kind}")
        return result.boolean

    def triple_count(self) -> int:
        """Count the triples of all named graphs.

        Returns:
            The number of (graph, triple) pairs.

        """
        rows = self.select(COUNT_QUERY)
        value = rows[0].get("n") if rows else None
        return int(value.toPython()) if isinstance(value, Literal) else 0

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"
