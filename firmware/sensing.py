"""Sensing virtual devices: each reads its machine's accelerometer, runs its model, reports.

The device's application loop (``docs/telemetry.md``): every period, each device takes the
next window of its :class:`~tinyreg.firmware.vibration.MachineSource`, computes the 64 band
energies the model reads, runs its running model on them with TFLite Micro, scores the
window by the mean squared reconstruction error and publishes one telemetry message on
``tinyreg/telemetry/v1/<device>/window`` (QoS 0). A JSON ``{"raw": n}`` on
``tinyreg/telemetry/v1/<device>/request`` makes the next ``n`` messages carry the raw
samples. Over-the-air updates are untouched: the loop reads whatever model is committed.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinyreg.core.protocol import device_key
from tinyreg.firmware.device import VirtualDevice
from tinyreg.firmware.vibration import MachineSource, Scenario, features, statistics

__all__ = [
    "TELEMETRY_ROOT",
    "TELEMETRY_VERSION",
    "Sensing",
    "SensingOptions",
    "reconstruction_score",
    "telemetry_message",
    "telemetry_topic",
]

TELEMETRY_ROOT = "tinyreg/telemetry/v1"
TELEMETRY_VERSION = 1


def telemetry_topic(device_id: str, leaf: str = "window") -> str:
    """The topic ``tinyreg/telemetry/v1/<device>/<leaf>`` (``window`` or ``request``)."""
    return f"{TELEMETRY_ROOT}/{device_key(device_id)}/{leaf}"


def reconstruction_score(x: np.ndarray, y: np.ndarray) -> float:
    """The anomaly score: mean squared error between input and reconstruction."""
    return float(np.mean((np.asarray(x, np.float64) - np.asarray(y, np.float64)) ** 2))


@dataclass
class SensingOptions:
    """How a fleet's devices sense.

    Attributes:
        period_s: Seconds between two windows of one device.
        seed: The fleet's seed; device ``i`` (in order) senses machine ``seed + i``.
        scenarios: A scenario per device id; absent ones run :class:`Scenario()`.
        thresholds: The operating threshold per model SHA-256, for the verdict.
        raw_every: Also send the raw samples every this many windows (0: on request only).
        start_index: The first window's number.

    """

    period_s: float = 1.0
    seed: int = 0
    scenarios: dict[str, Scenario] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    raw_every: int = 0
    start_index: int = 0


def telemetry_message(
    device: str,
    seq: int,
    window_index: int,
    reply: Mapping[str, Any],
    x: np.ndarray,
    stats: Mapping[str, Any],
    threshold: float | None,
    truth: Mapping[str, Any] | None = None,
    raw: np.ndarray | None = None,
) -> dict[str, Any]:
    """One telemetry message (schema in ``docs/telemetry.md``)."""
    message: dict[str, Any] = {
        "v": TELEMETRY_VERSION,
        "device": device,
        "seq": seq,
        "window": window_index,
        "ts": time.time(),
        "model": reply.get("model"),
        "version": reply.get("version"),
        "sha256": reply.get("sha256"),
        "score": None,
        "verdict": None,
        "threshold": threshold,
        "inference_ms": None,
        "error": reply.get("error"),
        "stats": {k: round(float(v), 6) for k, v in stats.items() if k != "bands"},
        "bands": [round(float(v), 5) for v in stats.get("bands", [])],
        "input": [round(float(v), 5) for v in x],
    }
    if "output" in reply:
        score = reconstruction_score(x, reply["output"])
        message["score"] = score
        message["inference_ms"] = round(float(reply["inference_ms"]), 4)
        if threshold is not None:
            message["verdict"] = "anomaly" if score > threshold else "normal"
    if truth is not None:
        message["truth"] = dict(truth)
    if raw is not None:
        scaled = np.clip(np.round(raw / 8.0 * 32767), -32768, 32767).astype("<i2")
        message["raw"] = {
            "scale_g": 8.0 / 32767,
            "int16": base64.b64encode(scaled.tobytes()).decode(),
        }
    return message


class Sensing:
    """The application loop of every device of a fleet, on one thread.

    Args:
        devices: The fleet's devices, by id.
        publish: Publishes (topic, payload, QoS, retain).
        options: How they sense.

    """

    def __init__(
        self,
        devices: Mapping[str, VirtualDevice],
        publish: Callable[[str, bytes, int, bool], None],
        options: SensingOptions,
    ) -> None:
        self.devices = devices
        self.publish = publish
        self.options = options
        self.sources = {
            ident: MachineSource(options.seed + i, options.scenarios.get(ident))
            for i, ident in enumerate(devices)
        }
        self.index = options.start_index
        self.seq: dict[str, int] = dict.fromkeys(devices, 0)
        self.raw_requests: dict[str, int] = dict.fromkeys(devices, 0)
        self.paused: set[str] = set()  # devices that stay silent (a test's dead device)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def request(self, device: str, payload: bytes) -> None:
        """A ``request`` message: ``{"raw": n}`` raw windows next; malformed ones ignored."""
        try:
            body = json.loads(payload)
            n = int(body.get("raw", 0))
        except (ValueError, TypeError, AttributeError):
            return
        self.raw_requests[device] = max(0, min(n, 100))

    def step(self) -> int:
        """One window on every device; returns the messages published."""
        sent = 0
        for ident, device in self.devices.items():
            if ident in self.paused:
                continue
            window = self.sources[ident].window(self.index)
            x = features(window.signal)
            stats = statistics(window.signal)
            reply = device.run_model(x)
            threshold = self.options.thresholds.get(str(reply.get("sha256")))
            raw = None
            every = self.options.raw_every
            if self.raw_requests[ident] > 0 or (every and self.index % every == 0):
                self.raw_requests[ident] = max(0, self.raw_requests[ident] - 1)
                raw = window.signal
            self.seq[ident] += 1
            message = telemetry_message(
                ident,
                self.seq[ident],
                self.index,
                reply,
                x,
                stats,
                threshold,
                window.truth_dict(),
                raw,
            )
            self.publish(telemetry_topic(ident), json.dumps(message).encode(), 0, False)
            sent += 1
        self.index += 1
        return sent

    def start(self) -> None:
        """Run :meth:`step` every ``period_s`` on a thread until :meth:`stop`."""

        def loop() -> None:
            next_at = time.monotonic()
            while not self._stop.is_set():
                self.step()
                next_at += self.options.period_s
                self._stop.wait(max(0.0, next_at - time.monotonic()))

        self._thread = threading.Thread(target=loop, name="sensing", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop (after the step under way)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
