"""The report the REST app serves at ``/reports/latest``, kept until the graph changes.

A report reads the whole graph and draws its plots, which takes seconds, so the app keeps
the latest one in memory and writes a new one only when it is asked for after a write
through the app, after ``max_age_s`` (writes made by other processes, such as the CLI, are
seen then), or on an explicit refresh (which the app honours only from token holders: an
anonymous ``refresh=true`` is served the cached report). Writing is single-flight: one
report is written at a time, and callers that asked while it was being written share it
instead of writing another, so any number of concurrent requests costs one build. The app
calls :meth:`ReportCache.latest` in a worker thread, so cheap routes are served meanwhile.

**Kept across restarts.** Every figure of a report comes from the graph store. On an
embedded store, whose write generation counts every committed write
(:mod:`tinyreg.core.stores.oxigraph_store`), the report is also written to
``reports-cache/`` in the store directory with its *inputs' fingerprint*: the tinyreg
version, the store's generation and its triple count. A server started on a store whose
fingerprint matches serves that report at once; otherwise the app has one written as soon
as it starts, by a low-priority process with the store opened read-only
(:meth:`ReportCache.start_background`), and the first request waits for that one. While the
generation does not move, the report is exact and is not written again for its age
(``max_age_s`` applies to stores without a generation: remote SPARQL endpoints).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from tinyreg.core.errors import StoreError
from tinyreg.registry import Registry

__all__ = ["CACHE_FOLDER", "LatestReport", "ReportCache"]

log = logging.getLogger("tinyreg.rest")

CACHE_FOLDER = "reports-cache"
"""The folder, in an embedded store's directory, that keeps the last report."""
_FILES = {"html": "report.html", "json": "report.json", "markdown": "report.md"}


@dataclass(frozen=True)
class LatestReport:
    """One written report, in memory.

    Attributes:
        html: The self-contained HTML page.
        json: The figures and raw records (the report's ``report.json``).
        markdown: The Markdown version (its plots are in the HTML only).
        generated_at: When it was written (UTC).
        generation: The app's write count the report reflects.

    """

    html: str
    json: str
    markdown: str
    generated_at: datetime
    generation: int

    @property
    def etag(self) -> str:
        """An entity tag of this report (it changes with every build)."""
        stamp = f"{self.generated_at.isoformat()}|{self.generation}"
        return hashlib.sha256(stamp.encode()).hexdigest()[:20]


