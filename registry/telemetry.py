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
* in a bounded store beside the graph store (:class:`TelemetryStore`, SQLite): each device's
  recent windows (the inputs and statistics the drift test and retraining read), and raw windows
  when a device sent them, both capped per device.

A device that reported before and has been silent for longer than a limit is reported by
:meth:`Ingest.silent`, never taken for healthy.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import math
import queue
import re
import sqlite3
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import RDF
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
    "message_of",
    "parse_message",
    "record_of",
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
        """JSON-ready data (the record's own fields, not copies: do not change them)."""
        return dict(self.__dict__)


_NUMBERS = (int, float)  # exact types: a JSON true is no number


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


MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,199}")
VERSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+-]{0,63}")


def _ident(body: Mapping[str, Any], key: str, pattern: re.Pattern[str]) -> str | None:
    value = body.get(key)
    if value is not None and (not isinstance(value, str) or not pattern.fullmatch(value)):
        raise InputError(f"{key} must be null or an id ({pattern.pattern})")
    return value


def _is_iri(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return ":" in text


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
    if len(device) > 512 or not _is_iri(device):
        raise InputError("device is not an IRI")
    if topic_device is not None and device != topic_device:
        raise InputError("device differs from the topic's")
    seq, window = body.get("seq"), body.get("window")
    if type(seq) is not int or type(window) is not int:
        raise InputError("seq and window must be integers")
    _number(body, "ts")
    error = _text(body, "error")
    if _number(body, "score", optional=True) is None and error is None:
        raise InputError("a window without a score must carry an error")
    if body.get("verdict") not in (None, "normal", "anomaly"):
        raise InputError("verdict must be normal, anomaly or null")
    stats = body.get("stats")
    if not isinstance(stats, dict) or not all(
        isinstance(k, str) and type(v) in _NUMBERS and math.isfinite(v) for k, v in stats.items()
    ):
        raise InputError("stats must map names to finite numbers")
    values = body.get("input")
    if (
        not isinstance(values, list)
        or len(values) != INPUT_LENGTH
        or not all(type(v) in _NUMBERS for v in values)
        or not math.isfinite(math.fsum(values))
    ):
        raise InputError(f"input must be {INPUT_LENGTH} finite numbers")
    raw = body.get("raw")
    if raw is not None:
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("int16"), str)
            or isinstance(raw.get("scale_g"), bool)
            or not isinstance(raw.get("scale_g"), int | float)
            or not math.isfinite(raw["scale_g"])
        ):
            raise InputError("raw must carry int16 (base64) and scale_g")
        try:
            samples = base64.b64decode(raw["int16"], validate=True)
        except ValueError as exc:
            raise InputError("raw int16 is not base64") from exc
        if len(samples) % 2:
            raise InputError("raw int16 has an odd number of bytes")
    for key in ("model", "version"):
        _ident(body, key, MODEL_ID if key == "model" else VERSION_ID)
    _number(body, "inference_ms", optional=True)
    return record_of(body, time.time())


def record_of(body: Mapping[str, Any], received: float) -> TelemetryRecord:
    """The record of a message :func:`parse_message` accepted, received at ``received``."""
    raw = body.get("raw")
    truth = body.get("truth")
    score, inference = body.get("score"), body.get("inference_ms")
    return TelemetryRecord(
        device=body["device"],
        seq=body["seq"],
        window=body["window"],
        ts=float(body["ts"]),
        received=received,
        model=body.get("model"),
        version=body.get("version"),
        score=None if score is None else float(score),
        verdict=body.get("verdict"),
        inference_ms=None if inference is None else float(inference),
        error=body.get("error"),
        stats={k: float(v) for k, v in body["stats"].items()},
        input=[float(v) for v in body["input"]],
        truth=truth if isinstance(truth, dict) else None,
        raw=raw["int16"] if raw else None,
        raw_scale=float(raw["scale_g"]) if raw else None,
    )


