"""The directory's event log, served as Server-Sent Events.

Writes publish events (``thing_created``, ``thing_updated``, ``thing_deleted``) with
increasing ids into a bounded in-process log; a subscriber gets the events after its
``Last-Event-ID`` still in the log, then live ones. Writers run in worker threads, so
publishing hands each event to the subscribers' event loops thread-safely.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

__all__ = ["EVENT_TYPES", "Event", "EventLog"]

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


class EventLog:
    """A bounded log of directory events with live subscribers.

    Args:
        size: How many recent events are kept for replay.

    """

    def __init__(self, size: int = 1000) -> None:
        self._events: deque[Event] = deque(maxlen=size)
        self._lock = threading.Lock()
        self._next = 1
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[Event]]] = set()

    @property
    def published(self) -> int:
        """Events published so far."""
        return self._next - 1

    def publish(self, kind: str, thing: str, full: dict[str, Any]) -> Event:
        """Append an event and hand it to every subscriber; callable from any thread."""
        with self._lock:
            event = Event(self._next, kind, thing, full)
            self._next += 1
            self._events.append(event)
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, event)
        return event

    def since(self, last_id: int) -> list[Event]:
        """The events after ``last_id`` still in the log."""
        with self._lock:
            return [e for e in self._events if e.id > last_id]

    async def stream(self, types: set[str], diff: bool, last_id: int | None) -> AsyncIterator[str]:
        """Yield events as SSE text: the replay after ``last_id``, then live events.

        A comment line is sent every 15 s without events, so proxies keep the stream open.
        """
        queue: asyncio.Queue[Event] = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
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
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event.id <= sent:
                    continue  # already replayed
                sent = event.id
                if event.type in types:
                    yield event.sse(diff)
        finally:
            with self._lock:
                self._subscribers.discard(entry)
