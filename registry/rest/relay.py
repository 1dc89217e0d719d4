"""Directory events shared by replicas through an MQTT broker.

Several ``tinyreg serve`` over one SPARQL server read and write the same directory, but
each keeps its own event log (:class:`~tinyreg.registry.rest.events.EventLog`). With
``TINYREG_EVENTS_BROKER`` set, every replica publishes the events of its own writes to one
topic of that broker (``TINYREG_EVENTS_TOPIC``, QoS 1) and adds the events it receives from
the other replicas to its log, so the ``/events`` stream of every replica carries every
replica's writes. Event ids stay per replica (``Last-Event-ID`` replays what that replica's
log holds).

A message is the hex HMAC-SHA256 of its JSON body, a newline, then the body, which holds
the sender's id, its message counter, the time, the event type, the TD's id and the event
data. The key is
``TINYREG_EVENTS_KEY``, else the write token (every replica of a directory shares it); a
message that is too large, not signed with the key, from this replica, replayed (a counter
not above the last one seen from its sender, or sent more than five minutes away from the
receiver's clock) or malformed is dropped and counted, so a
client that may publish on the broker cannot put events into the streams. Events are not
stored by the broker: a replica disconnected from it misses the events sent meanwhile
(the directory itself is in the shared store and never stale).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from tinyreg.core.mqtt import Connection
from tinyreg.registry.rest.events import EVENT_TYPES, Event, EventLog

__all__ = ["MAX_AGE_S", "MAX_MESSAGE_BYTES", "EventRelay", "relay_key"]

log = logging.getLogger(__name__)

MAX_AGE_S = 300.0
"""Messages older (or newer) than this by their sender's clock are dropped as replays."""

MAX_MESSAGE_BYTES = 4 << 20
"""Largest message accepted (a TD is bounded by the request body limit, 1 MiB by default)."""


def relay_key(secret: str) -> bytes:
    """The HMAC key the replicas sign events with, derived from a shared secret.

    >>> relay_key("s3cret") == relay_key("s3cret") != relay_key("other")
    True
    """
    return hmac.new(secret.encode(), b"tinyreg directory events", hashlib.sha256).digest()


class EventRelay:
    """Publish this replica's events and take in the other replicas' ones.

    Args:
        events: This replica's event log.
        broker: The broker URL (``mqtt://host:port`` or ``mqtts://``).
        topic: The topic every replica of the directory uses.
        key: The HMAC key (:func:`relay_key`).
        on_remote: Called after an event of another replica was added to the log.

    Attributes:
        origin: This replica's id in the messages.
        sent: Events published.
        received: Events of other replicas added to the log.
        rejected: Messages dropped (unsigned, replayed, malformed, too large).

    """

    def __init__(
        self,
        events: EventLog,
        broker: str,
        topic: str,
        key: bytes,
        on_remote: Callable[[], None] | None = None,
    ) -> None:
        self.events = events
        self.topic = topic
        self.origin = uuid.uuid4().hex
        self.sent = self.received = self.rejected = 0
        self._key = key
        self._on_remote = on_remote
        self._counter = 0
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()
        self._connection = Connection(broker, [(topic, 1)], self._receive, name="tinyreg-events")

    def start(self, timeout: float = 10.0) -> None:
        """Connect and subscribe; from now on this replica's events are published.

        Raises:
            BrokerError: If the broker cannot be reached.

        """
        self._connection.start(timeout)
        self.events.relay = self.send

    def stop(self) -> None:
        """Stop publishing and disconnect."""
        self.events.relay = None
        self._connection.stop()

    def send(self, event: Event) -> None:
        """Publish one of this replica's events (callable from any thread)."""
        with self._lock:
            self._counter += 1
            counter = self._counter
        body = json.dumps(
            {
                "origin": self.origin,
                "n": counter,
                "at": time.time(),
                "type": event.type,
                "thing": event.thing,
                "full": event.full,
            },
            separators=(",", ":"),
        ).encode()
        mac = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
        self._connection.publish(self.topic, mac + b"\n" + body, qos=1)
        self.sent += 1

    def _receive(self, topic: str, payload: bytes) -> None:
        """Add another replica's event to the log, or drop the message and count it."""
        message = self._check(payload)
        if message is None:
            return
        self.events.publish(message["type"], message["thing"], message["full"], local=False)
        self.received += 1
        if self._on_remote is not None:
            self._on_remote()

    def _check(self, payload: bytes) -> dict[str, Any] | None:
        """The message's content if it is a genuine, new event of another replica."""
        if len(payload) > MAX_MESSAGE_BYTES:
            return self._reject("too large")
        mac, _, body = payload.partition(b"\n")
        expected = hmac.new(self._key, body, hashlib.sha256).hexdigest().encode()
        if not hmac.compare_digest(mac, expected):
            return self._reject("bad signature")
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return self._reject("not JSON")
        if not isinstance(message, dict):
            return self._reject("not an object")
        origin, counter, at = message.get("origin"), message.get("n"), message.get("at")
        if not isinstance(origin, str) or type(counter) is not int:
            return self._reject("no origin or counter")
        if not isinstance(at, int | float) or abs(time.time() - at) > MAX_AGE_S:
            return self._reject("too old")
        if origin == self.origin:
            return None  # our own event, back from the broker
        if (
            message.get("type") not in EVENT_TYPES
            or not isinstance(message.get("thing"), str)
            or not isinstance(message.get("full"), dict)
        ):
            return self._reject("not a directory event")
        with self._lock:
            if counter <= self._last.get(origin, 0):
                return self._reject("replayed")
            self._last[origin] = counter
        return message

    def _reject(self, why: str) -> dict[str, Any] | None:
        self.rejected += 1
        log.warning("directory event from the broker dropped: %s", why)
        return None
