"""The serial bridge: a device behind a serial line, reachable on its MQTT topics.

A board (or the agent under QEMU) speaks the framed serial protocol of ``firmware/PROTOCOL.md``
(*Serial transport*) on its UART. A :class:`Bridge` subscribes to the device's ``manifest``,
``cmd`` and ``chunk`` topics and writes each message to the line as one frame of the matching
kind; the frames the device writes (``ack``, ``result``, ``status``, ``inference``: JSON
objects) are published on the device's topics (``status`` retained). To the deployer, the
deployment records and the reports such a device is like any other.

Nothing stops a bridge: a frame that is torn, garbled or not a JSON object, a message too long
for the device's frame buffer, a line that closes (the device restarts) are counted and logged,
and the bridge reconnects the line by itself.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import tinyreg.firmware.framing as framing
from tinyreg.core.errors import ConfigError
from tinyreg.core.mqtt import Connection
from tinyreg.core.protocol import QOS_CHUNK, QOS_CONTROL, device_topic

log = logging.getLogger(__name__)


class SerialLine(Protocol):
    """A byte stream to a device: a socket, a pty or a tty."""

    def read(self, size: int) -> bytes:
        """Bytes received (waits for at least one); ``b""`` when the line closed."""
        ...

    def write(self, data: bytes) -> None:
        """Send every byte of ``data``."""
        ...

    def close(self) -> None:
        """Close the line."""
        ...


class SocketLine:
    """A serial line carried by a TCP socket (QEMU's ``-serial tcp:...``)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def read(self, size: int) -> bytes:
        """Bytes received; ``b""`` when the peer closed."""
        try:
            return self.sock.recv(size)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        """Send all of ``data``."""
        self.sock.sendall(data)

    def close(self) -> None:
        """Close the socket."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


class FileLine:
    """A serial line on a device file: a pty or a tty (set to raw mode)."""

    def __init__(self, path: Path) -> None:
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        except OSError as exc:
            raise ConfigError(f"cannot open the serial line {path}: {exc.strerror}") from exc
        if os.isatty(self.fd):
            import tty

            tty.setraw(self.fd)

    def read(self, size: int) -> bytes:
        """Bytes received; ``b""`` at the end of the line."""
        try:
            return os.read(self.fd, size)
        except OSError:
            return b""

    def write(self, data: bytes) -> None:
        """Write all of ``data``."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        """Close the file."""
        with contextlib.suppress(OSError):
            os.close(self.fd)


def line_opener(spec: str) -> Callable[[], SerialLine]:
    """How to (re)open the serial line ``spec``: ``tcp:HOST:PORT`` or a device path.

    Raises:
        ConfigError: If ``spec`` is a ``tcp:`` address without a valid port.

    """
    if spec.startswith("tcp:"):
        host, _, port = spec[4:].rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"serial line {spec!r}: expected tcp:HOST:PORT")
        return lambda: SocketLine(socket.create_connection((host, int(port)), timeout=5))
    path = Path(spec)
    return lambda: FileLine(path)


@dataclass
class BridgeCounters:
    """What a bridge dropped, for the log and the tests.

    Attributes:
        to_device: Frames written to the line.
        from_device: Frames from the device published on MQTT.
        frames_dropped: Frames from the device that were torn or garbled (CRC, coding).
        answers_dropped: Good frames from the device that were not a JSON object, or of an
            unknown kind.
        messages_dropped: MQTT messages not sent to the device (too long for a frame).
        reconnects: Times the line was opened again after it closed.

    """

    to_device: int = 0
    from_device: int = 0
    frames_dropped: int = 0
    answers_dropped: int = 0
    messages_dropped: int = 0
    reconnects: int = 0


class Bridge:
    """Connects one device's serial line to its MQTT topics.

    Args:
        broker: The broker URL.
        device: The device id (its TD ``id``), which names its topics.
        open_line: Opens the serial line; called again whenever the line closes.

    """

    def __init__(self, broker: str, device: str, open_line: Callable[[], SerialLine]) -> None:
        self.device = device
        self.open_line = open_line
        self.counters = BridgeCounters()
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._line: SerialLine | None = None
        self._line_ready = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._routes = {device_topic(device, leaf): kind for leaf, kind in framing.INBOUND.items()}
        subscriptions = [
            (device_topic(device, "manifest"), QOS_CONTROL),
            (device_topic(device, "cmd"), QOS_CONTROL),
            (device_topic(device, "chunk"), QOS_CHUNK),
        ]
        self.connection = Connection(broker, subscriptions, self._on_message, name="bridge")
        #: Called with (leaf, payload) of each answer from the device before it is published;
        #: may return changed bytes or ``None`` to drop it (used to inject faults in tests).
        self.answer_filter: Callable[[str, bytes], bytes | None] | None = None

    def _on_message(self, topic: str, payload: bytes) -> None:
        kind = self._routes.get(topic)
        if kind is None:
            return
        if len(payload) > framing.MAX_PAYLOAD:
            self.counters.messages_dropped += 1
            log.warning("%s: a %d B message is too long for the line", self.device, len(payload))
            return
        self._outbox.put(framing.encode(kind, payload))

    def _writer(self) -> None:
        while not self._stop.is_set():
            frame = self._outbox.get()
            if frame is None:
                return
            self._line_ready.wait()
            line = self._line
            if line is None:
                continue
            try:
                line.write(frame)
                self.counters.to_device += 1
            except OSError:
                pass  # the line closed: the reader reopens it; the deployer resends

    def _publish(self, kind: int, payload: bytes) -> None:
        if kind == framing.LOG:
            log.info("%s: %s", self.device, payload.decode(errors="replace"))
            return
        leaf = framing.OUTBOUND.get(kind)
        try:
            body = json.loads(payload) if leaf else None
        except ValueError:
            body = None
        if leaf is None or not isinstance(body, dict):
            self.counters.answers_dropped += 1
            return
        if self.answer_filter is not None:
            changed = self.answer_filter(leaf, payload)
            if changed is None:
                return
            payload = changed
        self.counters.from_device += 1
        log.debug("%s: from the device: %s %s", self.device, leaf, payload[:200])
        self.connection.publish(
            device_topic(self.device, leaf), payload, QOS_CONTROL, retain=leaf == "status"
        )

    def _reader(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                line = self.open_line()
            except (OSError, ConfigError) as exc:
                log.debug("%s: serial line not open: %s", self.device, exc)
                time.sleep(0.2)
                continue
            if not first:
                self.counters.reconnects += 1
            first = False
            decoder = framing.FrameDecoder()  # a new line starts a new stream
            dropped_before = self.counters.frames_dropped
            self._line = line
            self._line_ready.set()
            while not self._stop.is_set():
                data = line.read(4096)
                if not data:
                    break
                frames = decoder.feed(data)
                self.counters.frames_dropped = dropped_before + decoder.dropped
                for kind, payload in frames:
                    self._publish(kind, payload)
            self._line_ready.clear()
            self._line = None
            line.close()

    def start(self, timeout: float = 10.0) -> None:
        """Connect to the broker and start relaying (the line is opened in the background).

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        self.connection.start(timeout)
        for target, name in ((self._reader, "reader"), (self._writer, "writer")):
            thread = threading.Thread(target=target, name=f"bridge-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop relaying and disconnect."""
        self._stop.set()
        self._outbox.put(None)
        self._line_ready.set()
        line = self._line
        if line is not None:
            line.close()
        with contextlib.suppress(Exception):
            self.connection.stop()
        for thread in self._threads:
            thread.join(timeout=5)