class ReportCache:
    """The latest report of a registry, written again when it may be stale.

    Args:
        registry: The registry reported on.
        max_age_s: Seconds after which a report is written again even without a write
            through the app (on a store without a write generation).
        persist: Keep the last report in the embedded store's directory, and start from
            the one kept there when its inputs' fingerprint matches.

    Example:
        >>> from tinyreg.registry import Registry
        >>> with Registry.open(in_memory=True) as reg:
        ...     cache = ReportCache(reg, max_age_s=60)
        ...     first = cache.latest(generation=0)
        ...     cache.latest(generation=0) is first, cache.latest(generation=1) is first
        (True, False)

    """

    def __init__(self, registry: Registry, max_age_s: float, *, persist: bool = False) -> None:
        self.registry = registry
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._report: LatestReport | None = None
        self._written = 0.0
        self.builds = 0
        self.loaded = False
        store_dir = getattr(registry.store, "path", None)
        self._folder = store_dir / CACHE_FOLDER if persist and store_dir is not None else None
        self._child: Any = None
        self._closed = False

    def start_background(self) -> bool:
        """Write the report in a low-priority process that keeps it beside the store.

        The process opens the store read-only, so the server's own processes keep their
        cores (a report of a large fleet takes minutes of CPU); the next
        :meth:`latest` waits for it and loads what it kept (single-flight still).

        Returns:
            Whether a process was started (only for a kept, embedded store).

        """
        if self._folder is None or self._child is not None:
            return False
        context = multiprocessing.get_context("spawn")
        child = context.Process(
            target=_write_kept,
            args=(str(self._folder.parent),),
            name="tinyreg-report",
            daemon=True,
        )
        child.start()
        self._child = child
        return True

    def close(self) -> None:
        """Stop a background report process that is still writing (the server is stopping).

        Without this, the thread waiting for it keeps the server's interpreter from
        exiting until it is killed, and the process, orphaned, keeps writing at low
        priority.
        """
        self._closed = True
        child = self._child
        if child is not None and child.is_alive():
            child.terminate()
            child.join(5)
            if child.is_alive():
                child.kill()

    def _join_child(self, generation: int) -> None:
        """Wait for the background process, then take its report (call with the lock)."""
        child = self._child  # kept until it ends, so that close() can stop it meanwhile
        if child is not None:
            child.join()
            self._child = None
            if self._closed:
                raise StoreError(self.registry.store.label, "the server is stopping")
            self._load(generation)

    def store_generation(self) -> int | None:
        """The store's write generation, or ``None`` when it keeps none."""
        value = getattr(self.registry.store, "generation", None)
        return value if isinstance(value, int) else None

    def fingerprint(self) -> str | None:
        """The inputs' fingerprint: tinyreg's version, store generation and triple count."""
        generation = self.store_generation()
        if generation is None:
            return None
        try:
            version = metadata.version("tinyreg")
        except metadata.PackageNotFoundError:
            version = "unknown"
        triples = self.registry.store.triple_count()
        return f"{version}|{generation}|{triples}"

    def load(self, generation: int) -> bool:
        """Start from the report kept in the store directory if its fingerprint matches.

        Args:
            generation: The generation to label it with (the caller's count now).

        Returns:
            Whether a kept report was loaded.

        """
        with self._lock:
            return self._load(generation)

    def _load(self, generation: int) -> bool:
        """:meth:`load`, with the lock held."""
        if self._folder is None:
            return False
        try:
            meta = json.loads((self._folder / "meta.json").read_text(encoding="utf-8"))
            if meta.get("fingerprint") != self.fingerprint():
                return False
            texts = {k: (self._folder / v).read_text(encoding="utf-8") for k, v in _FILES.items()}
            generated = datetime.fromisoformat(meta["generated_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        self._report = LatestReport(
            html=texts["html"],
            json=texts["json"],
            markdown=texts["markdown"],
            generated_at=generated,
            generation=generation,
        )
        self._written = time.monotonic()
        self.loaded = True
        return True

    def _keep(self, report: LatestReport, fingerprint: str | None) -> None:
        """Write the report and its fingerprint into the store directory (replaced whole)."""
        if self._folder is None or fingerprint is None:
            return
        parent = self._folder.parent
        try:
            staging = Path(tempfile.mkdtemp(prefix=f".{CACHE_FOLDER}-", dir=parent))
            for key, name in _FILES.items():
                (staging / name).write_text(getattr(report, key), encoding="utf-8")
            meta = {"fingerprint": fingerprint, "generated_at": report.generated_at.isoformat()}
            (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            old = parent / f".{CACHE_FOLDER}-old-{os.getpid()}"
            if self._folder.exists():
                os.replace(self._folder, old)
            os.replace(staging, self._folder)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            log.warning("could not keep the report in %s: %s", self._folder, exc)
            with contextlib.suppress(NameError):
                shutil.rmtree(staging, ignore_errors=True)

    def latest(self, generation: int, *, refresh: bool = False) -> LatestReport:
        """The latest report; written now if missing, stale or ``refresh`` is asked.

        Args:
            generation: The app's count of writes so far; a report of an older count is
                stale.
            refresh: Write a new report whatever the age of the last one (unless one was
                written while this call waited: that one is shared).

        """
        asked = self.builds
        with self._lock:
            self._join_child(generation)
            report = self._report
            if report is not None and self.builds > asked and report.generation >= generation:
                return report  # written while we waited for the lock: share it
            exact = self.store_generation() is not None  # every input counted
            fresh = (
                report is not None
                and report.generation == generation
                and (exact or time.monotonic() - self._written < self.max_age_s)
            )
            if report is not None and fresh and not refresh:
                return report
            fingerprint = self.fingerprint() if self._folder is not None else None
            with tempfile.TemporaryDirectory(prefix="tinyreg-report-") as folder:
                files = self.registry.report(Path(folder))
                report = LatestReport(
                    html=files.html.read_text(encoding="utf-8"),
                    json=files.json.read_text(encoding="utf-8"),
                    markdown=files.markdown.read_text(encoding="utf-8"),
                    generated_at=datetime.now(UTC),
                    generation=generation,
                )
            self._report = report
            self._written = time.monotonic()
            self.builds += 1
            if fingerprint is not None and fingerprint == self.fingerprint():
                self._keep(report, fingerprint)  # nothing written meanwhile: exact
            return report


def _write_kept(store_dir: str) -> None:
    """The background process: write the report of a store and keep it beside the store."""
    with contextlib.suppress(OSError):
        os.nice(10)  # the server's processes first
    from tinyreg.core.stores import OxigraphStore

    with Registry(OxigraphStore(store_dir, read_only=True)) as registry:
        cache = ReportCache(registry, max_age_s=1.0, persist=True)
        generation = cache.store_generation()
        cache.latest(generation if generation is not None else 0)
