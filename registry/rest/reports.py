"""The report the REST app serves at ``/reports/latest``, kept until the graph changes.

A report reads the whole graph and draws its plots, which takes seconds, so the app keeps
the latest one in memory and writes a new one only when it is asked for after a write
through the app, after ``max_age_s`` (writes made by other processes, such as the CLI, are
seen then), or on an explicit refresh (which the app honours only from token holders: an
anonymous ``refresh=true`` is served the cached report). Writing is single-flight: one
report is written at a time, and callers that asked while it was being written share it
instead of writing another, so any number of concurrent requests costs one build. The app
calls :meth:`ReportCache.latest` in a worker thread, so cheap routes are served meanwhile.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tinyreg.registry import Registry

__all__ = ["LatestReport", "ReportCache"]


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
            through the app.

    Example:
        >>> from tinyreg.registry import Registry
        >>> with Registry.open(in_memory=True) as reg:
        ...     cache = ReportCache(reg, max_age_s=60)
        ...     first = cache.latest(generation=0)
        ...     cache.latest(generation=0) is first, cache.latest(generation=1) is first
        (True, False)

    """

    def __init__(self, registry: Registry, max_age_s: float) -> None:
        self.registry = registry
        self.max_age_s = max_age_s
        self._lock = threading.Lock()
        self._report: LatestReport | None = None
        self._written = 0.0
        self.builds = 0

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
            report = self._report
            if report is not None and self.builds > asked and report.generation >= generation:
                return report  # written while we waited for the lock: share it
            fresh = (
                report is not None
                and report.generation == generation
                and time.monotonic() - self._written < self.max_age_s
            )
            if report is not None and fresh and not refresh:
                return report
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
            return report
