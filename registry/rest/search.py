"""``/search/sparql``: who may run what, where it runs, and in which format it answers.

A query is checked before any store sees it (federation is off unless the settings allow
it, and then only towards an allow-list; :func:`tinyreg.core.sparql_text.check_federation`),
and ``Accept`` is checked against every result type (406 at once when nothing fits).

On an embedded store on disk the query runs in a :class:`~tinyreg.core.stores.pool.QueryPool`
of worker processes, fairly shared between clients (by remote address): a query past its
deadline has its worker killed and replaced. On an in-memory store (tests, demos) or a
remote SPARQL endpoint it runs in a bounded thread pool; there the client waits at most
the deadline, a remote endpoint's own request timeout applies, and an in-memory query
cannot be stopped (documented in ``docs/security.md``).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from starlette.concurrency import run_in_threadpool

from tinyreg.core.errors import NotAcceptableError, QueryError, QueryTimeoutError, StoreError
from tinyreg.core.sparql_text import check_federation
from tinyreg.core.stores import OxigraphStore, QueryResult
from tinyreg.core.stores.base import too_many
from tinyreg.core.stores.pool import QueryPool
from tinyreg.registry.rest.settings import Settings
from tinyreg.registry.rest.sparql import GRAPH_TYPES, RESULT_TYPES, acceptable, negotiate, render
from tinyreg.registry.service import Registry

__all__ = ["SparqlSearch"]

log = logging.getLogger("tinyreg.rest")


class SparqlSearch:
    """Answers SPARQL 1.1 Protocol queries for the REST app.

    Args:
        settings: The service's settings (timeout, workers, federation).
        registry: The registry whose store is queried.

    """

    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        store = registry.store
        self.pool: QueryPool | None = None
        self._threads: ThreadPoolExecutor | None = None
        if (
            settings.sparql_processes
            and isinstance(store, OxigraphStore)
            and store.path is not None
        ):
            self.pool = QueryPool(
                store.path,
                settings.sparql_workers,
                settings.sparql_per_client,
                settings.sparql_max_rows,
            )
        else:
            self._threads = ThreadPoolExecutor(settings.sparql_workers, thread_name_prefix="sparql")

    def start(self) -> None:
        """Start the worker processes (if any)."""
        if self.pool is not None:
            self.pool.start()

    def close(self) -> None:
        """Stop the workers."""
        if self.pool is not None:
            self.pool.close()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)

    async def answer(self, query: str, accept: str | None, client: str) -> tuple[str, bytes]:
        """Run a user's query and render its result as ``Accept`` asks.

        Args:
            query: The query text.
            accept: The request's ``Accept`` header.
            client: Who asks (the remote address).

        Returns:
            The media type and the body.

        Raises:
            NotAcceptableError: If ``Accept`` allows no result type (before running).
            FederationError: If the query has a ``SERVICE`` clause that is not allowed.
            QueryError: If the query is invalid.
            QueryTimeoutError: If it ran past the deadline (and was stopped, on disk).
            StoreError: If the store failed (the cause is logged, not returned).

        """
        if not acceptable(accept):
            raise NotAcceptableError(accept or "", (*RESULT_TYPES, *GRAPH_TYPES))
        settings = self.settings
        check_federation(
            query, enabled=settings.sparql_federation, allowed=settings.sparql_service_allow
        )
        timeout = settings.sparql_timeout_s
        if self.pool is not None:
            result = await self.pool.run(client, query, timeout)
        else:
            result = await self._in_thread(query, timeout)
            bound = settings.sparql_max_rows
            if len(result.rows) > bound or (result.graph is not None and len(result.graph) > bound):
                raise too_many(bound)  # read whole here: the answer is bounded, not the work
        media = negotiate(accept, result.kind)
        return media, await run_in_threadpool(render, result, media)

    async def _in_thread(self, query: str, timeout: float) -> QueryResult:
        assert self._threads is not None
        future = self._threads.submit(self.registry.query, query)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            future.cancel()
            raise QueryTimeoutError(timeout) from None
        except QueryError:
            raise
        except StoreError as exc:
            log.error("SPARQL query failed in the store: %s", exc.message)
            raise StoreError("graph store", "the query failed in the store") from exc
