"""The directory's event log, served as Server-Sent Events.

Writes publish events (``thing_created``, ``thing_updated``, ``thing_deleted``) with
increasing ids into a bounded in-process log; a subscriber gets the events after its
``Last-Event-ID`` still in the log, then live ones. Writers run in worker threads, so
publishing hands each event to the subscribers' event loops thread-safely.

Streams are bounded: each client (remote address) holds at most ``per_client`` at once and
the service at most ``max_streams`` (more are refused with 429 before anything is sent),
and a subscriber that falls ``queue_size`` events behind is told so and its stream ends
(an ``EventSource`` reconnects by itself with ``Last-Event-ID`` and is replayed from the
log), so no client can hold unbounded connections or memory.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from tinyreg.core.errors import RateLimitError

__all__ = ["EVENT_TYPES", "Event", "EventLog", "StreamSlot"]

EVENT_TYPES = ("thing_created", "thing_updated", "thing_deleted")
KEEPALIVE_S = 15.0


@dataclass(frozen=True)
class Event:
    """One directory event.

    Attributes:
        id: Its position in the log (1, 2, ...).
        type: ``thing_created``, ``thing_updated`` or ``thing_deleted``.
        thing: The TD's id.
        full: The data sent with ``diff=true`` (the TD created, or the merge patch of an
            update, each with its ``id``).

    """

    id: int
    type: str
    thing: str
    full: dict[str, Any]

    def sse(self, diff: bool) -> str:
        """The event in the ``text/event-stream`` format."""
        data = self.full if diff else {"id": self.thing}
        return f"event: {self.type}\nid: {self.id}\ndata: {json.dumps(data)}\n\n"


class StreamSlot:
    """One open stream counted against its client's and the service's limits.

    Args:
        log: The event log that counts it.
        client: Who holds it (the remote address).

    """

    def __init__(self, log: EventLog, client: str) -> None:
        self._give_back = log.close
        self.client = client
        self._once = threading.Lock()

    def release(self) -> None:
        """Give the slot back (idempotent: safe from both the stream and its response)."""
        if self._once.acquire(blocking=False):  # held for good: the first call only
            self._give_back(self.client)


_BEHIND = ": this stream fell too far behind and ends; reconnect with Last-Event-ID\n\n"


class EventLog:
    """A bounded log of directory events with live subscribers.

    Args:
        size: How many recent events are kept for replay.
        max_streams: Streams open at once, over all clients.
        per_client: Streams one client (remote address) may hold at once.
        queue_size: Events a subscriber may fall behind before its stream ends.

    """

    def __init__(
        self,
        size: int = 1000,
        *,
        max_streams: int = 256,
        per_client: int = 8,
        queue_size: int = 1000,
    ) -> None:
        self._streams: dict[str, int] = {}
        self.max_streams = max_streams
        self.per_client = per_client
        self.queue_size = queue_size

        self._events: deque[Event] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._next = 1
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = set()
        #: Called with each event of this process's own writes (the replicas' relay).
        self.relay: Callable[[Event], None] | None = None

    @property
    def published(self) -> int:
        """Events published so far."""
        return self._next - 1

    def publish(self, kind: str, thing: str, full: dict[str, Any], *, local: bool = True) -> Event:
        """Append an event and hand it to every subscriber; callable from any thread.

        Args:
            kind: The event type.
            thing: The TD's id.
            full: The event data.
            local: The event is of this process's write (handed to :attr:`relay`), not
                one another replica sent.

        Returns:
            The event appended.

        """
        with self._lock:
            event = Event(self._next, kind, thing, full)
            self._next += 1
            self._events.append(event)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)
        relay = self.relay
        if local and relay is not None:
            relay(event)
        return event

    def since(self, last_id: int) -> list[Event]:
        """The events after ``last_id`` still in the log."""
        with self._lock:
            return [e for e in self._events if e.id > last_id]

    def open(self, client: str) -> StreamSlot:
        """Count a new stream for ``client``.

        Raises:
            RateLimitError: If the client already holds ``per_client`` streams or the
                service ``max_streams``.

        """
        with self._lock:
            if self._streams.get(client, 0) >= self.per_client:
                raise RateLimitError(
                    f"at most {self.per_client} event streams per client at once; "
                    "close one (one stream with every event type serves them all)",
                    retry_after=5.0,
                )
            if sum(self._streams.values()) >= self.max_streams:
                raise RateLimitError(
                    f"the service serves at most {self.max_streams} event streams at once",
                    retry_after=15.0,
                )
            self._streams[client] = self._streams.get(client, 0) + 1
        return StreamSlot(self, client)

    def close(self, client: str) -> None:
        """Count one stream of ``client`` less (see :meth:`StreamSlot.release`)."""
        with self._lock:
            left = self._streams.get(client, 1) - 1
            if left > 0:
                self._streams[client] = left
            else:
                self._streams.pop(client, None)

    @property
    def open_streams(self) -> int:
        """How many streams are counted now."""
        with self._lock:
            return sum(self._streams.values())

    async def stream(
        self, types: set[str], diff: bool, last_id: int | None, slot: StreamSlot | None = None
    ) -> AsyncIterator[str]:
        """Yield events as SSE text: the replay after ``last_id``, then live events.

        A comment line is sent every 15 s without events, so proxies keep the stream open.
        The stream ends when its subscriber falls ``queue_size`` events behind; ``slot``
        is released when it ends.
        """
        queue = _StreamQueue(self.queue_size)
        entry: tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]] = (
            asyncio.get_running_loop(),
            queue,
        )
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield ": tinyreg directory events\n\n"
            sent = last_id or 0
            if last_id is not None:
                for event in self.since(last_id):
                    sent = event.id
                    if event.type in types:
                        yield event.sse(diff)
            while True:
                try:
                    live = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if live is _END:
                    yield _BEHIND
                    return
                if live.id <= sent:
                    continue  # already replayed
                sent = live.id
                if live.type in types:
                    yield live.sse(diff)
        finally:
            with self._lock:
                self._subscribers.discard(entry)
            if slot is not None:
                slot.release()


_END = Event(0, "", "", {})
"""The marker a subscriber's queue ends with once it is full."""


class _StreamQueue(asyncio.Queue[Event]):
    """A subscriber's queue of at most ``size`` events, then :data:`_END`, then nothing."""

    def __init__(self, size: int) -> None:
        super().__init__(maxsize=size + 1)
        self._ended = False

    def put_nowait(self, item: Event) -> None:
        """Queue an event; when ``size`` are waiting, the end marker instead (once)."""
        if self._ended:
            return
        if self.qsize() >= self.maxsize - 1:
            self._ended = True
            item = _END
        super().put_nowait(item)
