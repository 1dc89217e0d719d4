"""Telemetry ingest: validate every message, aggregate per device and bucket into the graph.

Devices publish one JSON message per window on ``tinyreg/telemetry/v1/<device>/window``
(``docs/telemetry.md``). :class:`Ingest` validates each one (:func:`parse_message`): a
malformed message is counted by reason and dropped, never stored and never raised. Accepted
windows are kept two ways:

* in the graph, by **aggregates**: one SOSA observation (``tr:TelemetryAggregate``) per
  device, model, version and time bucket (window count, alarms, errors, mean and maximum
  score, median inference time, mean RMS, kurtosis and envelope energy), all of a bucket
  written in one transaction when the bucket closes: the graph grows by aggregates, not per
  message;
* in a bounded store beside the graph store (:class:`TelemetryStore`): each device's recent
  windows (the inputs and statistics the drift test and retraining read), and raw windows
  when a device sent them, both capped per device.

A device that reported before and has been silent for longer than a limit is reported by
:meth:`Ingest.silent`, never taken for healthy.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import queue
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rdflib import RDF, Graph, Literal, URIRef
from rdflib.namespace import XSD

from tinyreg.core.errors import InputError
from tinyreg.core.namespaces import SOSA, TR, model_iri
from tinyreg.core.protocol import device_key
from tinyreg.core.stores import GraphStore

__all__ = [
    "TELEMETRY_FILTER",
    "Ingest",
    "IngestCounters",
    "TelemetryRecord",
    "TelemetryStore",
    "parse_message",
]

log = logging.getLogger(__name__)

TELEMETRY_FILTER = "tinyreg/telemetry/v1/+/window"
TELEMETRY_GRAPH_PREFIX = "urn:tinyreg:telemetry:"
MAX_MESSAGE_BYTES = 256 * 1024
INPUT_LENGTH = 64


@dataclass(frozen=True)
class TelemetryRecord:
    """One accepted window (the fields of ``docs/telemetry.md`` the registry keeps)."""

    device: str
    seq: int
    window: int
    ts: float
    received: float
    model: str | None
    version: str | None
    score: float | None
    verdict: str | None
    inference_ms: float | None
    error: str | None
    stats: dict[str, float]
    input: list[float]
    truth: dict[str, Any] | None = None
    raw: str | None = None  # base64 little-endian int16 samples, ``raw_scale`` g each
    raw_scale: float | None = None

    def signal(self) -> Any:
        """The raw window in g (numpy array), or ``None`` when it was not sent."""
        if self.raw is None or self.raw_scale is None:
            return None
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(self.raw), dtype="<i2").astype(float) * self.raw_scale

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return asdict(self)


def _number(body: Mapping[str, Any], key: str, *, optional: bool = False) -> float | None:
    value = body.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"{key} must be a finite number")
    return float(value)


def _text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > 512):
        raise InputError(f"{key} must be a string of at most 512 characters")
    return value


def parse_message(payload: bytes, topic_device: str | None = None) -> TelemetryRecord:
    """Validate one telemetry message.

    Args:
        payload: The message.
        topic_device: The device its topic names (it must match the body's).

    Raises:
        InputError: With the reason, when anything is malformed.

    """
    if len(payload) > MAX_MESSAGE_BYTES:
        raise InputError("too large")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError("not JSON") from exc
    if not isinstance(body, dict):
        raise InputError("not a JSON object")
    if body.get("v") != 1:
        raise InputError("unknown schema version")
    device = body.get("device")
    if not isinstance(device, str) or not device:
        raise InputError("device missing")
    if topic_device is not None and device != topic_device:
        raise InputError("device differs from the topic's")
    seq, window = body.get("seq"), body.get("window")
    if not isinstance(seq, int) or not isinstance(window, int) or isinstance(seq, bool):
        raise InputError("seq and window must be integers")
    ts = _number(body, "ts")
    error = _text(body, "error")
    score = _number(body, "score", optional=True)
    if score is None and error is None:
        raise InputError("a window without a score must carry an error")
    verdict = body.get("verdict")
    if verdict not in (None, "normal", "anomaly"):
        raise InputError("verdict must be normal, anomaly or null")
    stats = body.get("stats")
    if not isinstance(stats, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) and math.isfinite(v)
        for k, v in stats.items()
    ):
        raise InputError("stats must map names to finite numbers")
    values = body.get("input")
    if (
        not isinstance(values, list)
        or len(values) != INPUT_LENGTH
        or not all(isinstance(v, int | float) and math.isfinite(v) for v in values)
    ):
        raise InputError(f"input must be {INPUT_LENGTH} finite numbers")
    truth = body.get("truth")
    raw, raw_scale = body.get("raw"), None
    if raw is not None:
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("int16"), str)
            or not isinstance(raw.get("scale_g"), int | float)
        ):
            raise InputError("raw must carry int16 (base64) and scale_g")
        raw, raw_scale = raw["int16"], float(raw["scale_g"])
    return TelemetryRecord(
        device=device,
        seq=seq,
        window=window,
        ts=float(ts or 0.0),
        received=time.time(),
        model=_text(body, "model"),
        version=_text(body, "version"),
        score=score,
        verdict=verdict,
        inference_ms=_number(body, "inference_ms", optional=True),
        error=error,
        stats={k: float(v) for k, v in stats.items()},
        input=[float(v) for v in values],
        truth=truth if isinstance(truth, dict) else None,
        raw=raw,
        raw_scale=raw_scale,
    )


class TelemetryStore:
    """Recent windows per device, bounded, in JSON-lines files beside the graph store.

    Args:
        directory: The folder (created if absent).
        keep: Windows kept per device (older ones are dropped at compaction).

    """

    def __init__(self, directory: Path, keep: int = 4000) -> None:
        self.directory = directory
        self.keep = keep
        self._lock = threading.Lock()
        (directory / "recent").mkdir(parents=True, exist_ok=True)

    def _path(self, device: str) -> Path:
        return self.directory / "recent" / (device_key(device).replace(":", "_") + ".jsonl")

    def append(self, records: Iterable[TelemetryRecord]) -> None:
        """Append windows (one file write per device), compacting files over twice ``keep``."""
        by_device: dict[str, list[TelemetryRecord]] = defaultdict(list)
        for r in records:
            by_device[r.device].append(r)
        with self._lock:
            for device, rows in by_device.items():
                path = self._path(device)
                with path.open("a", encoding="utf-8") as out:
                    out.write("".join(json.dumps(r.to_dict()) + "\n" for r in rows))
                if path.stat().st_size > 2 * self.keep * 1500:
                    lines = path.read_text("utf-8").splitlines()
                    if len(lines) > self.keep:
                        path.write_text("\n".join(lines[-self.keep :]) + "\n", "utf-8")

    def recent(self, device: str, limit: int | None = None) -> list[TelemetryRecord]:
        """A device's kept windows, oldest first (at most ``limit``, the latest)."""
        path = self._path(device)
        if not path.is_file():
            return []
        with self._lock:
            lines = path.read_text("utf-8").splitlines()
        rows = [TelemetryRecord(**json.loads(line)) for line in lines if line.strip()]
        return rows[-limit:] if limit else rows

    def devices(self) -> list[str]:
        """Devices with kept windows."""
        from urllib.parse import unquote

        return sorted(
            unquote(p.stem.replace("_", ":")) for p in (self.directory / "recent").glob("*.jsonl")
        )


@dataclass
class IngestCounters:
    """What the ingest has seen."""

    received: int = 0
    accepted: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    buckets_written: int = 0
    aggregates_written: int = 0
    lags_s: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, with the lag's p50 and p99."""
        lags = sorted(self.lags_s[-100_000:])

        def pct(q: float) -> float | None:
            return round(lags[min(len(lags) - 1, int(q * len(lags)))], 4) if lags else None

        return {
            "received": self.received,
            "accepted": self.accepted,
            "dropped": sum(self.dropped.values()),
            "dropped_by_reason": dict(self.dropped),
            "buckets_written": self.buckets_written,
            "aggregates_written": self.aggregates_written,
            "lag_p50_s": pct(0.5),
            "lag_p99_s": pct(0.99),
        }


@dataclass
class _Aggregate:
    count: int = 0
    alarms: int = 0
    errors: int = 0
    score_sum: float = 0.0
    score_max: float = -math.inf
    scored: int = 0
    inference: list[float] = field(default_factory=list)
    rms: float = 0.0
    kurtosis: float = 0.0
    envelope: float = 0.0


class Ingest:
    """Telemetry from a broker into the graph (aggregates) and the bounded store.

    Messages are validated on the network thread and queued; :meth:`flush` (called by the
    ingest's own thread every second, or by hand) writes what arrived: the windows to the
    store, and every bucket that closed to the graph in one transaction per bucket.

    Args:
        store: The graph store.
        telemetry: The bounded window store.
        bucket_s: The aggregation bucket, in seconds.
        thresholds: Operating threshold per (model id, version), for windows without a verdict.
        grace_s: How long after its end a bucket stays open for late messages.

    """

    def __init__(
        self,
        store: GraphStore,
        telemetry: TelemetryStore,
        *,
        bucket_s: float = 10.0,
        thresholds: Mapping[tuple[str, str], float] | None = None,
        grace_s: float = 2.0,
    ) -> None:
        self.store = store
        self.telemetry = telemetry
        self.bucket_s = bucket_s
        self.grace_s = grace_s
        self.thresholds: dict[tuple[str, str], float] = dict(thresholds or {})
        self.counters = IngestCounters()
        self.last_seen: dict[str, float] = {}
        self._queue: queue.SimpleQueue[TelemetryRecord] = queue.SimpleQueue()
        self._open: dict[float, dict[tuple[str, str, str], _Aggregate]] = defaultdict(
            lambda: defaultdict(_Aggregate)
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._parts: Counter[float] = Counter()

    # ------------------------------------------------------------------ input

    def feed(self, topic: str, payload: bytes) -> None:
        """One message from the broker: validated and queued, or counted and dropped."""
        self.counters.received += 1
        device = None
        parts = topic.split("/")
        if len(parts) == 5:
            from urllib.parse import unquote

            device = unquote(parts[3])
        try:
            record = parse_message(payload, device)
        except InputError as exc:
            self.counters.dropped[exc.message] += 1
            return
        except Exception as exc:  # never let a message stop the ingest
            self.counters.dropped[f"unexpected: {type(exc).__name__}"] += 1
            return
        self._queue.put(record)

    @property
    def backlog(self) -> int:
        """Windows accepted but not yet written."""
        return self._queue.qsize()

    def flush(self, *, close_all: bool = False) -> int:
        """Write what arrived; close buckets past their end and grace.

        Args:
            close_all: Close every open bucket now (at stop, or in tests).

        Returns:
            Windows written to the store.

        """
        records: list[TelemetryRecord] = []
        with contextlib.suppress(queue.Empty):
            while True:
                records.append(self._queue.get_nowait())
        now = time.time()
        with self._lock:
            for r in records:
                self._add(r)
                self.last_seen[r.device] = max(self.last_seen.get(r.device, 0.0), r.received)
                self.counters.lags_s.append(max(0.0, now - r.ts))
            if len(self.counters.lags_s) > 200_000:
                del self.counters.lags_s[:100_000]
            closing = [
                b for b in self._open if close_all or b + self.bucket_s + self.grace_s <= now
            ]
            graphs = {self._graph_name(b): self._bucket_graph(b) for b in closing}
            for b in closing:
                del self._open[b]
        if records:
            self.telemetry.append(records)
        if graphs:
            self.store.replace_graphs(graphs)
            self.counters.buckets_written += len(graphs)
            self.counters.aggregates_written += sum(
                len(list(g.subjects(RDF.type, TR.TelemetryAggregate))) for g in graphs.values()
            )
        self.counters.accepted += len(records)
        return len(records)

    def _graph_name(self, bucket: float) -> str:
        self._parts[bucket] += 1  # a late part of a bucket already written gets its own graph
        stamp = datetime.fromtimestamp(bucket, UTC).strftime("%Y%m%dT%H%M%S")
        return f"{TELEMETRY_GRAPH_PREFIX}{stamp}:{self._parts[bucket]}"

    def _add(self, r: TelemetryRecord) -> None:
        bucket = math.floor(r.ts / self.bucket_s) * self.bucket_s
        a = self._open[bucket][(r.device, r.model or "", r.version or "")]
        a.count += 1
        if r.error is not None:
            a.errors += 1
        if r.score is not None:
            a.scored += 1
            a.score_sum += r.score
            a.score_max = max(a.score_max, r.score)
            if self.alarm(r):
                a.alarms += 1
        if r.inference_ms is not None:
            a.inference.append(r.inference_ms)
        a.rms += r.stats.get("rms", 0.0)
        a.kurtosis += r.stats.get("kurtosis", 0.0)
        a.envelope += r.stats.get("envelope_defect", 0.0)

    def alarm(self, r: TelemetryRecord) -> bool:
        """Whether a window raised an alarm: its verdict, else the version's threshold."""
        if r.verdict is not None:
            return r.verdict == "anomaly"
        threshold = self.thresholds.get((r.model or "", r.version or ""))
        return r.score is not None and threshold is not None and r.score > threshold

    def _bucket_graph(self, bucket: float) -> Graph:
        g = Graph()
        start = datetime.fromtimestamp(bucket, UTC)
        end = datetime.fromtimestamp(bucket + self.bucket_s, UTC)
        for (device, model, version), a in self._open[bucket].items():
            node = URIRef(
                f"{TELEMETRY_GRAPH_PREFIX}{device_key(device)}:{model}:{version}:"
                f"{start.strftime('%Y%m%dT%H%M%S')}"
            )
            g.add((node, RDF.type, SOSA.Observation))
            g.add((node, RDF.type, TR.TelemetryAggregate))
            g.add((node, SOSA.madeBySensor, URIRef(device)))
            if model:
                g.add((node, SOSA.usedProcedure, model_iri(model)))
                g.add((node, TR.modelVersion, Literal(version)))
            g.add((node, TR.bucketStart, Literal(start, datatype=XSD.dateTime)))
            g.add((node, TR.bucketEnd, Literal(end, datatype=XSD.dateTime)))
            g.add((node, SOSA.resultTime, Literal(datetime.now(UTC), datatype=XSD.dateTime)))
            g.add((node, TR.windowCount, Literal(a.count)))
            g.add((node, TR.alarmCount, Literal(a.alarms)))
            g.add((node, TR.errorCount, Literal(a.errors)))
            if a.scored:
                g.add((node, TR.meanScore, Literal(a.score_sum / a.scored)))
                g.add((node, TR.maxScore, Literal(a.score_max)))
            if a.inference:
                g.add((node, TR.medianInferenceMs, Literal(statistics.median(a.inference))))
            g.add((node, TR.meanRms, Literal(a.rms / a.count)))
            g.add((node, TR.meanKurtosis, Literal(a.kurtosis / a.count)))
            g.add((node, TR.meanEnvelopeDefect, Literal(a.envelope / a.count)))
        return g

    # ------------------------------------------------------------------ running

    def start(self, broker: str, *, period_s: float = 1.0, timeout: float = 10.0) -> None:
        """Subscribe to every device's telemetry and flush every ``period_s`` on a thread.

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        from tinyreg.core.mqtt import Connection

        self._connection = Connection(
            broker, [(TELEMETRY_FILTER, 0)], self.feed, name="telemetry", fast=True
        )
        self._connection.start(timeout)

        def loop() -> None:
            while not self._stop.wait(period_s):
                try:
                    self.flush()
                except Exception:  # a failed write is logged; the next flush retries
                    log.exception("telemetry flush failed")

        self._thread = threading.Thread(target=loop, name="telemetry-flush", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Disconnect, then write everything (every open bucket closes)."""
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.flush(close_all=True)

    def silent(self, after_s: float, expected: Iterable[str] = ()) -> list[str]:
        """Devices silent for more than ``after_s``, and expected devices never heard."""
        now = time.time()
        seen = {d for d, t in self.last_seen.items() if now - t > after_s}
        never = {d for d in expected if d not in self.last_seen}
        return sorted(seen | never)
