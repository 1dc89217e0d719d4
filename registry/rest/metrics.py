"""Request counts and latencies of one server process, in the Prometheus text format.

:class:`MetricsMiddleware` is a pure ASGI middleware: it times every HTTP request from its
start to the end of its answer's body and counts it by method, route *template* (such as
``/things/{ident:path}``, never the raw path, so that clients cannot grow the label set)
and status. ``GET /metrics`` renders these with the gauges the app adds (store size,
generation, cache, workers) through :func:`render`.

With ``tinyreg serve --workers N`` each process counts its own requests; every series
carries a ``worker`` label (0 is the process that holds the store), and a scrape through
the shared port is answered by whichever process takes the connection.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["BUCKETS", "MetricsMiddleware", "RequestMetrics", "render"]

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds (seconds) of the latency histogram's buckets."""


class _Series:
    """One route's latency histogram."""

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0
        self.n = 0

    def add(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds
        self.n += 1


class RequestMetrics:
    """Counts of requests and histograms of their latencies, for one process.

    Attributes:
        requests: Count by (method, route, status).
        latency: Histogram by route.

    """

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[str, _Series] = {}
        self._lock = threading.Lock()

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        key = (method, route, status)
        with self._lock:
            self.requests[key] = self.requests.get(key, 0) + 1
            series = self.latency.get(route)
            if series is None:
                series = self.latency[route] = _Series()
            series.add(seconds)


class MetricsMiddleware:
    """ASGI middleware that times every HTTP request into a :class:`RequestMetrics`.

    Args:
        app: The wrapped ASGI app.
        metrics: Where the counts go.

    """

    def __init__(self, app: Any, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """Serve one ASGI connection, timing it when it is an HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = 500

        async def watch(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "(unrouted)"
            self.metrics.record(
                scope.get("method", "-"), template, status, time.perf_counter() - t0
            )


def _labels(pairs: Iterable[tuple[str, object]]) -> str:
    text = ",".join(
        f'{k}="{str(v).replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + text + "}"


def render(metrics: RequestMetrics, worker: int, gauges: dict[str, tuple[str, float]]) -> str:
    """The Prometheus text exposition of the requests and the given gauges.

    Args:
        metrics: The process's request metrics.
        worker: This process's worker number (the ``worker`` label).
        gauges: Name to (help text, value) of the app's gauges.

    """
    w = ("worker", worker)
    lines = [
        "# HELP tinyreg_http_requests_total HTTP requests answered, by route template.",
        "# TYPE tinyreg_http_requests_total counter",
    ]
    with metrics._lock:
        requests = sorted(metrics.requests.items())
        latency = {k: (list(v.counts), v.total, v.n) for k, v in metrics.latency.items()}
    for (method, route, status), n in requests:
        labels = _labels([w, ("method", method), ("route", route), ("status", status)])
        lines.append(f"tinyreg_http_requests_total{labels} {n}")
    lines += [
        "# HELP tinyreg_http_request_duration_seconds Time from request to the answer's end.",
        "# TYPE tinyreg_http_request_duration_seconds histogram",
    ]
    for route, (counts, total, n) in sorted(latency.items()):
        running = 0
        for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            labels = _labels([w, ("route", route), ("le", le)])
            lines.append(f"tinyreg_http_request_duration_seconds_bucket{labels} {running}")
        labels = _labels([w, ("route", route)])
        lines.append(f"tinyreg_http_request_duration_seconds_sum{labels} {total:.6f}")
        lines.append(f"tinyreg_http_request_duration_seconds_count{labels} {n}")
    for name, (text, value) in sorted(gauges.items()):
        lines += [f"# HELP {name} {text}", f"# TYPE {name} gauge"]
        lines.append(f"{name}{_labels([w])} {value:g}")
    return "\n".join(lines) + "\n"
