"""A fleet: many virtual microcontrollers in one process, over one MQTT connection.

Each device subscribes to its own ``manifest``, ``chunk`` and ``cmd`` topics; messages are
dispatched by the topic's device level. Manifests (a signature to check, files to create)
run on a thread of their own, and finishing a transfer (digest, signature, commit) on a
small thread pool, so the message thread keeps serving the other devices' chunks.

Loading and self-testing an image run in ``workers`` worker processes
(:class:`ImageChecker`): the TFLite Micro runtime keeps Python's interpreter lock while it
invokes, so self-tests in the fleet's own process would stop its message handling for
their whole duration. A worker gets the slot file, returns the figures or the refusal, and
the device commits in the fleet's process as before. ``workers=0``, or a platform where
worker processes cannot be forked, keeps everything in the fleet's process. Worker
processes end with the fleet's: they watch their parent and exit when it is gone, so a
killed fleet leaves none behind, and a restarted fleet boots on the committed models.

Every device keeps its own interpreter of its running model (its arena included), as a
real board does; after a worker's self-test it is built on the first ``infer``.
``benchmarks/deploy.py`` reports the memory that takes.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from tinyreg.core.errors import DeviceRefusedError
from tinyreg.core.mqtt import Connection
from tinyreg.core.protocol import (
    QOS_CHUNK,
    QOS_CONTROL,
    device_key,
    device_topic,
)
from tinyreg.firmware.device import (
    SELF_TEST_RUNS,
    DeviceLimits,
    VirtualDevice,
    check_image,
)
from tinyreg.firmware.sensing import Sensing, SensingOptions, telemetry_topic

__all__ = ["Fleet", "ImageChecker", "replicate"]

_ORPHAN_POLL_S = 0.2


def _watch_parent(parent: int) -> None:
    """Worker initializer: exit as soon as the process that started the worker is gone.

    Ctrl-C reaches the whole process group; the fleet's process stops its workers itself.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(_ORPHAN_POLL_S)
        os._exit(1)  # the fleet died (killed, power loss): its workers go with it

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _ready() -> int:
    return os.getpid()


class ImageChecker:
    """Worker processes that load and self-test images (:func:`check_image`).

    Processes are forked, all at once when the checker starts (so that, in a fleet, no
    other thread of it runs yet); only the arguments and the outcome are pickled. A
    worker that dies mid-check (the runtime crashed on an image) breaks the pool: the
    checker starts a new one and tries the image once more; if that crashes too, the
    image is refused.

    Args:
        workers: Worker processes (at least 1).

    Raises:
        OSError: If the processes cannot be started.

    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_watch_parent,
            initargs=(os.getpid(),),
        )
        try:  # start every process now, not at the first image
            for future in [pool.submit(_ready) for _ in range(self.workers)]:
                future.result(timeout=30)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        return pool

    @property
    def pids(self) -> list[int]:
        """The worker processes' ids."""
        return sorted(self._pool._processes or {})  # the executor keeps no public list

    def __call__(
        self, path: Path, size: int, sha256: str, arena: int, runs: int, device: str
    ) -> tuple[float, float]:
        """Load and self-test the image in a worker; see :data:`~tinyreg.firmware.device.Check`.

        Raises:
            DeviceRefusedError: If the image fails, or crashes the runtime twice.

        """
        for attempt in range(2):
            pool = self._pool
            try:
                outcome, first, second = pool.submit(
                    check_image, str(path), size, sha256, arena, runs, device
                ).result()
            except BrokenProcessPool:
                with self._lock:
                    if self._pool is pool:  # the first thread to see it replaces it
                        pool.shutdown(wait=False, cancel_futures=True)
                        try:
                            self._pool = self._start()
                        except (OSError, BrokenProcessPool, TimeoutError) as exc:
                            raise DeviceRefusedError(
                                device, "self-test", f"no worker process could be started: {exc}"
                            ) from exc
                if attempt == 0:
                    continue
                raise DeviceRefusedError(
                    device, "self-test", "the runtime crashed while loading or running the image"
                ) from None
            if outcome != "ok":
                raise DeviceRefusedError(device, str(first), str(second))
            return float(first), float(second)
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Stop the worker processes (after the checks under way)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def image_checker(workers: int) -> ImageChecker | None:
    """Worker processes for self-tests, or ``None`` for checking in this process.

    ``None`` when ``workers`` is 0, where processes cannot be forked, or when starting
    them fails.
    """
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    try:
        return ImageChecker(workers)
    except (OSError, BrokenProcessPool, TimeoutError):
        return None


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
        workers: Worker processes that load and self-test images; 0 does it on (two)
            threads of the fleet's own process, as does a platform without ``fork``.
        self_test_runs: Inferences of each self-test.
        recovery_key: A raw public key the devices accept for ``rotate-key`` only.
        sense: Make the devices sense a rotary machine, run their model on every window
            and publish telemetry (``docs/telemetry.md``); ``None``: OTA only.

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
        recovery_key: bytes | None = None,
        sense: SensingOptions | None = None,
    ) -> None:
        # started before any thread of the fleet, so that forking copies no held lock
        self.checker = image_checker(workers)
        # threads that finish transfers: they wait on a worker process, or run the
        # self-test themselves without one
        threads = 2 * self.checker.workers if self.checker else max(2, workers)
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="device-load")
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
                check=self.checker,
                recovery_key=recovery_key,
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
        self.sensing: Sensing | None = None
        if sense is not None:
            self.sensing = Sensing(self.devices, self._publish_topic, sense)
            for ident in self.devices:
                topic = telemetry_topic(ident, "request")
                subscriptions.append((topic, QOS_CONTROL))
                self._routes[topic] = self._raw_request(ident)
        self.connection = Connection(
            broker, subscriptions, self._on_message, name="fleet", fast=True
        )

    def _publish_topic(self, topic: str, payload: bytes, qos: int, retain: bool) -> None:
        self.connection.publish(topic, payload, qos, retain)

    def _raw_request(self, ident: str) -> Callable[[bytes], None]:
        def handle(payload: bytes) -> None:
            if self.sensing is not None:
                self.sensing.request(ident, payload)

        return handle

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
        if self.sensing is not None and self.sensing.options.period_s > 0:
            self.sensing.start()

    def stop(self) -> None:
        """Finish pending loads and disconnect."""
        if self.sensing is not None:
            self.sensing.stop()
        self.manifests.shutdown(wait=True, cancel_futures=False)
        self.pool.shutdown(wait=True, cancel_futures=False)
        if self.checker is not None:
            self.checker.close()
        with contextlib.suppress(Exception):
            self.connection.stop()

    def __enter__(self) -> Fleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
