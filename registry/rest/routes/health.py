"""``/healthz``, ``/readyz`` and ``/metrics``: what a load balancer and Prometheus ask.

Open to every client, even when reads need the token (``auth_reads``): they tell whether
the process answers, whether its store does, and how many requests it served, never what
the registry holds.
"""

import asyncio
import contextlib
import gc
import os
from pathlib import Path

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import PlainTextResponse, Response

from tinyreg.core.errors import StoreError
from tinyreg.registry.rest.metrics import render
from tinyreg.registry.rest.shared import AppState, json_response, ok, readable

__all__ = ["router"]

router = APIRouter(tags=["operations"])

READY_TIMEOUT_S = 2.0
"""Seconds the store has to answer ``/readyz``."""


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.tinyreg
    return state


def _folder_bytes(path: object) -> int:
    """Bytes of the files directly in a store directory (RocksDB keeps no subfolders)."""
    total = 0
    if isinstance(path, Path):
        with contextlib.suppress(OSError), os.scandir(path) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_file(follow_symlinks=False):
                        total += entry.stat().st_size
    return total


@readable(router, "/healthz")
async def healthz() -> Response:
    """The process answers (liveness): always ``200`` while it runs."""
    return json_response({"status": "ok"})


@readable(router, "/readyz")
async def readyz(request: Request) -> Response:
    """The process can serve (readiness): its store answers a query within 2 s.

    ``503`` with a Problem Details body otherwise. ``cache_warm`` tells whether the TDs
    have all been encoded into the cache since the start (reads are served meanwhile).
    """
    s = _state(request)
    try:
        await asyncio.wait_for(
            run_in_threadpool(s.registry.store.ask, "ASK { ?s ?p ?o }"), READY_TIMEOUT_S
        )
    except TimeoutError as exc:
        raise StoreError(s.registry.store.label, "no answer to /readyz within 2 s") from exc
    return json_response(
        {"status": "ready", "worker": s.settings.worker, "cache_warm": s.warm_done}
    )


@readable(router, "/metrics", response_class=PlainTextResponse, responses=ok("text/plain"))
async def metrics(request: Request) -> Response:
    """Prometheus metrics of this process: requests by route and status, latencies, store."""
    s = _state(request)
    store = s.registry.store
    generation = s.answers.generation()
    gauges = {
        "tinyreg_workers": ("Server processes of this tinyreg serve.", s.settings.workers),
        "tinyreg_store_bytes": (
            "Bytes of the embedded store's files (0 for a remote store).",
            await run_in_threadpool(_folder_bytes, getattr(store, "path", None)),
        ),
        "tinyreg_store_generation": (
            "Writes committed to the embedded store (-1: a remote store, not counted).",
            -1 if generation is None else generation,
        ),
        "tinyreg_cache_answers": ("Encoded answers held by this process.", len(s.answers)),
        "tinyreg_cache_hits": ("Reads answered from the cache by this process.", s.answers.hits),
        "tinyreg_cache_misses": ("Reads that went to the store.", s.answers.misses),
        "tinyreg_writes": ("Writes accepted by this process.", s.writes),
        "tinyreg_events_published": (
            "Events published on /events by this process.",
            s.events.published,
        ),
        "tinyreg_uptime_seconds": ("Seconds since this process started.", s.uptime()),
        "tinyreg_gc_frozen_objects": (
            "Objects kept out of garbage collections (gc.freeze, by tinyreg serve).",
            gc.get_freeze_count(),
        ),
    }
    text = render(s.metrics, s.settings.worker, gauges)
    return Response(text, media_type="text/plain; version=0.0.4; charset=utf-8")
