"""Pre-serialised answers of the read routes, kept while the store is unchanged.

A TD, a page of the directory or a ranked match is read from the graph store, turned into
Python objects and encoded as JSON on every request, although between two writes the
answer is the same bytes. :class:`AnswerCache` keeps those bytes (with their entity tag)
per *store generation*: the embedded store counts its committed writes
(:attr:`~tinyreg.core.stores.OxigraphStore.generation`, shared by every process that opened
the directory), and the cache forgets everything the moment the count moves. The store
stays the truth: an answer is only ever served for the generation it was read at, and an
answer read while a write landed is not kept.

Answers can also end by time: a TD's registration expires, and a page changes when any
registration expires; each entry carries the moment it stops being valid.

A store without a generation (a remote SPARQL endpoint, written by other replicas too)
gets no cache: :meth:`AnswerCache.generation` is ``None`` and every read goes to the store.

>>> from tinyreg.core.stores import OxigraphStore
>>> store = OxigraphStore(None)
>>> cache = AnswerCache(store, max_entries=10)
>>> g = cache.generation()
>>> cache.put(("thing", "urn:a"), Answer(b"{}", "application/td+json"), g)
>>> cache.get(("thing", "urn:a")).body
b'{}'
>>> store.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:p> 1 } }")
>>> cache.get(("thing", "urn:a")) is None
True
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Answer", "AnswerCache", "etag_matches"]


@dataclass(frozen=True)
class Answer:
    """One encoded answer.

    Attributes:
        body: The bytes sent.
        media: Its media type.
        headers: Other headers sent with it (``Link``, ``X-Total-Count``).
        valid_until: When it stops being the answer even without a write (an expiry),
            or ``None``.
        etag: Its entity tag (without quotes); default: a digest of the body.

    """

    body: bytes
    media: str
    headers: dict[str, str] = field(default_factory=dict)
    valid_until: datetime | None = None
    etag: str = ""

    def __post_init__(self) -> None:
        if not self.etag:
            object.__setattr__(self, "etag", hashlib.sha256(self.body).hexdigest()[:32])


class AnswerCache:
    """Answers by key, for the store generation they were read at.

    Args:
        store: The graph store; cached only if it has a ``generation``.
        max_entries: Answers kept at most (the oldest go first).
        clock: The current time (aware), against which answers' ends of validity are
            checked; the directory's clock.

    """

    def __init__(
        self, store: object, max_entries: int, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._store = store
        self._clock = clock if clock is not None else (lambda: datetime.now(UTC))
        self._max = max_entries
        self._lock = threading.Lock()
        self._answers: dict[Hashable, Answer] = {}
        self._at: int | None = None
        self.hits = 0
        self.misses = 0

    def generation(self) -> int | None:
        """The store's write generation now, or ``None`` when it has none (no caching)."""
        value = getattr(self._store, "generation", None)
        return value if isinstance(value, int) else None

    def get(self, key: Hashable) -> Answer | None:
        """The answer kept for ``key``, if it is still the store's answer."""
        now = self.generation()
        if now is None:
            return None
        with self._lock:
            if now != self._at:
                self._answers.clear()
                self._at = now
            answer = self._answers.get(key)
        if answer is not None and (
            answer.valid_until is None or self._clock() < answer.valid_until
        ):
            self.hits += 1
            return answer
        self.misses += 1
        return None

    def put(self, key: Hashable, answer: Answer, generation: int | None) -> None:
        """Keep an answer read at ``generation`` (taken *before* the read began).

        Nothing is kept when the store moved on meanwhile: the answer may predate a write.
        """
        if generation is None or self._max == 0 or self.generation() != generation:
            return
        with self._lock:
            if self._at != generation:
                self._answers.clear()
                self._at = generation
            if len(self._answers) >= self._max:
                self._answers.pop(next(iter(self._answers)))
            self._answers[key] = answer

    def __len__(self) -> int:
        return len(self._answers)


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``); weak tags count.

    >>> etag_matches('W/"abc", "def"', "abc"), etag_matches('"x"', "abc"), etag_matches("*", "a")
    (True, False, True)
    """
    if not header:
        return False
    for part in header.split(","):
        tag = part.strip()
        if tag == "*":
            return True
        tag = tag.removeprefix("W/").strip('"')
        if tag == etag:
            return True
    return False