def message_of(record: TelemetryRecord) -> dict[str, Any]:
    """The message a record came from (the fields the registry keeps; ``record_of``'s inverse)."""
    body: dict[str, Any] = {
        "v": 1,
        "device": record.device,
        "seq": record.seq,
        "window": record.window,
        "ts": record.ts,
        "model": record.model,
        "version": record.version,
        "score": record.score,
        "verdict": record.verdict,
        "inference_ms": record.inference_ms,
        "error": record.error,
        "stats": record.stats,
        "input": record.input,
    }
    if record.truth is not None:
        body["truth"] = record.truth
    if record.raw is not None:
        body["raw"] = {"int16": record.raw, "scale_g": record.raw_scale}
    return body


def _term(iri: str) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


_DATETIME, _INTEGER, _DOUBLE = _term(XSD.dateTime), _term(XSD.integer), _term(XSD.double)
_TYPE, _OBSERVATION, _AGGREGATE = (
    _term(RDF.type),
    _term(SOSA.Observation),
    _term(TR.TelemetryAggregate),
)
_SENSOR, _PROCEDURE, _RESULT_TIME = (
    _term(SOSA.madeBySensor),
    _term(SOSA.usedProcedure),
    _term(SOSA.resultTime),
)
_VERSION, _START, _END = _term(TR.modelVersion), _term(TR.bucketStart), _term(TR.bucketEnd)
_WINDOWS, _ALARMS, _ERRORS = _term(TR.windowCount), _term(TR.alarmCount), _term(TR.errorCount)
_MEAN_SCORE, _MAX_SCORE = _term(TR.meanScore), _term(TR.maxScore)
_INFERENCE, _RMS = _term(TR.medianInferenceMs), _term(TR.meanRms)
_KURTOSIS, _ENVELOPE = _term(TR.meanKurtosis), _term(TR.meanEnvelopeDefect)


def _integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_INTEGER)


def _double(value: float) -> ox.Literal:
    return ox.Literal(repr(float(value)), datatype=_DOUBLE)


class TelemetryStore:
    """Recent windows per device, bounded, in an SQLite file beside the graph store.

    One row per window (``windows.sqlite3``, write-ahead log, so readers in other
    processes never wait for the ingest): a batch of any number of devices is one
    transaction, and a device's latest windows are one indexed read. Every ``keep``
    windows a device's rows beyond its latest ``keep`` are deleted.

    Args:
        directory: The folder (created if absent).
        keep: Windows kept per device.

    """

    def __init__(self, directory: Path, keep: int = 4000) -> None:
        self.directory = directory
        self.keep = keep
        self._lock = threading.Lock()
        self._since_compaction: Counter[str] = Counter()
        directory.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            directory / "windows.sqlite3", check_same_thread=False, timeout=30.0
        )
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS windows "
                "(id INTEGER PRIMARY KEY, device TEXT NOT NULL, received REAL NOT NULL,"
                " data TEXT NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS windows_by_device ON windows (device, id)")

    def append(
        self, records: Iterable[TelemetryRecord], payloads: Sequence[bytes] | None = None
    ) -> None:
        """Append windows in one transaction; trim the devices past ``keep`` new windows.

        Args:
            records: The windows.
            payloads: The messages they were parsed from, kept as they came (same order),
                else each record's message is written anew.

        """
        records = list(records)
        texts = (
            [p.decode("utf-8") for p in payloads]
            if payloads is not None
            else [json.dumps(message_of(r)) for r in records]
        )
        rows = [(r.device, r.received, t) for r, t in zip(records, texts, strict=True)]
        if not rows:
            return
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO windows (device, received, data) VALUES (?, ?, ?)", rows
            )
            self._since_compaction.update(r.device for r in records)
            for device, count in list(self._since_compaction.items()):
                if count >= self.keep:
                    self._db.execute(
                        "DELETE FROM windows WHERE device = ? AND id <= (SELECT id FROM windows"
                        " WHERE device = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
                        (device, device, self.keep),
                    )
                    del self._since_compaction[device]

    def recent(self, device: str, limit: int | None = None) -> list[TelemetryRecord]:
        """A device's kept windows, oldest first (at most ``limit``, the latest)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT received, data FROM windows WHERE device = ? ORDER BY id DESC LIMIT ?",
                (device, limit if limit else self.keep),
            ).fetchall()
        return [record_of(json.loads(data), received) for received, data in reversed(rows)]

    def devices(self) -> list[str]:
        """Devices with kept windows."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT device FROM windows").fetchall()
        return sorted(device for (device,) in rows)

    def close(self) -> None:
        """Release the file."""
        with self._lock:
            self._db.close()


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


