"""The embedded graph store: Oxigraph (RocksDB) in a local directory or in memory.

An on-disk store directory is locked exclusively by the process that opens it
(RocksDB's ``LOCK`` file): a second :class:`OxigraphStore` on the same
directory, in this process or another one, fails with
:class:`~tinyreg.core.errors.StoreError` until the first is closed. To share
one store between several processes, serve it with
``oxigraph serve --location DIR --union-default-graph`` and use
:class:`~tinyreg.core.stores.sparql_store.SparqlEndpointStore`.

Every SPARQL Update runs in one RocksDB transaction, so a replacement is either
fully applied or not at all, even if the process is killed half-way.

**Write generation.** Every write (update, bulk load) made through the store that holds
the lock adds one to :attr:`OxigraphStore.generation` once it is committed. On disk the
count is also kept in the file ``GENERATION_FILE`` in the store directory (eight bytes,
memory-mapped), so other processes that opened the directory read-only see the writer's
count: a read-only store compares it on each use (a memory read) and reopens itself when
it changed, so it reads every write committed before the writer answered its caller.
Caches keyed by the generation (the REST app's pre-serialised answers) are exact.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from tinyreg.core.errors import InputError, QueryError, StoreError
from tinyreg.core.stores.base import (
    BaseGraphStore,
    BulkFormat,
    BulkSource,
    QueryResult,
    StoreCapabilities,
    from_oxigraph,
    graph_node,
    guess_bulk_format,
    inline_bindings,
    normalise_bindings,
    plain_from_lexical,
    result_from_oxigraph,
)
from tinyreg.core.stores.plain import open_error

__all__ = ["OxigraphStore"]

MEMORY_LABEL = ":memory:"
GENERATION_FILE = "tinyreg-generation"
"""The file in a store directory that holds its write generation (8 bytes, little endian)."""
BULK_WRITE_TRIPLES = 2_000
"""From this many triples on, new graphs go to an on-disk store through the bulk loader.

