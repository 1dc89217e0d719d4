"""A fleet: many virtual microcontrollers in one process, over one MQTT connection.

Each device subscribes to its own ``manifest``, ``chunk`` and ``cmd`` topics; messages are
dispatched by the topic's device level. Verifying, loading and self-testing an image run
on a small worker pool, and manifests (a signature to check, files to create) on a thread
of their own, so the message thread keeps serving the other devices' chunks.

Every device keeps its own interpreter of its running model (its arena included), as a
real board does; ``benchmarks/deploy.py`` reports the memory that takes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from tinyreg.firmware.device import SELF_TEST_RUNS, DeviceLimits, VirtualDevice
from tinyreg.firmware.mqtt import Connection
from tinyreg.firmware.protocol import (
    QOS_CHUNK,
    QOS_CONTROL,
    device_key,
    device_topic,
)

__all__ = ["Fleet", "replicate"]


def replicate(limits: DeviceLimits, count: int) -> list[DeviceLimits]:
    """``count`` devices with the limits of one TD, ids ``<id>-1`` … ``<id>-<count>``.

    With ``count`` 1 the device keeps its own id.
    """
    if count <= 1:
        return [limits]
    return [replace(limits, device=f"{limits.device}-{n}") for n in range(1, count + 1)]


class Fleet:
    """Virtual devices served over one MQTT connection.

    Args:
        broker: The broker URL (``mqtt://host:port``).
        devices: The devices' limits.
        state_dir: A directory per device is created under it (named by the device id).
        public_key: The registry's raw Ed25519 public key the devices trust.
        workers: Threads that verify, load and self-test images.
        self_test_runs: Inferences of each self-test.

    """

    def __init__(
        self,
        broker: str,
        devices: Sequence[DeviceLimits],
        state_dir: Path,
        public_key: bytes,
        *,
        workers: int = 2,
        self_test_runs: int = SELF_TEST_RUNS,
    ) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="device-load")
        # one thread, so that a device's manifests are handled in the order they arrive
        self.manifests = ThreadPoolExecutor(max_workers=1, thread_name_prefix="device-manifest")
        self.devices: dict[str, VirtualDevice] = {}
        # topic -> handler, so that a message costs one dictionary look-up to dispatch
        self._routes: dict[str, Callable[[bytes], None]] = {}
        subscriptions: list[tuple[str, int]] = []
        for limits in devices:
            ident = limits.device
            self.devices[ident] = VirtualDevice(
                limits,
                state_dir / device_key(ident).replace(":", "_"),
                public_key,
                self._publisher(ident),
                defer=self._defer,
                self_test_runs=self_test_runs,
            )
            device = self.devices[ident]
            subscriptions += [
                (device_topic(ident, "manifest"), QOS_CONTROL),
                (device_topic(ident, "chunk"), QOS_CHUNK),
                (device_topic(ident, "cmd"), QOS_CONTROL),
            ]
            self._routes[device_topic(ident, "manifest")] = self._later(device.on_manifest)
            self._routes[device_topic(ident, "chunk")] = device.on_chunk
            self._routes[device_topic(ident, "cmd")] = device.on_command
        self.connection = Connection(
            broker, subscriptions, self._on_message, name="fleet", fast=True
        )

    def _publisher(self, ident: str) -> Callable[[str, bytes, int, bool], None]:
        def publish(leaf: str, payload: bytes, qos: int, retain: bool) -> None:
            self.connection.publish(device_topic(ident, leaf), payload, qos, retain)

        return publish

    def _later(self, handler: Callable[[bytes], None]) -> Callable[[bytes], None]:
        def submit(payload: bytes) -> None:
            self.manifests.submit(handler, payload)

        return submit

    def _defer(self, work: Callable[[], None]) -> None:
        self.pool.submit(work)

    def _on_message(self, topic: str, payload: bytes) -> None:
        route = self._routes.get(topic)
        if route is not None:
            route(payload)

    def start(self, timeout: float = 10.0) -> None:
        """Connect, then boot every device (each loads its committed model, if any).

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        self.connection.start(timeout)
        for device in self.devices.values():
            device.boot()

    def stop(self) -> None:
        """Finish pending loads and disconnect."""
        self.manifests.shutdown(wait=True, cancel_futures=False)
        self.pool.shutdown(wait=True, cancel_futures=False)
        with contextlib.suppress(Exception):
            self.connection.stop()

    def __enter__(self) -> Fleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
