"""A graph store on any SPARQL 1.1 endpoint, over HTTP.

Queries use the SPARQL 1.1 Protocol (``POST`` with ``application/sparql-query``),
writes the SPARQL 1.1 Update protocol (``POST`` with
``application/sparql-update``) and, where available, bulk loads the SPARQL 1.1
Graph Store HTTP Protocol.

**Union default graph.** tinyreg queries the union of all named graphs as the
default graph. The endpoint must be configured that way: start Oxigraph with
``oxigraph serve --location DIR --union-default-graph``; Virtuoso does it by
default; for Apache Jena Fuseki set ``tdb2:unionDefaultGraph true``; GraphDB and
Stardog have equivalent settings. Against an endpoint without it, queries that
do not use ``GRAPH`` find nothing.

**URLs.** Given a base URL (``http://host:7878``) the Oxigraph layout is
assumed: ``/query``, ``/update`` and ``/store`` (Graph Store Protocol). A URL
ending in ``/query`` is used for queries, and ``/update`` and ``/store`` next to
it. Any other URL (for instance one ending in ``/sparql``) serves both queries
and updates, and bulk loads go through SPARQL Update. Every URL can be given
explicitly. Credentials may be given as ``auth`` or in the URL's user-info; they
never appear in messages.

**Protocol.** Short queries are sent as ``GET`` (``?query=...``), longer ones
as ``POST`` with an URL-encoded form, the request shapes every SPARQL 1.1
server accepts (Virtuoso 7.2 waits for more input on a ``POST`` with
``application/sparql-query``); updates as ``POST`` with
``application/sparql-update``.

**Virtuoso.** Recognised by its ``Server`` header on the first request (or told
with ``virtuoso=True``), Virtuoso gets three adjustments, each measured by the
store contract tests (``docs/design.md``, "Virtuoso as the store"):

* its own graphs (``virtrdf:``, the LDP vocabulary, the service description of
  the endpoint) hold a few thousand triples. :meth:`graph_names`,
  :meth:`has_graph` and :meth:`triple_count` leave them out, and queries are sent
  with ``define input:default-graph-exclude`` and ``define
  input:named-graph-exclude`` for each, so the store looks empty without
  tinyreg's data, as Oxigraph does. Except for one shape: in Virtuoso 7.2.5 those
  pragmas make every ``GRAPH <iri> { ... }`` group match, even of an absent graph,
  so a query that names a graph (``GRAPH <iri>`` or ``GRAPH prefix:name``) is sent
  without them and its default-graph patterns also see Virtuoso's own triples
  (tinyreg's queries never match them: they use tinyreg's vocabulary);
* queries are first parsed locally (as with bindings), so a syntax error reads
  the same as on Oxigraph; ``DESCRIBE`` is sent with ``define sql:describe-mode
  "CBD"`` (Virtuoso's default describes nothing over the union default graph);
* a boolean computed by a query (``(?a <= ?b AS ?ok)``, ``(true AS ?t)``) comes
  back as the integer ``1`` or ``0``: Virtuoso has no boolean type in results.
  Stored ``xsd:boolean`` literals read back as booleans;
* it refuses blank nodes in ``INSERT DATA``: graphs are written with
  ``INSERT { ... } WHERE { }``, the same triples with fresh blank nodes;
* answers are capped by the server's ``ResultSetMaxRows`` and cut by
  ``MaxQueryExecutionTime``: the server must be configured without both limits
  (see the docs); the store cannot tell a cut answer from a whole one.

**Bindings.** An endpoint cannot substitute variables: the query is first
parsed locally by Oxigraph (so syntax errors read the same as with the
embedded store), then the bound values are written into its outermost
``WHERE`` group as a ``VALUES`` block; see :mod:`tinyreg.core.stores.base`
for why this is equivalent to the embedded store's substitution.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from rdflib import Graph
from rdflib.term import Node
from requests.auth import AuthBase

from tinyreg.core.errors import ConfigError, InputError, QueryError, StoreError
from tinyreg.core.stores.base import (
    BaseGraphStore,
    BulkFormat,
    BulkSource,
    QueryResult,
    StoreCapabilities,
    check_query,
    graph_node,
    guess_bulk_format,
    inline_bindings,
    normalise_bindings,
    query_form,
    replace_update,
    result_from_oxigraph,
    template_inserts,
)

__all__ = ["SparqlEndpointStore"]

Auth = tuple[str, str] | AuthBase

ACCEPT = (
    "application/sparql-results+json, application/n-triples;q=0.9, text/turtle;q=0.8, "
    "application/sparql-results+xml;q=0.7, application/rdf+xml;q=0.6"
)

GET_MAX_CHARS = 1500
"""Queries up to this length go as ``GET ?query=...``, one packet: Virtuoso answers a
``POST`` whose body arrives in a second packet about 5 ms later
(``benchmarks/sparql_client.py``). Longer ones are ``POST``ed (URL length limits)."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters (other than tab and line breaks), which Virtuoso mangles in a URL:
a query holding one is ``POST``ed."""

GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.8, application/rdf+xml;q=0.6"
"""For ``CONSTRUCT`` and ``DESCRIBE``: Virtuoso answers them as a table of ``?s ?p ?o``
when a result format comes first in ``Accept``."""

RESULT_FORMATS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}

GRAPH_FORMATS = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}

HAS_GRAPH_QUERY = "ASK WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
GET_GRAPH_QUERY = "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
SD_SERVICE = "http://www.w3.org/ns/sparql-service-description#Service"
VIRTUOSO_GRAPHS = (
    "http://www.openlinksw.com/schemas/virtrdf#",
    "http://www.w3.org/ns/ldp#",
)
"""Graphs every Virtuoso database holds for itself."""
NAMED_GRAPH = re.compile(r"\bGRAPH\s+[^\s?${]", re.IGNORECASE)
"""A ``GRAPH`` group named by an IRI or a prefixed name, not a variable."""
SERVICE_GRAPHS_QUERY = f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s a <{SD_SERVICE}> }} }}"
"""Finds the graph of Virtuoso's service description (named after its ``DefaultHost``)."""

