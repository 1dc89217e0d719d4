"""Read queries in worker processes that a deadline really stops, shared fairly.

Oxigraph cannot cancel a query once it runs: a thread running a cartesian product goes
on until it ends, holding its CPU and its place in any thread pool. :class:`QueryPool`
runs each query in one of a few worker *processes* instead, each with the store opened
read-only (:class:`~tinyreg.core.stores.oxigraph_store.OxigraphStore` with
``read_only=True``, no lock needed). When a query's deadline passes, its worker is killed
(SIGKILL) and a new one started in its place, so the work stops and the pool is whole
again within the start-up time of a worker (about a second); queries go to workers that
have started first.

A worker reopens the store when the store directory changed since it last opened it (the
sizes and modification times of its files, which every write of the RocksDB write-ahead
log changes), so a query sees every write that finished before it was sent. Oxigraph
documents a read-only store opened beside a writing process as undefined behaviour; what
RocksDB does there is read a snapshot, and a compaction removing a file under a long
query can make that query fail with a store error. The worker never writes.

**Fairness.** Each query belongs to a client (the caller chooses the key: a remote
address, a token). A client runs at most ``per_client`` queries at once (by default one
fewer than the workers, at least one), so one client never holds every worker; waiting
queries are served by fewest running queries of their client first, then in arrival
order. A query waits for a worker within its own deadline: the deadline covers waiting
and running.

>>> QueryPool.fair_share(2), QueryPool.fair_share(4), QueryPool.fair_share(1)
(1, 3, 1)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.term import Node

from tinyreg.core.errors import QueryError, QueryTimeoutError, StoreError
from tinyreg.core.sparql_text import friendly_syntax_error, relocate_error, with_prefixes
from tinyreg.core.stores.base import QueryResult

__all__ = ["QueryPool"]

log = logging.getLogger("tinyreg.stores.pool")

MIN_RUN_S = 0.5
"""A query that gets a worker with less time than this left times out without starting:
starting it would most likely cost a worker (killed at once) for nothing."""


def _fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """Names, sizes and modification times of a store directory's files."""
    found = []
    with contextlib.suppress(OSError), os.scandir(path) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                info = entry.stat()
                found.append((entry.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(found))


def _serve(conn: Connection, path: str, max_rows: int | None = None) -> None:
    """A worker's loop: read a query, answer it, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from tinyreg.core.stores.oxigraph_store import OxigraphStore

    store: OxigraphStore | None = None
    seen: tuple[tuple[str, int, int], ...] | None = None
    with contextlib.suppress(StoreError):  # ready before the first query comes
        seen = _fingerprint(Path(path))
        store = OxigraphStore(path, read_only=True)
    conn.send(("ready",))
    while True:
        try:
            sparql = conn.recv()
        except (EOFError, OSError):
            return
        shift = 0
        try:
            current = _fingerprint(Path(path))
            if store is None or current != seen:
                if store is not None:
                    store.close()
                store = OxigraphStore(path, read_only=True)
                seen = current
            text, shift = with_prefixes(sparql)
            result = store.query(text, max_rows=max_rows)
            triples = list(result.graph) if result.graph is not None else None
            conn.send(("ok", result.kind, result.variables, result.rows, result.boolean, triples))
        except QueryError as exc:
            conn.send(("query", friendly_syntax_error(relocate_error(exc.detail, shift), sparql)))
        except StoreError as exc:
            store, seen = None, None
            conn.send(("store", exc.detail))
        except Exception as exc:  # answered, never fatal to the worker
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


@dataclass
class _Worker:
    """One worker process and its end of the pipe."""

    context: Any
    path: str
    max_rows: int | None = None
    process: Any = None
    conn: Connection | None = None
    ready: bool = False
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        parent, child = self.context.Pipe()
        process = self.context.Process(
            target=_serve,
            args=(child, self.path, self.max_rows),
            name="tinyreg-sparql",
            daemon=True,
        )
        process.start()
        child.close()
        self.process, self.conn, self.ready = process, parent, False

    def warm(self) -> bool:
        """Whether the worker has started (its imports done, the store open); never waits."""
        if not self.ready and self.conn is not None:
            with contextlib.suppress(EOFError, OSError):
                if self.conn.poll(0):
                    self.ready = self.conn.recv() == ("ready",)
        return self.ready

    def stop(self) -> None:
        process, conn = self.process, self.conn
        self.process, self.conn = None, None
        if conn is not None:
            conn.close()
        if process is not None and process.is_alive():
            process.kill()
            process.join(5)

    def ask(self, sparql: str, seconds: float) -> tuple[Any, ...]:
        """Send a query and wait for its answer; kill and restart the worker on timeout."""
        with self.lock:
            if self.retired:
                return ("died", "the pool is closed")
            if self.conn is None or self.process is None or not self.process.is_alive():
                self.stop()
                self.start()
            assert self.conn is not None
            deadline = time.monotonic() + seconds
            try:
                if not self.ready:  # a worker just started: wait until it is up
                    if not self.conn.poll(max(0.0, seconds)):
                        raise TimeoutError
                    self.ready = self.conn.recv() == ("ready",)
                self.conn.send(sparql)
                if self.conn.poll(max(0.0, deadline - time.monotonic())):
                    answer: tuple[Any, ...] = self.conn.recv()
                    return answer
                outcome: tuple[Any, ...] = ("timeout",)
            except TimeoutError:
                outcome = ("timeout",)
            except (EOFError, OSError) as exc:
                outcome = ("died", str(exc))
            self.stop()
            if not self.retired:
                self.start()
            return outcome


@dataclass
class _Waiter:
    client: str
    future: asyncio.Future[_Worker]


class QueryPool:
    """Worker processes answering read queries on an on-disk Oxigraph store.

    Args:
        path: The store directory (opened read-only by each worker).
        workers: How many queries run at once.
        per_client: How many of them one client may run at once; default
            :meth:`fair_share`.
        max_rows: The most rows (or triples) one answer may have; more is refused
            with a :class:`~tinyreg.core.errors.QueryError` before it fills memory.

    """

    def __init__(
        self,
        path: Path,
        workers: int,
        per_client: int | None = None,
        max_rows: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self.workers = workers
        self.per_client = per_client if per_client is not None else self.fair_share(workers)
        self._context = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._waiting: list[_Waiter] = []
        self._running: dict[str, int] = {}
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="sparql-wait")

    @staticmethod
    def fair_share(workers: int) -> int:
        """Queries one client may run at once by default: all workers but one."""
        return max(1, workers - 1)

    def start(self) -> None:
        """Start the worker processes."""
        for _ in range(self.workers):
            worker = _Worker(self._context, str(self.path), self.max_rows)
            worker.start()
            self._all.append(worker)
            self._idle.append(worker)

    def close(self) -> None:
        """Stop every worker; queries still running get a store error."""
        for worker in self._all:
            worker.retired = True
            worker.stop()
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _dispatch(self) -> None:
        """Give idle workers to waiting queries: fewest running for their client first."""
        self._waiting = [w for w in self._waiting if not w.future.done()]
        while self._idle:
            eligible = [
                w for w in self._waiting if self._running.get(w.client, 0) < self.per_client
            ]
            if not eligible:
                return
            chosen = min(eligible, key=lambda w: self._running.get(w.client, 0))
            self._waiting.remove(chosen)
            self._running[chosen.client] = self._running.get(chosen.client, 0) + 1
            worker = next((w for w in self._idle if w.warm()), self._idle[0])  # warm first
            self._idle.remove(worker)
            chosen.future.set_result(worker)

    def _release(self, worker: _Worker, client: str) -> None:
        left = self._running.get(client, 1) - 1
        if left > 0:
            self._running[client] = left
        else:
            self._running.pop(client, None)
        self._idle.append(worker)
        self._dispatch()

    async def run(self, client: str, sparql: str, timeout: float) -> QueryResult:
        """Answer a query within ``timeout`` seconds (waiting for a worker included).

        Args:
            client: Who asks (a remote address, a token's hash).
            sparql: The user's query; the project's prefixes may be used undeclared.
            timeout: Seconds before the query is abandoned and its worker killed.

        Returns:
            The materialised result.

        Raises:
            QueryTimeoutError: If no answer came in time (the work was stopped).
            QueryError: If the query is invalid (a message for the user).
            StoreError: If the store failed (details are logged, not returned).

        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        waiter = _Waiter(client, loop.create_future())
        self._waiting.append(waiter)
        self._dispatch()
        try:
            worker = await asyncio.wait_for(waiter.future, timeout)
        except TimeoutError:
            raise QueryTimeoutError(timeout) from None
        remaining = deadline - loop.time()
        if remaining < MIN_RUN_S:  # too late to start: keep the worker (and its warmth)
            self._release(worker, client)
            raise QueryTimeoutError(timeout)
        running = loop.run_in_executor(self._threads, worker.ask, sparql, remaining)
        released: Callable[[Any], None] = lambda _: self._release(worker, client)  # noqa: E731
        running.add_done_callback(released)
        answer = await asyncio.shield(running)
        return self._result(answer, timeout)

    @staticmethod
    def _result(answer: tuple[Any, ...], timeout: float) -> QueryResult:
        kind = answer[0]
        if kind == "ok":
            _, result_kind, variables, rows, boolean, triples = answer
            graph = None
            if triples is not None:
                graph = Graph()
                for triple in triples:
                    graph.add(triple)
            typed_rows: list[dict[str, Node]] = rows
            return QueryResult(result_kind, variables, typed_rows, boolean, graph)
        if kind == "timeout":
            raise QueryTimeoutError(timeout)
        if kind == "query":
            raise QueryError(answer[1])
        log.error("SPARQL worker: %s", answer[1:])
        if kind == "died":
            raise StoreError("query worker", "the query stopped its worker")
        raise StoreError("query worker", "the query failed in its worker")