@dataclass(frozen=True)
class _Closed:
    """A closed bucket on its way to the graph: its start, graph name and aggregates."""

    start: float
    graph: str
    aggregates: dict[tuple[str, str, str], _Aggregate]


class Ingest:
    """Telemetry from a broker into the graph (aggregates) and the bounded store.

    Messages are validated on the network thread and queued; :meth:`flush` (called by the
    ingest's own thread every half second, or by hand) writes what arrived to the window
    store, and hands every bucket that closed to a writer thread, which writes it to the
    graph in one transaction per bucket (so a bucket's write never holds windows back).

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
        self._queue: queue.SimpleQueue[tuple[TelemetryRecord, bytes]] = queue.SimpleQueue()
        self._open: dict[float, dict[tuple[str, str, str], _Aggregate]] = defaultdict(
            lambda: defaultdict(_Aggregate)
        )
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connection: Any = None
        self._parts: Counter[float] = Counter()
        self._session = uuid.uuid4().hex[:8]
        self._writes: queue.SimpleQueue[_Closed | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None

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
        self._queue.put((record, payload))

    @property
    def backlog(self) -> int:
        """Windows accepted but not yet written."""
        return self._queue.qsize()

    def flush(self, *, close_all: bool = False) -> int:
        """Write what arrived; close buckets past their end and grace.

        The windows are written at once; the aggregates of closed buckets are written by
        the ingest's writer thread when it runs (so a bucket's transaction never holds
        the next windows back), else here.

        Args:
            close_all: Close every open bucket now (at stop, or in tests).

        Returns:
            Windows written to the store.

        """
        arrived: list[tuple[TelemetryRecord, bytes]] = []
        with contextlib.suppress(queue.Empty):
            while True:
                arrived.append(self._queue.get_nowait())
        records = [r for r, _ in arrived]
        now = time.time()
        with self._lock:
            for r in records:
                self._add(r)
                self.last_seen[r.device] = max(self.last_seen.get(r.device, 0.0), r.received)
            closing = [
                b for b in self._open if close_all or b + self.bucket_s + self.grace_s <= now
            ]
            closed = [_Closed(b, self._graph_name(b), self._open.pop(b)) for b in closing]
        if records:
            self.telemetry.append(records, [p for _, p in arrived])
            written = time.time()  # the lag runs until the window is stored
            self.counters.lags_s.extend(max(0.0, written - r.ts) for r in records)
            if len(self.counters.lags_s) > 200_000:
                del self.counters.lags_s[:100_000]
        self.counters.accepted += len(records)
        for bucket in closed:
            if self._writer is not None and self._writer.is_alive():
                self._writes.put(bucket)
            else:
                self._write(bucket)
        return len(records)

    def _write(self, bucket: _Closed) -> None:
        """One closed bucket's aggregates in one transaction (a failure is logged)."""
        text, aggregates = self._bucket_update(bucket)
        if text is None:
            return
        try:
            self.store.update(text)
        except Exception:
            log.exception("writing a telemetry bucket failed (%d aggregates lost)", aggregates)
            self.counters.dropped["bucket write failed"] += aggregates
            return
        self.counters.buckets_written += 1
        self.counters.aggregates_written += aggregates

    def _graph_name(self, bucket: float) -> str:
        # a late part of a bucket already written gets its own graph; the session token
        # keeps the graphs of two ingests (one after the other) of the same bucket apart
        self._parts[bucket] += 1
        stamp = datetime.fromtimestamp(bucket, UTC).strftime("%Y%m%dT%H%M%S")
        return f"{TELEMETRY_GRAPH_PREFIX}{stamp}:{self._session}-{self._parts[bucket]}"

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

    def _bucket_update(self, closed: _Closed) -> tuple[str | None, int]:
        """The SPARQL update that writes a bucket's aggregates, and their number.

        Built with pyoxigraph's terms and N-Triples writer (every IRI checked, every
        literal escaped), not an rdflib graph: 1,000 aggregates take ~0.1 s, not seconds.
        """
        bucket, name = closed.start, closed.graph
        part = name.rsplit(":", 1)[-1]
        start = datetime.fromtimestamp(bucket, UTC)
        end = datetime.fromtimestamp(bucket + self.bucket_s, UTC)
        stamp = start.strftime("%Y%m%dT%H%M%S")
        made = ox.Literal(datetime.now(UTC).isoformat(), datatype=_DATETIME)
        begins = ox.Literal(start.isoformat(), datatype=_DATETIME)
        ends = ox.Literal(end.isoformat(), datatype=_DATETIME)
        triples: list[ox.Triple] = []
        count = 0
        for (device, model, version), a in closed.aggregates.items():
            try:
                node = ox.NamedNode(
                    f"{TELEMETRY_GRAPH_PREFIX}{device_key(device)}:{model}:{version}:{stamp}:{part}"
                )
                rows: list[tuple[ox.NamedNode, ox.NamedNode | ox.Literal]] = [
                    (_TYPE, _OBSERVATION),
                    (_TYPE, _AGGREGATE),
                    (_SENSOR, ox.NamedNode(device)),
                    (_START, begins),
                    (_END, ends),
                    (_RESULT_TIME, made),
                    (_WINDOWS, _integer(a.count)),
                    (_ALARMS, _integer(a.alarms)),
                    (_ERRORS, _integer(a.errors)),
                    (_RMS, _double(a.rms / a.count)),
                    (_KURTOSIS, _double(a.kurtosis / a.count)),
                    (_ENVELOPE, _double(a.envelope / a.count)),
                ]
                if model:
                    rows.append((_PROCEDURE, ox.NamedNode(str(model_iri(model)))))
                    rows.append((_VERSION, ox.Literal(version)))
                if a.scored:
                    rows.append((_MEAN_SCORE, _double(a.score_sum / a.scored)))
                    rows.append((_MAX_SCORE, _double(a.score_max)))
                if a.inference:
                    rows.append((_INFERENCE, _double(statistics.median(a.inference))))
            except ValueError:  # cannot happen after parse_message; never stops a bucket
                self.counters.dropped["aggregate not writable"] += 1
                continue
            triples += [ox.Triple(node, p, o) for p, o in rows]
            count += 1
        if not triples:
            return None, 0
        body = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        return f"INSERT DATA {{ GRAPH <{name}> {{\n{body}}} }}", count

    # ------------------------------------------------------------------ running

    def start(self, broker: str, *, period_s: float = 0.5, timeout: float = 10.0) -> None:
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

        def write() -> None:
            while (update := self._writes.get()) is not None:
                self._write(update)

        self._writer = threading.Thread(target=write, name="telemetry-write", daemon=True)
        self._writer.start()
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
        if self._writer is not None:
            self._writes.put(None)  # after every bucket queued: the writer ends when done
            self._writer.join(timeout=120)

    def silent(self, after_s: float, expected: Iterable[str] = ()) -> list[str]:
        """Devices silent for more than ``after_s``, and expected devices never heard."""
        now = time.time()
        seen = {d for d, t in self.last_seen.items() if now - t > after_s}
        never = {d for d in expected if d not in self.last_seen}
        return sorted(seen | never)