GRAPH_NAMES_QUERY = (
    "SELECT ?g WHERE { GRAPH ?g { } FILTER(isIRI(?g)) FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }"
)
VIRTUOSO_GRAPH_NAMES_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?g)) }"
"""Virtuoso answers ``GRAPH ?g { }`` with one row that binds nothing."""


class SparqlEndpointStore(BaseGraphStore):
    """A :class:`~tinyreg.core.stores.base.GraphStore` on a remote SPARQL 1.1 endpoint.

    The store holds a keep-alive HTTP session; it is safe to share between
    threads for the read and write calls of this class.

    Attributes:
        query_url: The SPARQL query endpoint.
        update_url: The SPARQL Update endpoint.
        store_url: The Graph Store Protocol endpoint used by :meth:`bulk_load`,
            or ``None`` to bulk load through SPARQL Update.
        timeout: Seconds to wait for an answer (``None``: wait forever).
        bulk_timeout: Seconds to wait for a bulk load to finish.
        label: The query URL without credentials.
        capabilities: Transactional as configured, substitutions emulated.
        engine_graphs: The endpoint's own graphs, hidden from tinyreg (Virtuoso's),
            known after the first request.

    """

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        store_url: str | None = None,
        auth: Auth | None = None,
        timeout: float | None = 30.0,
        bulk_timeout: float | None = 600.0,
        transactional: bool = True,
        virtuoso: bool | None = None,
    ) -> None:
        """Configure the endpoint; no request is sent until the first call.

        Args:
            query_url: A base URL (Oxigraph layout assumed), a URL ending in
                ``/query``, or the URL of any SPARQL endpoint.
            update_url: The SPARQL Update URL; derived from ``query_url`` when
                ``None`` (``/update`` next to ``/query``, else the same URL).
            store_url: The Graph Store Protocol URL; derived for the Oxigraph
                layout when ``None``; ``""`` disables it.
            auth: HTTP credentials, a ``(user, password)`` pair or any
                ``requests`` auth object.
            timeout: Seconds to wait for an answer to queries and updates.
            bulk_timeout: Seconds to wait for a bulk load.
            transactional: Whether the endpoint applies each update request
                atomically (true for Oxigraph, Fuseki/TDB2, Virtuoso, GraphDB).
            virtuoso: Whether the endpoint is Virtuoso; told by its ``Server``
                header on the first request when ``None``.

        Raises:
            ConfigError: A URL is not an absolute ``http(s)`` URL.

        """
        base = _check_url(query_url)
        path = urlsplit(base).path.rstrip("/")
        derived_update = base
        derived_store: str | None = None
        if path == "":
            root = base.rstrip("/")
            base, derived_update, derived_store = f"{root}/query", f"{root}/update", f"{root}/store"
        elif path.endswith("/query"):
            root = base.rstrip("/")[: -len("/query")]
            derived_update, derived_store = f"{root}/update", f"{root}/store"
        self.query_url = base
        self.update_url = _check_url(update_url) if update_url else derived_update
        if store_url is None:
            self.store_url: str | None = derived_store
        else:
            self.store_url = _check_url(store_url) if store_url else None
        self.timeout = timeout
        self.bulk_timeout = bulk_timeout
        self.label = _public_url(self.query_url)
        self.capabilities = StoreCapabilities(
            transactional=transactional,
            substitutions=False,
            persistent=True,
            graph_store_protocol=self.store_url is not None,
        )
        self._virtuoso = virtuoso
        self.engine_graphs: tuple[str, ...] | None = None if virtuoso is not False else ()
        self._dialect_lock = threading.Lock()
        self._exclusions = ""
        self._session: requests.Session | None = requests.Session()
        self._session.headers["User-Agent"] = "tinyreg-registry"
        if auth is not None:
            self._session.auth = auth

    # ------------------------------------------------------------------ HTTP

    def _post(
        self,
        url: str,
        data: bytes | IO[bytes] | Mapping[str, str],
        content_type: str,
        *,
        accept: str | None = None,
        params: Mapping[str, str] | None = None,
        timeout: float | None,
        refused: Callable[[str], Exception],
        get: bool = False,
    ) -> requests.Response:
        """Send one POST (or GET) request and map failures to tinyreg errors.

        Args:
            url: The endpoint.
            data: The request body.
            content_type: Its media type.
            accept: The ``Accept`` header, if any.
            params: URL query parameters.
            timeout: Seconds to wait for the answer.
            refused: Builds the error for a ``400 Bad Request`` from its message.
            get: Send ``data`` (a form) as the URL's query string of a ``GET`` instead.

        Returns:
            The successful response.

        Raises:
            StoreError: The endpoint is unreachable, too slow, or answered with
                an error other than 400.

        """
        session = self._session
        where = _public_url(url)
        if session is None:
            raise StoreError(where, "the store is closed")
        headers = {} if get else {"Content-Type": content_type}
        if accept:
            headers["Accept"] = accept
        try:
            if get:
                response = session.get(url, params=data, headers=headers, timeout=timeout)  # type: ignore[arg-type]
            else:
                response = session.post(
                    url, data=data, headers=headers, params=params, timeout=timeout
                )
        except requests.Timeout as exc:
            raise StoreError(where, f"no answer within {timeout} s") from exc
        except requests.ConnectionError as exc:
            raise StoreError(where, f"cannot connect: {_reason(exc)}") from exc
        except requests.RequestException as exc:
            raise StoreError(where, f"request failed: {_reason(exc)}") from exc
        if response.status_code == 400:
            raise refused(_body(response) or "400 Bad Request")
        if not 200 <= response.status_code < 300:
            detail = _body(response)
            message = f"HTTP {response.status_code} {response.reason}"
            raise StoreError(where, f"{message}: {detail}" if detail else message)
        return response

    # ------------------------------------------------------------------ dialect

    def _probe(self) -> None:
        """Find out, once, whether the endpoint is Virtuoso and which graphs are its own.

        Raises:
            StoreError: The endpoint is unreachable or failed.

        """
        if self.engine_graphs is not None:
            return
        with self._dialect_lock:
            if self.engine_graphs is not None:
                return
            answer = self._post(
                self.query_url,
                {"query": SERVICE_GRAPHS_QUERY},
                "application/x-www-form-urlencoded",
                accept="application/sparql-results+json",
                timeout=self.timeout,
                refused=QueryError,
            )
            if self._virtuoso is None:
                self._virtuoso = answer.headers.get("Server", "").startswith("Virtuoso")
            graphs: tuple[str, ...] = ()
            if self._virtuoso:
                rows = self._parse(answer)
                found = {str(row["g"]) for row in rows.rows if "g" in row}
                graphs = tuple(sorted(found.union(VIRTUOSO_GRAPHS)))
                self._exclusions = "".join(
                    f"define input:default-graph-exclude {graph_node(g)}\n"
                    f"define input:named-graph-exclude {graph_node(g)}\n"
                    for g in graphs
                )
            self.engine_graphs = graphs

    def _engine_graphs(self) -> tuple[str, ...]:
        """The endpoint's own graphs (asks it on first use)."""
        self._probe()
        return self.engine_graphs or ()

    @property
    def is_virtuoso(self) -> bool:
        """Whether the endpoint is Virtuoso (asks it on first use)."""
        self._probe()
        return bool(self._virtuoso)

    @property
    def dialect(self) -> str:
        """``"virtuoso"`` on Virtuoso, else ``"sparql"`` (asks the endpoint on first use)."""
        return "virtuoso" if self.is_virtuoso else "sparql"

    # ------------------------------------------------------------------ reads

    def query(self, sparql: str, bindings: Mapping[str, Node] | None = None) -> QueryResult:
        """Run a SPARQL query on the endpoint.

        Args:
            sparql: A ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` query.
            bindings: Values of variables, sent as an inline ``VALUES`` block.

        Returns:
            The materialised result with rdflib terms.

        Raises:
            QueryError: The endpoint or the local check refused the query.
            StoreError: The endpoint is unreachable or failed.

        """
        values = normalise_bindings(bindings)
        if values:
            check_query(sparql)
            sparql = inline_bindings(sparql, values)
        form = query_form(sparql)
        if self.is_virtuoso:
            if not values:
                check_query(sparql)  # syntax errors read as on Oxigraph, not Virtuoso's
            if not NAMED_GRAPH.search(sparql):
                sparql = self._exclusions + sparql
            if form == "DESCRIBE":
                sparql = 'define sql:describe-mode "CBD"\n' + sparql
        response = self._post(
            self.query_url,
            {"query": sparql},
            "application/x-www-form-urlencoded",
            accept=GRAPH_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else ACCEPT,
            timeout=self.timeout,
            refused=QueryError,
            get=len(sparql) <= GET_MAX_CHARS and not _CONTROL.search(sparql),
        )
        return self._parse(response)

    def _parse(self, response: requests.Response) -> QueryResult:
        """Read a query's answer in any of the result formats asked for.

        Args:
            response: The successful HTTP response.

        Returns:
            The materialised result.

        Raises:
            StoreError: The answer is malformed or of an unexpected type.

        """
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if media_type in RESULT_FORMATS:
                parsed: Any = ox.parse_query_results(
                    response.content, format=RESULT_FORMATS[media_type]
                )
                return result_from_oxigraph(parsed)
            if media_type in GRAPH_FORMATS:
                parsed = ox.parse(response.content, format=GRAPH_FORMATS[media_type])
                return result_from_oxigraph(parsed)
        except (SyntaxError, ValueError) as exc:
            raise StoreError(self.label, f"malformed {media_type} answer: {exc}") from exc
        raise StoreError(self.label, f"unexpected answer of type {media_type or 'unknown'!r}")

    def has_graph(self, name: str) -> bool:
        """Tell whether a named graph holds at least one triple.

        Args:
            name: The graph IRI.

        Returns:
            ``True`` if the graph exists.

        """
        node = graph_node(name)
        if name in self._engine_graphs():
            return False
        return self.ask(HAS_GRAPH_QUERY.format(graph=node))

    def graph_names(self) -> list[str]:
        """List the IRIs of the non-empty named graphs.

        Returns:
            The graph IRIs, sorted.

        """
        hidden = self._engine_graphs()
        query = VIRTUOSO_GRAPH_NAMES_QUERY if self._virtuoso else GRAPH_NAMES_QUERY
        return sorted({str(row["g"]) for row in self.select(query) if "g" in row} - set(hidden))

    def triple_count(self) -> int:
        """Count the triples of all named graphs but the endpoint's own.

        Returns:
            The number of (graph, triple) pairs.

        """
        hidden = self._engine_graphs()
        if not hidden:
            return super().triple_count()
        excluded = ", ".join(str(graph_node(g)) for g in hidden)
        rows = self.select_values(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(?g NOT IN ({excluded})) }}"
        )
        return int(rows[0].get("n", 0)) if rows else 0

    def get_graph(self, name: str) -> Graph:
        """Return the content of a named graph.

        Args:
            name: The graph IRI.

        Returns:
            A new rdflib graph, empty if the named graph is absent.

        """
        result = self.query(GET_GRAPH_QUERY.format(graph=graph_node(name)))
        return result.graph if result.graph is not None else Graph()

    # ------------------------------------------------------------------ writes

    def replace_graphs(self, graphs: Mapping[str, Graph]) -> None:
        """Atomically replace several named graphs with one SPARQL Update.

        Args:
            graphs: New content by graph IRI.

        """
        if graphs:
            self.update(replace_update(graphs, template=self.is_virtuoso))

    def update(self, sparql: str) -> None:
        """Send a SPARQL Update request.

        Args:
            sparql: The update request.

        Raises:
            QueryError: The endpoint refused the request (HTTP 400).
            StoreError: The endpoint is unreachable or failed.

        """
        self._post(
            self.update_url,
            sparql.encode("utf-8"),
            "application/sparql-update",
            timeout=self.timeout,
            refused=QueryError,
        )

    def bulk_load(
        self,
        source: BulkSource,
        graph: str | None = None,
        *,
        rdf_format: BulkFormat | None = None,
    ) -> None:
        """Add a large N-Triples or N-Quads document to the endpoint.

        With a Graph Store Protocol URL the document is streamed as is
        (``POST /store?graph=...`` for N-Triples, ``POST /store`` with N-Quads,
        which Oxigraph accepts); the server renames its blank nodes. Otherwise it
        is parsed locally and sent as one ``INSERT DATA`` request.

        Args:
            source: A file path, or the document as bytes.
            graph: The named graph receiving N-Triples; ``None`` for N-Quads.
            rdf_format: ``"nt"`` or ``"nq"``; guessed when ``None``.

        Raises:
            InputError: The document is invalid, or the format cannot be told.
            StoreError: The endpoint is unreachable or failed.

        """
        chosen = guess_bulk_format(source, graph, rdf_format)
        target = graph_node(graph) if graph is not None else None
        where = "<bytes>" if isinstance(source, bytes | bytearray) else os.fspath(source)

        def refused(message: str) -> Exception:
            return InputError(f"{where}: refused by {self.label}: {message}")

        if self.store_url is not None:
            content_type = "application/n-triples" if chosen == "nt" else "application/n-quads"
            params = {"graph": target.value} if target is not None else None
            if isinstance(source, bytes | bytearray):
                self._post(
                    self.store_url,
                    bytes(source),
                    content_type,
                    params=params,
                    timeout=self.bulk_timeout,
                    refused=refused,
                )
                return
            with _open_source(where) as stream:
                self._post(
                    self.store_url,
                    stream,
                    content_type,
                    params=params,
                    timeout=self.bulk_timeout,
                    refused=refused,
                )
            return
        data = bytes(source) if isinstance(source, bytes | bytearray) else _read_source(where)
        request = _insert_data(data, chosen, target, where, template=self.is_virtuoso)
        self._post(
            self.update_url,
            request.encode("utf-8"),
            "application/sparql-update",
            timeout=self.bulk_timeout,
            refused=refused,
        )

    # ------------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the HTTP session. Idempotent."""
        session, self._session = self._session, None
        if session is not None:
            session.close()