Measured on the 2-core reference machine with the seed corpus's descriptions (~590
triples a model): a transactional load costs ~14 µs a triple; Oxigraph's bulk loader
(atomic since Oxigraph 0.5: its files are ingested in one RocksDB call, or not at all)
costs ~15 ms a call plus ~4.6 µs a triple. They break even near 1,600 triples.
"""


class _Generation:
    """A store directory's write count, shared by processes through a memory-mapped file.

    Only the process holding the store's lock writes it; readers map it and read.
    """

    def __init__(self, path: Path | None, *, writer: bool) -> None:
        self._map: mmap.mmap | None = None
        self._local = 0
        self._lock = threading.Lock()
        if path is None:
            return
        file = path / GENERATION_FILE
        try:
            if writer:
                fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
                if os.fstat(fd).st_size < 8:
                    os.ftruncate(fd, 8)
            else:
                fd = os.open(file, os.O_RDONLY)
        except OSError:
            return  # a read-only store of a writer that keeps no count: reopen by hand
        try:
            access = mmap.ACCESS_WRITE if writer else mmap.ACCESS_READ
            self._map = mmap.mmap(fd, 8, access=access)
        except (OSError, ValueError):
            self._map = None
        finally:
            os.close(fd)

    def value(self) -> int:
        """The current count."""
        if self._map is None:
            return self._local
        return int(struct.unpack_from("<Q", self._map)[0])

    def bump(self) -> int:
        """Add one (the writer only) and return the new count."""
        with self._lock:
            value = self.value() + 1
            self._local = value
            if self._map is not None:
                struct.pack_into("<Q", self._map, 0, value)
            return value

    def close(self) -> None:
        if self._map is not None:
            with contextlib.suppress(ValueError, BufferError):
                self._map.close()
            self._map = None


class OxigraphStore(BaseGraphStore):
    """A :class:`~tinyreg.core.stores.base.GraphStore` on an embedded ``pyoxigraph.Store``.

    Queries run with ``use_default_graph_as_union=True`` and bindings are
    passed as pyoxigraph ``substitutions``; queries that do not project a bound
    variable, which Oxigraph refuses to substitute, take the values inline as a
    ``VALUES`` block (see :mod:`tinyreg.core.stores.base`).

    Attributes:
        path: The store directory, or ``None`` for an in-memory store.
        label: The directory, or ``":memory:"``.
        capabilities: Transactional, native substitutions, persistent when on disk.

    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False
    ) -> None:
        """Open (creating if needed) a store directory, or an in-memory store.

        Args:
            path: The store directory; ``None`` keeps the data in memory only.
            read_only: Open an existing directory for reading only, without its lock.
                Writes the process holding the lock commits later are seen from the next
                use on (the store reopens itself when the writer's generation changes;
                a writer that keeps no generation file is not followed). Used by query
                workers, ``tinyreg serve --workers`` and the command line while a
                server holds the store.

        Raises:
            StoreError: The directory is locked by another store, is not a
                directory, holds no valid store or cannot be created.

        """
        self.path: Path | None = Path(path) if path is not None else None
        self.label = str(self.path) if self.path is not None else MEMORY_LABEL
        self.capabilities = StoreCapabilities(
            transactional=True,
            substitutions=True,
            persistent=self.path is not None,
        )
        try:
            if self.path is None:
                store = ox.Store()
            elif read_only:
                store = ox.Store.read_only(str(self.path))
            else:
                store = ox.Store(str(self.path))
        except OSError as exc:
            raise StoreError(self.label, open_error(exc)) from exc
        self._store: ox.Store | None = store
        self.read_only = read_only
        self._generation = _Generation(self.path, writer=not read_only)
        self._opened_at = self._generation.value()
        self._reopen = threading.Lock()
        self._write_lock = threading.RLock()  # a test-then-write is one write

    # ------------------------------------------------------------------ helpers

    @property
    def generation(self) -> int:
        """The write generation: one more after each committed write (see the module)."""
        return self._generation.value()

    @property
    def _db(self) -> ox.Store:
        store = self._store
        if store is None:
            raise StoreError(self.label, "the store is closed")
        if self.read_only and self._generation.value() != self._opened_at:
            store = self._follow()
        return store

    def _follow(self) -> ox.Store:
        """Reopen a read-only store to see the writer's latest commits."""
        with self._reopen:
            current = self._generation.value()
            store = self._store
            if store is None:
                raise StoreError(self.label, "the store is closed")
            if current == self._opened_at:
                return store  # another thread reopened it meanwhile
            try:
                store = ox.Store.read_only(str(self.path))
            except OSError as exc:
                raise StoreError(self.label, open_error(exc)) from exc
            self._store, self._opened_at = store, current
            return store

    # ------------------------------------------------------------------ reads

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """Map Oxigraph's errors while a query is evaluated (results are lazy)."""
        try:
            yield
        except SyntaxError as exc:
            raise QueryError(str(exc.msg or exc)) from exc
        except OSError as exc:
            raise StoreError(self.label, f"query failed: {exc}") from exc
        except (RuntimeError, ValueError, TypeError) as exc:
            raise QueryError(str(exc)) from exc

    def _evaluate(self, sparql: str, bindings: Mapping[str, Node] | None) -> object:
        """Start a query, bindings substituted by Oxigraph or inlined; call in :meth:`_reading`."""
        values = normalise_bindings(bindings)
        db = self._db
        if not values:
            return db.query(sparql, use_default_graph_as_union=True)
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple]
        substitutions = {ox.Variable(name): term for name, term in values.items()}
        try:
            return db.query(sparql, use_default_graph_as_union=True, substitutions=substitutions)
        except RuntimeError:
            # Oxigraph only substitutes projected variables (SEP-0007); other
            # queries take the values inline, as on a remote endpoint.
            return db.query(inline_bindings(sparql, values), use_default_graph_as_union=True)

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, Node] | None = None,
        *,
        max_rows: int | None = None,
    ) -> QueryResult:
        """Run a SPARQL query over the union of all named graphs.

        Args:
            sparql: A ``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE`` query.
            bindings: Values of variables, substituted by Oxigraph or inlined.
            max_rows: Refuse an answer of more rows or triples than this, read one at
                a time (memory stays bounded); ``None``: no bound.

        Returns:
            The materialised result with rdflib terms.

        Raises:
            QueryError: The query cannot be parsed or evaluated, or a binding
                is not allowed.
            StoreError: Reading the store failed.

        """
        with self._reading():
            return result_from_oxigraph(self._evaluate(sparql, bindings), max_rows)

    def select_values(
        self, sparql: str, bindings: Mapping[str, Node] | None = None
    ) -> list[dict[str, Any]]:
        """Run a ``SELECT`` query; rows as plain Python values, straight from Oxigraph.

        Args:
            sparql: The query.
            bindings: Values of variables, as for :meth:`query`.

        Returns:
            One dict per solution; unbound variables are absent.

        Raises:
            QueryError: The query is not a ``SELECT`` query or is invalid.
            StoreError: Reading the store failed.

        """
        with self._reading():
            raw = self._evaluate(sparql, bindings)
            if not isinstance(raw, ox.QuerySolutions):
                raise QueryError("expected a SELECT query")
            # by position: a solution looked up by variable name costs ~40 % more a row
            columns = list(enumerate(v.value for v in raw.variables))
            rows: list[dict[str, Any]] = []
            for solution in raw:
                row: dict[str, Any] = {}
                for index, name in columns:
                    term = solution[index]
                    if term is None:
                        continue
                    if isinstance(term, ox.Literal):
                        row[name] = plain_from_lexical(term.value, term.datatype.value)
                    else:
                        row[name] = term.value
                rows.append(row)
            return rows

    def has_graph(self, name: str) -> bool:
        """Tell whether a named graph holds at least one triple.

        Args:
            name: The graph IRI.

        Returns:
            ``True`` if the graph exists.

        """
        node = graph_node(name)
        try:
            return next(iter(self._db.quads_for_pattern(None, None, None, node)), None) is not None
        except OSError as exc:
            raise StoreError(self.label, f"reading graph {node} failed: {exc}") from exc

    def graph_names(self) -> list[str]:
        """List the IRIs of the non-empty named graphs.

        Returns:
            The graph IRIs, sorted.

        """
        db = self._db
        try:
            return sorted(
                graph.value
                for graph in db.named_graphs()
                if isinstance(graph, ox.NamedNode)
                and next(iter(db.quads_for_pattern(None, None, None, graph)), None) is not None
            )
        except OSError as exc:
            raise StoreError(self.label, f"listing graphs failed: {exc}") from exc

    def get_graph(self, name: str) -> Graph:
        """Return the content of a named graph.

        Args:
            name: The graph IRI.

        Returns:
            A new rdflib graph, empty if the named graph is absent.

        """
        node = graph_node(name)
        graph = Graph()
        try:
            for quad in self._db.quads_for_pattern(None, None, None, node):
                graph.add(
                    (
                        from_oxigraph(quad.subject),
                        from_oxigraph(quad.predicate),
                        from_oxigraph(quad.object),
                    )
                )
        except OSError as exc:
            raise StoreError(self.label, f"reading graph {node} failed: {exc}") from exc
        return graph

    # ------------------------------------------------------------------ writes

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update request in one transaction.

        Args:
            sparql: The update request.

        Raises:
            QueryError: The request cannot be parsed or applied; nothing was written.
            StoreError: Writing failed; nothing was written.

        """
        if self.read_only:
            raise StoreError(self.label, "opened read-only (another process holds the store)")
        with self._write_lock:
            self._update(sparql)

    def _update(self, sparql: str) -> None:
        """:meth:`update`, the write lock held."""
        try:
            self._db.update(sparql)
            self._generation.bump()
        except SyntaxError as exc:
            raise QueryError(str(exc.msg or exc)) from exc
        except OSError as exc:
            raise StoreError(self.label, f"update failed: {exc}") from exc
        except (RuntimeError, ValueError, TypeError) as exc:
            raise QueryError(str(exc)) from exc

    def replace_graphs_text(self, graphs: Mapping[str, str], *, trusted: bool = False) -> None:
        """Atomically replace named graphs with N-Triples text, parsed by Oxigraph.

        When none of the graphs holds a triple yet (the common case of a bulk import),
        the text is loaded as one N-Quads document: by ``Store.load``, which Oxigraph
        applies as one transaction, or, from :data:`BULK_WRITE_TRIPLES` triples on in an
        on-disk store, by Oxigraph's bulk loader, which writes sorted files and adds them
        to the store in one atomic step (a reader sees all of them or none; a load that
        fails adds nothing). Otherwise one SPARQL Update drops the graphs and inserts the
        text (``DROP SILENT GRAPH ... ; INSERT DATA { GRAPH ... }``). Every path holds the
        store's write lock, so no other write of this store comes between the test and
        the write.

        Args:
            graphs: New content by graph IRI, as N-Triples; ``""`` deletes the graph.
            trusted: The text's IRIs were checked when it was made: Oxigraph's lenient
                parser loads it, without checking them again (new graphs only).

        Raises:
            InputError: A name or the text is not valid RDF; nothing was written.
            StoreError: Writing failed; nothing was written.

        """
        if not graphs:
            return
        if self.read_only:
            raise StoreError(self.label, "opened read-only (another process holds the store)")
        nodes = {name: f"{graph_node(name)}" for name in graphs}
        with self._write_lock:
            if any(self.has_graph(name) for name in graphs):
                drops = " ;\n".join(f"DROP SILENT GRAPH {node}" for node in nodes.values())
                blocks = "\n".join(
                    f"GRAPH {nodes[name]} {{\n{text}}}" for name, text in graphs.items() if text
                )
                self._update(f"{drops} ;\nINSERT DATA {{\n{blocks}\n}}" if blocks else drops)
                return
            quads = "".join(
                text.replace(" .\n", f" {nodes[name]} .\n") for name, text in graphs.items()
            )
            if not quads:
                return
            try:
                data, nquads = quads.encode("utf-8"), ox.RdfFormat.N_QUADS
                if self.path is not None and quads.count("\n") >= BULK_WRITE_TRIPLES:
                    self._db.bulk_load(data, format=nquads, lenient=trusted)
                else:
                    self._db.load(data, format=nquads, lenient=trusted)
                self._generation.bump()
            except SyntaxError as exc:
                raise InputError(f"invalid N-Triples: {exc}") from exc
            except UnicodeError as exc:
                raise InputError(f"invalid text: {exc}") from exc
            except OSError as exc:
                raise StoreError(self.label, f"write failed: {exc}") from exc
            except (RuntimeError, ValueError, TypeError) as exc:
                raise InputError(str(exc)) from exc

    def bulk_load(
        self,
        source: BulkSource,
        graph: str | None = None,
        *,
        rdf_format: BulkFormat | None = None,
    ) -> None:
        """Add a large N-Triples or N-Quads document with Oxigraph's bulk loader.

        The loader bypasses transactions but is atomic (Oxigraph 0.5): it writes sorted
        files and adds them to the store in one step, so a reader sees the whole
        document or none of it, and a load that fails adds nothing. Blank-node labels of
        the document are renamed, so they never merge with existing blank nodes.

        Args:
            source: A file path, or the document as bytes.
            graph: The named graph receiving N-Triples; ``None`` for N-Quads.
            rdf_format: ``"nt"`` or ``"nq"``; guessed when ``None``.

        Raises:
            InputError: The document is not valid N-Triples/N-Quads (nothing is
                loaded), or the format cannot be told.
            StoreError: Reading the file or writing the store failed.

        """
        if self.read_only:
            raise StoreError(self.label, "opened read-only (another process holds the store)")
        chosen = guess_bulk_format(source, graph, rdf_format)
        syntax = ox.RdfFormat.N_TRIPLES if chosen == "nt" else ox.RdfFormat.N_QUADS
        target = graph_node(graph) if graph is not None else None
        where = "<bytes>" if isinstance(source, bytes | bytearray) else os.fspath(source)
        db = self._db
        try:
            if isinstance(source, bytes | bytearray):
                db.bulk_load(input=bytes(source), format=syntax, to_graph=target)
            else:
                db.bulk_load(path=os.fspath(source), format=syntax, to_graph=target)
        except SyntaxError as exc:
            raise InputError(
                f"{where}: invalid {chosen.upper()} data, nothing was loaded: {exc}"
            ) from exc
        except OSError as exc:
            raise StoreError(self.label, f"bulk load of {where} failed: {exc}") from exc
        except ValueError as exc:
            raise InputError(f"{where}: {exc}") from exc
        self._generation.bump()

    # ------------------------------------------------------------------ lifecycle

    def flush(self) -> None:
        """Write the committed data held in memory to the store's files (on disk only).

        Raises:
            StoreError: Writing to disk failed.

        """
        if self._keeps_files:
            self._flush(self._db)

    @property
    def _keeps_files(self) -> bool:
        """Whether this store writes files: on disk, and not a read-only follower."""
        return self.path is not None and not self.read_only

    def _flush(self, store: ox.Store) -> None:
        try:
            store.flush()
        except OSError as exc:
            raise StoreError(self.label, f"flushing to disk failed: {exc}") from exc

    def close(self) -> None:
        """Flush and release the store and its directory lock. Idempotent.

        Raises:
            StoreError: Flushing to disk failed.

        """
        store, self._store = self._store, None
        self._generation.close()
        if store is not None and self._keeps_files:
            self._flush(store)
        del store