# --------------------------------------------------------------------------- URLs


def _check_url(url: str) -> str:
    """Check that a URL is an absolute http(s) URL.

    Args:
        url: The URL.

    Returns:
        The URL, unchanged.

    Raises:
        ConfigError: It is not.

    """
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{url!r} is not an http(s) SPARQL endpoint URL")
    return url


def _public_url(url: str) -> str:
    """Drop user-info (credentials) from a URL, for messages.

    Args:
        url: The URL.

    Returns:
        The URL without ``user:password@``.

    """
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _reason(exc: BaseException) -> str:
    """Find the innermost cause of a connection error, for messages.

    Args:
        exc: The exception raised by ``requests``.

    Returns:
        A short description such as ``[Errno 111] Connection refused``.

    """
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\][^'\")]*", text)
    return match.group(0).strip() if match else text


def _body(response: requests.Response) -> str:
    """Return the start of an error response body.

    Args:
        response: The HTTP response.

    Returns:
        Its text, stripped and cut to 2,000 characters.

    """
    return response.text.strip()[:2000]


# --------------------------------------------------------------------------- bulk load


def _open_source(path: str) -> IO[bytes]:
    """Open a bulk-load file for streaming.

    Args:
        path: The file.

    Returns:
        The open binary file.

    Raises:
        InputError: It cannot be read.

    """
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def _read_source(path: str) -> bytes:
    """Read a bulk-load file.

    Args:
        path: The file.

    Returns:
        Its content.

    Raises:
        InputError: It cannot be read.

    """
    with _open_source(path) as stream:
        return stream.read()


def _insert_data(
    data: bytes,
    chosen: BulkFormat,
    target: ox.NamedNode | None,
    where: str,
    *,
    template: bool = False,
) -> str:
    """Turn an N-Triples or N-Quads document into one ``INSERT DATA`` request.

    Args:
        data: The document.
        chosen: Its syntax.
        target: The graph for N-Triples.
        where: The source, for messages.
        template: Write ``INSERT { ... } WHERE { }`` (for Virtuoso) instead.

    Returns:
        The update request.

    Raises:
        InputError: The document is not valid.

    """
    syntax = ox.RdfFormat.N_TRIPLES if chosen == "nt" else ox.RdfFormat.N_QUADS
    by_graph: dict[str, list[ox.Triple]] = {}
    try:
        for quad in ox.parse(data, format=syntax):
            graph_name = target if target is not None else quad.graph_name
            key = "" if isinstance(graph_name, ox.DefaultGraph) else str(graph_name)
            by_graph.setdefault(key, []).append(
                ox.Triple(quad.subject, quad.predicate, quad.object)
            )
    except SyntaxError as exc:
        raise InputError(f"{where}: invalid {chosen.upper()} data: {exc}") from exc
    blocks = []
    operations: list[str] = []
    for key, triples in by_graph.items():
        text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        blocks.append(f"GRAPH {key} {{\n{text}}}" if key else f"{{\n{text}}}")
        if template and key:
            operations.extend(template_inserts(ox.NamedNode(key[1:-1]), text))
    if template:
        return " ;\n".join(operations)
    return "INSERT DATA {\n" + "\n".join(blocks) + "\n}"
