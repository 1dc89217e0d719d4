"""The matchmaker: compatible model–device pairs, ranked and explained with numbers.

Every constraint is a pattern of one SPARQL query (``matchmaker/queries/verdicts.rq``) run
by the store: RAM, flash, sensors, operators, whether the runtime runs the model, and the
user's own limits. The query works on device *profiles* (devices with identical figures
share one, see :mod:`tinyreg.registry.profile`), so it touches hundreds of profiles rather
than every device of a fleet; a second query expands the fitting profiles to devices.

The registry keeps the query's fitting pairs as they register (the fit index,
:mod:`tinyreg.matchmaker.fits`). ``devices_for`` and ``models_for`` read their ranked answer
from it, as a :class:`Matches` sequence that runs the verdict query only for the matches
a caller reads (a page of 100 costs one query, a full list of 20,000 devices a few);
``all_verdicts=True``, and an index that does not cover every model and profile, run the
verdict query over every pair instead.

>>> from tinyreg.registry import Registry
>>> with Registry.open(in_memory=True) as reg:
...     Matchmaker(reg).pairs()
[]
"""

from __future__ import annotations

import logging
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from typing import Any, NamedTuple, Protocol, overload

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from tinyreg.core.errors import InputError, NotFoundError
from tinyreg.core.namespaces import TR
from tinyreg.core.queries import load_query, values_block, with_values
from tinyreg.core.stores.base import GraphStore, inline_bindings, normalise_bindings
from tinyreg.core.vocabulary import SENSOR_TYPES
from tinyreg.matchmaker.constraints import (
    CONSTRAINTS,
    NOTES,
    Constraint,
    Details,
    VerdictRow,
    estimated_latency,
    local_name,
    user_filters,
)
from tinyreg.matchmaker.dialect import for_virtuoso, verdict_query, virtuoso_bound
from tinyreg.matchmaker.fits import FitIndex

__all__ = ["Catalogue", "Constraint", "Match", "Matches", "Matchmaker", "Ranked", "Verdict"]

_CHUNK = 256  # matches turned into objects per verdict query while iterating
_PREFETCH = 400  # more pairs than this: one verdict query over the whole profile
_EXACT_INT = 2**53  # integers below this are exact as doubles
_FEW = 16  # profiles asked by name (one lookup each); more: one scan of every device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """The matchmaker's verdict on a model and a device profile.

    Attributes:
        model: The model IRI.
        profile: The device profile IRI.
        fits: Whether every constraint passes.
        estimated_latency_ms: Estimated inference latency on the profile's core, or
            ``None`` without a cycles-per-MAC figure for its core family.
        constraints: Each constraint with its figures.
        flags: Warnings that do not fail the pair (e.g. float32 without FPU).
        metric: The model's metric value, if any (used in ranking).
        latency_error_band: How far the latency estimate can be off: the median
            |estimate / measurement − 1| of the core family's figures on held-out real-board
            measurements; ``None`` where no board measurement tested them.
        latency_basis: Where the core family's cycles per MAC come from (``tr:figureSource``).

    """

    model: str
    profile: str
    fits: bool
    estimated_latency_ms: float | None
    constraints: tuple[Constraint, ...]
    flags: tuple[str, ...]
    metric: float | None
    latency_error_band: float | None = None
    latency_basis: str | None = None

    @property
    def failed(self) -> list[str]:
        """Names of the constraints that fail."""
        return [c.name for c in self.constraints if not c.passed]


@dataclass(frozen=True)
class Match:
    """A verdict for one model and one device.

    Attributes:
        model: The model IRI.
        device: The device IRI.
        verdict: The verdict of the device's profile.
        rank: Position in the ranked answer (1 = best).

    """

    model: str
    device: str
    verdict: Verdict
    rank: int

    @property
    def fits(self) -> bool:
        """Whether the model fits the device."""
        return self.verdict.fits

    def explain(self) -> str:
        """The verdict as readable lines, one per constraint."""
        verdict = "fits" if self.fits else "does not fit"
        lines = [f"{local_name(self.model)} on {local_name(self.device)}: {verdict}"]
        if self.verdict.estimated_latency_ms is not None:
            lines[0] += f", estimated latency {self.verdict.estimated_latency_ms:,.2f} ms"
            band = self.verdict.latency_error_band
            lines[0] += (
                f" (median error {band:.0%} on held-out real-board measurements)"
                if band is not None
                else " (not checked against a real board)"
            )
        for c in self.verdict.constraints:
            lines.append(f"  [{'pass' if c.passed else 'FAIL'}] {c.detail}")
        lines.extend(f"  [note] {flag}" for flag in self.verdict.flags)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The match as JSON-ready data (the shape of ``tinyreg match --format json``)."""
        latency = self.verdict.estimated_latency_ms
        return {
            "rank": self.rank,
            "model": self.model,
            "device": self.device,
            "fits": self.fits,
            "estimated_latency_ms": round(latency, 4) if latency is not None else None,
            "latency_error_band": self.verdict.latency_error_band,
            "latency_basis": self.verdict.latency_basis,
            "failed": self.verdict.failed,
            "flags": list(self.verdict.flags),
            "metric": self.verdict.metric,
            "constraints": [c.to_dict() for c in self.verdict.constraints],
        }


class _Entry(NamedTuple):
    """One ranked line of an index answer: a model on a profile, and how many devices.

    A named tuple: thousands are made an answer (a frozen dataclass costs 3× more).
    """

    model: str
    profile: str
    size: int
    device: str | None = None  # the one device (models_for); else the profile's devices
    latency_ms: float | None = None
    metric: float | None = None


class _DeviceEntries(Sequence[_Entry]):
    """The entries of one device's ranked answer, made as they are read.

    A ``models_for`` answer can rank thousands of models. Kept as the plain tuples of its
    ranking, it leaves nothing for Python's cyclic garbage collector to track (plain
    tuples of strings and numbers are untracked; named tuples stay tracked), so answers
    kept by a caller do not bring on full collections (15–20 ms at 10,000 models).
    """

    __slots__ = ("_device", "_profile", "_ranked")

    def __init__(
        self, ranked: Sequence[tuple[str, float | None, Any]], profile: str, device: str
    ) -> None:
        self._ranked = ranked
        self._profile = profile
        self._device = device

    def __len__(self) -> int:
        return len(self._ranked)

    @overload
    def __getitem__(self, index: int) -> _Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[_Entry]: ...

    def __getitem__(self, index: int | slice) -> _Entry | list[_Entry]:
        profile, device = self._profile, self._device
        if isinstance(index, slice):
            return [
                _Entry(model, profile, 1, device, latency, metric)
                for model, latency, metric in self._ranked[index]
            ]
        model, latency, metric = self._ranked[index]
        return _Entry(model, profile, 1, device, latency, metric)


@dataclass(frozen=True)
class Ranked:
    """A fitting pair's place in a ranked answer, without its constraint figures.

    Attributes:
        rank: Position in the answer (1 = best).
        model: The model IRI.
        device: The device IRI.
        estimated_latency_ms: Estimated latency on the device's core, or ``None``.
        metric: The model's metric value, when ``models_for`` read it (ranking or
            filtering by metric, or to order models whose estimated latency ties);
            else ``None``: the match's verdict has it.

    """

    rank: int
    model: str
    device: str
    estimated_latency_ms: float | None
    metric: float | None


def _without_block(query: str, name: str) -> str:
    """A query without the lines from ``# begin NAME`` to ``# end NAME``."""
    kept: list[str] = []
    skipping = False
    for line in query.splitlines():
        mark = line.strip()
        if mark == f"# begin {name}":
            skipping = True
        elif mark == f"# end {name}":
            skipping = False
        elif not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def _rank_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The verdict query's order, for rows of the fit index.

    That is ``ORDER BY ?softFloat ?latencyMs DESC(?metric) ?model ?profile``, with unbound
    values first in ascending order and last in descending order.
    """
    latency, metric = row.get("latencyMs"), row.get("metric")
    return (
        bool(row.get("softFloat")),
        latency is not None,
        latency or 0.0,
        metric is None,
        -(metric or 0.0),
        str(row["model"]),
        str(row["profile"]),
    )


class Matches(Sequence[Match]):
    """A ranked answer read from the fit index, turned into matches as they are read.

    The ranking and the number of matches are known at once; the devices of a profile
    and the verdicts with their constraint figures are read from the store for the
    matches a caller looks at (an index, a slice, or iteration in chunks), and kept.

    Args:
        matchmaker: The matchmaker that answers the verdict queries.
        entries: The ranked (model, profile, number of devices) lines.
        max_latency_ms: The latency limit the answer was asked with, if any.
        every_verdict: Reads the verdicts of every entry at once, used when more than
            ``_PREFETCH`` are wanted (``models_for``: the verdict query over the device's
            profile costs less than one query per model beyond that).

    """

    def __init__(
        self,
        matchmaker: Matchmaker,
        entries: Sequence[_Entry],
        max_latency_ms: float | None,
        every_verdict: Callable[[], list[Verdict]] | None = None,
    ) -> None:
        self._mm = matchmaker
        self._entries = entries
        self._every_verdict = every_verdict
        self._starts: Sequence[int] = (
            range(len(entries) + 1)  # one device a line
            if isinstance(entries, _DeviceEntries)
            else list(accumulate((e.size for e in entries), initial=0))
        )
        self._max_latency = max_latency_ms
        self._devices: dict[str, list[str]] = {}
        self._verdicts: dict[tuple[str, str], Verdict] = {}

    def __len__(self) -> int:
        return self._starts[-1]

    @overload
    def __getitem__(self, index: int) -> Match: ...

    @overload
    def __getitem__(self, index: slice) -> list[Match]: ...

    def __getitem__(self, index: int | slice) -> Match | list[Match]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            return self._range(start, stop)
        position = index + len(self) if index < 0 else index
        if not 0 <= position < len(self):
            raise IndexError("match index out of range")
        return self._range(position, position + 1)[0]

    def __iter__(self) -> Iterator[Match]:
        if len(self) > _CHUNK:  # reading everything: every device and verdict at once
            self._load_devices(self._entries)
            self._load_verdicts(set(self._entries))
        for start in range(0, len(self), _CHUNK):
            yield from self._range(start, min(start + _CHUNK, len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Matches | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Matches: {len(self):,} ranked matches>"

    def ranked(self, start: int = 0, stop: int | None = None) -> list[Ranked]:
        """The ranking from ``start`` to ``stop``, without running the verdict query.

        Only the devices of the profiles in that range are read (``devices_for``); the
        constraint figures are not: index or iterate the matches for those.
        """
        start, stop, _ = slice(start, stop).indices(len(self))
        return [
            Ranked(rank, entry.model, device, entry.latency_ms, entry.metric)
            for entry, device, rank in self._walk(start, stop)
        ]

    def _walk(self, start: int, stop: int) -> list[tuple[_Entry, str, int]]:
        """Entry, device and rank of each position from ``start`` to ``stop``."""
        if start >= stop:
            return []
        first = bisect_right(self._starts, start) - 1
        entries = self._entries[first : bisect_left(self._starts, stop)]
        self._load_devices(entries)
        walked: list[tuple[_Entry, str, int]] = []
        for number, entry in enumerate(entries, first):
            base = self._starts[number]
            devices = [entry.device] if entry.device else self._devices[entry.profile]
            for offset in range(max(start, base) - base, min(stop, base + entry.size) - base):
                if offset < len(devices):  # a device deleted since the answer was counted
                    walked.append((entry, devices[offset], base + offset + 1))
        return walked

    def _range(self, start: int, stop: int) -> list[Match]:
        walked = self._walk(start, stop)
        self._load_verdicts({entry for entry, _, _ in walked})
        return [
            Match(entry.model, device, self._verdicts[(entry.model, entry.profile)], rank)
            for entry, device, rank in walked
        ]

    def _load_devices(self, entries: Iterable[_Entry]) -> None:
        profiles = sorted(
            {e.profile for e in entries if e.device is None and e.profile not in self._devices}
        )
        if profiles:
            self._devices.update(self._mm._kept_profile_devices(profiles))

    def _load_verdicts(self, entries: set[_Entry]) -> None:
        pairs = sorted({(e.model, e.profile) for e in entries} - self._verdicts.keys())
        if len(pairs) > _PREFETCH and self._every_verdict is not None:
            for verdict in self._every_verdict():
                self._verdicts.setdefault((verdict.model, verdict.profile), verdict)
            self._every_verdict = None
            pairs = [pair for pair in pairs if pair not in self._verdicts]
        if pairs:
            for verdict in self._mm._pair_verdicts(pairs, self._max_latency):
                self._verdicts[(verdict.model, verdict.profile)] = verdict
            for pair in pairs:
                if pair not in self._verdicts:
                    raise NotFoundError("model", pair[0])


def _verdict(
    row: Mapping[str, Any], max_latency_ms: float | None, details: Details | None = None
) -> Verdict:
    """A verdict row of the store turned into a verdict, constraint by constraint."""
    found = VerdictRow.of(row, max_latency_ms, details)
    constraints = [c for check in CONSTRAINTS if (c := check(found)) is not None]
    metric = found.get("metric")
    return Verdict(
        model=str(found["model"]),
        profile=str(found["profile"]),
        fits=bool(found["fits"]),
        estimated_latency_ms=estimated_latency(found),
        constraints=tuple(constraints),
        flags=tuple(note for notes in NOTES for note in notes(found)),
        metric=float(metric) if metric is not None else None,
        latency_error_band=float(band) if (band := found.get("latencyBand")) is not None else None,
        latency_basis=str(basis) if (basis := found.get("latencySource")) is not None else None,
    )


class Catalogue(Protocol):
    """What the matchmaker reads from a registry (:class:`tinyreg.registry.Registry` is one).

    Attributes:
        store: The graph store holding models, devices and the runtime tables.
        fits: The fit index kept as models and devices register.

    """

    store: GraphStore
    fits: FitIndex

    def resolve(self, kind: str, ident: str) -> str:
        """Turn an id, short id, IRI or name of a ``model`` or ``device`` into its IRI."""
        ...


class Matchmaker:
    """Find, rank and explain compatible model–device pairs in a registry.

    Args:
        registry: The registry whose models and devices are matched.
        use_index: Read ranked answers from the fit index when it is complete; with
            ``False`` every answer comes from the verdict query over every pair (the
            same verdicts, slower at scale; benchmarks compare the two).

    """

    def __init__(self, registry: Catalogue, *, use_index: bool = True) -> None:
        self.registry = registry
        self.use_index = use_index

    # ------------------------------------------------------------------ queries

    def _verdicts(
        self,
        bindings: dict[str, Node],
        filters: dict[str, Node],
        max_latency_ms: float | None,
    ) -> list[Verdict]:
        """Verdicts of the pairs that ``bindings`` leave open, under the user's filters.

        ``filters`` come from :func:`user_filters`, built with the same ``max_latency_ms``.
        """
        store = self.registry.store
        query = verdict_query(store.dialect)
        if store.dialect == "virtuoso":
            rows = store.select_values(virtuoso_bound(query, {**filters, **bindings}))
            return [_verdict(row, max_latency_ms) for row in rows]
        if filters:
            query = inline_bindings(query, normalise_bindings(filters))
        rows = store.select_values(query, bindings)
        return [_verdict(row, max_latency_ms) for row in rows]

    def _profile_devices(self, profiles: list[str]) -> dict[str, list[str]]:
        if not profiles:
            return {}
        query = with_values(
            load_query("tinyreg.matchmaker", "profile_devices"), "profile", map(URIRef, profiles)
        )
        devices: dict[str, list[str]] = {}
        for row in self.registry.store.select_values(query):
            devices.setdefault(str(row["profile"]), []).append(str(row["device"]))
        for members in devices.values():
            members.sort()
        return devices

    def _kept_profile_devices(self, profiles: list[str]) -> dict[str, list[str]]:
        """The devices of some profiles, sorted, kept until the store's next write.

        Up to ``_FEW`` profiles not kept yet are read one query each (an index lookup
        of the profile, only device IRIs decoded: the devices of the first profiles of
        a ranked page); more in one query (:meth:`_profile_devices`).
        """
        kept: dict[str, list[str]] = self.registry.fits.kept("profile_devices", dict)
        todo = [p for p in profiles if p not in kept]
        if len(todo) > _FEW:
            found = self._profile_devices(todo)
            for profile in todo:
                kept[profile] = found.get(profile, [])
        else:
            query = load_query("tinyreg.matchmaker", "devices_of_profile")
            for profile in todo:
                rows = self.registry.store.select_values(
                    inline_bindings(query, normalise_bindings({"profile": URIRef(profile)}))
                )
                kept[profile] = sorted(str(row["device"]) for row in rows)
        return {p: kept[p] for p in profiles}

    def _device_row(self, device: str) -> dict[str, Any]:
        iri = self.registry.resolve("device", device)
        rows = self.registry.store.select_values(
            load_query("tinyreg.matchmaker", "device_profile"), {"device": URIRef(iri)}
        )
        if not rows:
            raise NotFoundError("device profile", device)
        return rows[0]

    @staticmethod
    def _profile_keys(row: Mapping[str, Any]) -> dict[str, Node]:
        keys: dict[str, Node] = {key: URIRef(row[key]) for key in ("profile", "runtime", "release")}
        keys["family"] = Literal(row["family"])
        return keys

    def _device_profile(self, device: str) -> dict[str, Node]:
        return self._profile_keys(self._device_row(device))

    # ------------------------------------------------------------------ fit index

    def _index_ready(self) -> bool:
        """Whether the fit index covers every model and profile (else: verdict query)."""
        if not self.use_index:
            return False
        models, profiles = self.registry.fits.missing()
        if models or profiles:
            log.warning(
                "the fit index does not cover %d model(s) and %d profile(s): answering "
                "from the verdict query over every pair (`tinyreg reindex` brings the "
                "index up to date)",
                models,
                profiles,
            )
            return False
        return True

    def _pair_verdicts(
        self, pairs: Sequence[tuple[str, str]], max_latency_ms: float | None
    ) -> list[Verdict]:
        """The verdicts of some (model, profile) pairs: one verdict query per model.

        The model is bound and the profiles are a ``VALUES`` block (12 ms for 5 profiles
        at 10,000 models and 300 profiles); a ``VALUES`` block of models or of pairs is
        not joined first by Oxigraph (0.5–6 s for 100 pairs), so one model's pair is
        asked alone (3 ms).
        """
        store = self.registry.store
        query = verdict_query(store.dialect)
        latency: dict[str, Node] = {}
        if max_latency_ms is not None:
            latency["maxLatency"] = Literal(float(max_latency_ms), datatype=XSD.double)
        by_model: dict[str, list[str]] = {}
        for model, profile in pairs:
            by_model.setdefault(model, []).append(profile)
        rows: list[dict[str, Any]] = []
        if store.dialect == "virtuoso":
            for model, profiles in by_model.items():
                bound: dict[str, Node | list[Node]] = {
                    **latency,
                    "model": URIRef(model),
                    "profile": [URIRef(p) for p in profiles],
                }
                rows.extend(store.select_values(virtuoso_bound(query, bound)))
            return [_verdict(row, max_latency_ms) for row in rows]
        if latency:
            query = inline_bindings(query, normalise_bindings(latency))
        for model, profiles in by_model.items():
            bindings: dict[str, Node] = {"model": URIRef(model)}
            text = query
            if len(profiles) == 1:
                bindings["profile"] = URIRef(profiles[0])
            else:
                text = with_values(query, "profile", map(URIRef, profiles))
            rows.extend(self.registry.store.select_values(text, bindings))
        return [_verdict(row, max_latency_ms) for row in rows]

    def _break_ties(self, rows: list[dict[str, Any]]) -> None:
        """Read the metric of models whose place in ``rows`` (sorted) ties, and sort again.

        Ranking by metric comes after the estimated latency, so only models with the
        same latency (and the same soft-float flag) need it.
        """
        tied: set[str] = set()
        for before, after in pairwise(rows):
            if (before.get("softFloat"), before.get("latencyMs")) == (
                after.get("softFloat"),
                after.get("latencyMs"),
            ):
                tied.update((str(before["model"]), str(after["model"])))
        if not tied:
            return
        metrics = self._metrics(tied)
        for row in rows:
            if str(row["model"]) in metrics:
                row["metric"] = metrics[str(row["model"])]
        rows.sort(key=_rank_key)

    def _metrics(self, models: Iterable[str]) -> dict[str, Any]:
        """The metric value of some models (of a model with several, the last row's)."""
        query = with_values(
            load_query("tinyreg.matchmaker", "model_metrics"), "model", map(URIRef, sorted(models))
        )
        return {str(r["model"]): r["metric"] for r in self.registry.store.select_values(query)}

    def _profile_counts(self, profiles: list[str]) -> dict[str, int]:
        """Devices of each profile; counts are kept until the store's next write.

        Where the counts are kept, a missing one makes every profile's devices counted at
        once: Oxigraph does not join a long ``VALUES`` block first, so counting the
        profiles of one answer scans every device anyway (185 ms for 210 profiles at
        100,000 devices, 160 ms for all 300; load ~3), and the later answers of the same
        store generation then find every count kept.
        """
        kept = self.registry.fits.kept_counts()
        todo = profiles if kept is None else [p for p in profiles if p not in kept]
        counts: dict[str, int] = {}
        if todo:
            query = load_query("tinyreg.matchmaker", "profile_counts")
            if kept is None:
                query = with_values(query, "profile", map(URIRef, todo))
            counts = {p: 0 for p in todo}  # a profile without devices has no row
            for row in self.registry.store.select_values(query):
                counts[str(row["profile"])] = int(row["devices"])
            if kept is not None:
                kept.update(counts)
        if kept is None:
            return counts
        return {p: kept[p] for p in profiles if p in kept}

    def _model_figures(self) -> dict[str, tuple[int, bool] | None]:
        """MACs and integer flag of every model, kept until the store's next write.

        A model with more than one such row, a non-integer MAC count or no integer flag
        maps to ``None`` (irregular: its answers come from ``fits_models.rq``).
        """

        def read() -> dict[str, tuple[int, bool] | None]:
            figures: dict[str, tuple[int, bool] | None] = {}
            query = load_query("tinyreg.matchmaker", "model_figures")
            for found in self.registry.store.select_values(query):
                model, macs, integer = str(found["model"]), found.get("macs"), found.get("integer")
                if (
                    type(macs) is int
                    and abs(macs) < _EXACT_INT
                    and isinstance(integer, bool)
                    and model not in figures
                ):
                    figures[model] = (macs, integer)
                else:
                    figures[model] = None
            return figures

        figures: dict[str, tuple[int, bool] | None] = self.registry.fits.kept("model_figures", read)
        return figures

    def _ranked_by_figures(
        self, row: Mapping[str, Any], filters: Mapping[str, Node]
    ) -> list[tuple[str, float | None, Any]] | None:
        """Model, estimated latency and metric of the models fitting a device's profile, ranked.

        The ranking is that of ``fits_models.rq`` (without metric and user filters) rows
        sorted by ``_rank_key`` with ``_break_ties``, computed from kept figures.

        Only the fitting models' IRIs are read from the store; the estimated latency and
        the soft-float flag are computed here exactly as the query computes them
        (``?macs * ?cpm * 1000 / ?clock`` in double precision: integer MACs and clock,
        cycles per MAC written into the query as doubles). ``None`` where that would not
        be exact or the figures cannot be kept (a store that does not count its writes,
        Virtuoso, cycles per MAC that are not doubles, an irregular model): then the
        query answers. Without a latency limit the ranking depends only on the profile
        and the store's content: it is kept per profile until the store's next write.
        """
        store = self.registry.store
        if store.dialect == "virtuoso" or not isinstance(getattr(store, "generation", None), int):
            return None
        clock = row.get("clock")
        if not isinstance(clock, int | float) or isinstance(clock, bool) or not clock > 0:
            return None
        cpm_int, cpm_float = row.get("cpmInt"), row.get("cpmFloat")
        if any(cpm is not None and type(cpm) is not float for cpm in (cpm_int, cpm_float)):
            return None
        limit = filters.get("maxLatency")
        max_latency = float(str(limit)) if limit is not None else None
        profile = str(row["profile"])
        # the plain ranking depends only on the profile and the store's content: kept
        kept: dict[str, list[tuple[str, float | None, Any]]] = self.registry.fits.kept(
            "profile_rankings", dict
        )
        if max_latency is None and profile in kept:
            return kept[profile]
        fpu = bool(row["fpu"])
        figures = self._model_figures()
        fitting = store.select_values(
            inline_bindings(
                load_query("tinyreg.matchmaker", "fits_of_profile"),
                normalise_bindings({"profile": URIRef(profile)}),
            )
        )
        keyed: list[tuple[bool, bool, float, str, float | None]] = []
        for found in fitting:
            model = str(found["model"])
            if model not in figures:
                continue  # no MACs or no quantisation type: the query's join drops it
            figure = figures[model]
            if figure is None:
                return None
            macs, integer = figure
            cpm = cpm_int if integer else cpm_float
            latency = macs * cpm * 1000 / clock if cpm is not None else None
            if max_latency is not None and (latency is None or not latency <= max_latency):
                continue
            keyed.append(
                (not integer and not fpu, latency is not None, latency or 0.0, model, latency)
            )
        keyed.sort()  # _rank_key's order: every metric is unread yet
        tied: set[str] = set()
        for before, after in pairwise(keyed):
            if before[0] == after[0] and before[4] == after[4]:
                tied.update((before[3], after[3]))
        answer: list[tuple[str, float | None, Any]]
        if not tied:
            answer = [(model, latency, None) for _, _, _, model, latency in keyed]
        else:
            metrics = self._metrics(tied)
            ranked = [
                (soft, has, value, model not in metrics, -(metrics.get(model) or 0.0), model, lat)
                for soft, has, value, model, lat in keyed
            ]
            ranked.sort()
            answer = [(line[5], line[6], metrics.get(line[5])) for line in ranked]
        if max_latency is None:
            kept[profile] = answer
        return answer

    def _indexed_devices_for(self, model: str, max_latency_ms: float | None) -> Matches:
        filters: dict[str, Node] = {}
        if max_latency_ms is not None:
            filters["maxLatency"] = Literal(float(max_latency_ms), datatype=XSD.double)
        query = load_query("tinyreg.matchmaker", "fits_profiles")
        if filters:
            query = inline_bindings(query, normalise_bindings(filters))
        rows = self.registry.store.select_values(query, {"model": URIRef(model)})
        rows.sort(key=_rank_key)
        counts = self._profile_counts([str(row["profile"]) for row in rows])
        entries = [
            _Entry(model, profile, counts[profile], None, row.get("latencyMs"))
            for row in rows
            if counts.get(profile := str(row["profile"]))
        ]
        return Matches(self, entries, max_latency_ms)

    def _indexed_models_for(
        self,
        device: str,
        row: Mapping[str, Any],
        filters: dict[str, Node],
        order: str,
        max_latency_ms: float | None,
    ) -> Matches:
        bound = dict(filters)
        bound.pop("onlyFits", None)
        for key in ("clock", "cpmInt", "cpmFloat"):
            if row.get(key) is not None:
                bound[key] = Literal(row[key])
        bound["fpu"] = Literal(bool(row["fpu"]))
        bound["profile"] = URIRef(row["profile"])
        with_metric = order == "metric" or "minMetric" in filters
        plain = not {"wantTask", "minMetric", "text", "datasetText"} & filters.keys()
        profile = str(row["profile"])
        ranked = None if with_metric or not plain else self._ranked_by_figures(row, filters)
        entries: Sequence[_Entry]
        if ranked is not None:
            entries = _DeviceEntries(ranked, profile, device)
        else:
            query = load_query("tinyreg.matchmaker", "fits_models")
            if not with_metric:
                query = _without_block(query, "metric")
            if plain:
                query = _without_block(query, "filters")
            if self.registry.store.dialect == "virtuoso":
                query = virtuoso_bound(for_virtuoso(query), bound)
            else:
                query = inline_bindings(query, normalise_bindings(bound))
            rows = self.registry.store.select_values(query)
            for found in rows:
                found["profile"] = profile
            rows.sort(key=_rank_key)
            if not with_metric:
                self._break_ties(rows)
            if order == "metric":
                rows.sort(key=lambda r: (r.get("metric") is None, -(r.get("metric") or 0.0)))
            entries = [
                _Entry(str(r["model"]), profile, 1, device, r.get("latencyMs"), r.get("metric"))
                for r in rows
            ]
        keys = self._profile_keys(row)

        def every_verdict() -> list[Verdict]:
            return self._verdicts(keys, filters, max_latency_ms)

        return Matches(self, entries, max_latency_ms, every_verdict)

    def _queried_models_for(
        self,
        device: str,
        row: Mapping[str, Any],
        filters: dict[str, Node],
        order: str,
        max_latency_ms: float | None,
    ) -> list[Match]:
        """``models_for`` answered by the verdict query over every model."""
        verdicts = self._verdicts(self._profile_keys(row), filters, max_latency_ms)
        if order == "metric":
            verdicts.sort(key=lambda v: (not v.fits, v.metric is None, -(v.metric or 0.0)))
        return [Match(v.model, device, v, rank) for rank, v in enumerate(verdicts, 1)]

    @staticmethod
    def _expand(
        verdicts: list[Verdict], devices: dict[str, list[str]], first_rank: int = 1
    ) -> Iterator[Match]:
        """Matches of each verdict's devices, in verdict order, ranked from ``first_rank``."""
        rank = first_rank
        for verdict in verdicts:
            for device in devices.get(verdict.profile, ()):
                yield Match(verdict.model, device, verdict, rank)
                rank += 1

    def _offers(self, runtime: URIRef) -> dict[str, int | None]:
        rows = self.registry.store.select_values(
            load_query("tinyreg.matchmaker", "details_offers"), {"runtime": runtime}
        )
        offers: dict[str, int | None] = {}
        for row in rows:
            cap = row.get("maxVersion")
            offers[row["item"]] = (
                max(offers.get(row["item"]) or 0, cap) if cap is not None else None
            )
        return offers

    def _details(self, bindings: dict[str, Node], runtime: URIRef, release: URIRef) -> Details:
        """The names behind one verdict: small per-pair lookups, compared here."""
        store = self.registry.store
        needs = [
            (row["item"], bool(row["ok"]))
            for row in store.select_values(
                load_query("tinyreg.matchmaker", "details_needs"), bindings
            )
        ]
        hosted = [
            row["item"]
            for row in store.select_values(
                load_query("tinyreg.matchmaker", "details_hosted"), {"profile": bindings["profile"]}
            )
        ]
        offered = self._offers(runtime)
        released = offered if runtime == release else self._offers(release)

        def offers(table: dict[str, int | None], item: str, version: int) -> bool:
            return item in table and (table[item] is None or version <= (table[item] or 0))

        operators = []
        for row in store.select_values(
            load_query("tinyreg.matchmaker", "details_operators"), {"model": bindings["model"]}
        ):
            item, version, custom = row["item"], int(row["version"]), bool(row["custom"])
            ok = offers(offered, item, version) and (custom or offers(released, item, version))
            operators.append((item, version, ok))
        return Details(needs, operators, hosted, release_described=bool(released))

    # ------------------------------------------------------------------ public API

    def devices_for(
        self,
        model: str,
        *,
        all_verdicts: bool = False,
        max_latency_ms: float | None = None,
        limit: int | None = None,
    ) -> Sequence[Match]:
        """Devices that can run a model, best first.

        Ranking: fitting pairs first, then float32-without-FPU last among equals, then by
        estimated latency, then by device id.

        Args:
            model: The model id, IRI or unambiguous name.
            all_verdicts: Also return the devices it does not fit, with the reasons.
            max_latency_ms: Only devices whose estimated latency is at most this.
            limit: Return at most this many matches.

        Returns:
            The ranked matches, one per device: a :class:`Matches` read from the fit
            index (devices and constraint figures fetched as they are read), or a list
            with ``limit``, with ``all_verdicts`` or when the index is incomplete.

        Raises:
            NotFoundError: If the model is unknown.

        """
        iri = self.registry.resolve("model", model)
        if not all_verdicts and self._index_ready():
            found = self._indexed_devices_for(iri, max_latency_ms)
            return found[:limit] if limit is not None else found
        filters = user_filters(only_fits=not all_verdicts, max_latency_ms=max_latency_ms)
        verdicts = self._verdicts({"model": URIRef(iri)}, filters, max_latency_ms)
        if limit is None:
            devices = self._profile_devices(sorted({v.profile for v in verdicts}))
            return list(self._expand(verdicts, devices))
        # ranked paging: expand profiles in rank order until the page is full
        matches: list[Match] = []
        start = 0
        chunk = 4
        while start < len(verdicts) and len(matches) < limit:
            batch = verdicts[start : start + chunk]
            devices = self._profile_devices(sorted({v.profile for v in batch}))
            for match in self._expand(batch, devices, len(matches) + 1):
                matches.append(match)
                if len(matches) >= limit:
                    break
            start += chunk
            chunk *= 4
        return matches

    def models_for(
        self,
        device: str,
        *,
        task: str | None = None,
        min_metric: float | None = None,
        max_latency_ms: float | None = None,
        text: str | None = None,
        dataset: str | None = None,
        all_verdicts: bool = False,
        limit: int | None = None,
        order: str = "rank",
    ) -> Sequence[Match]:
        """Models that fit a device, best first.

        Ranking: fitting pairs first, float32 models on a core without FPU after the
        others, then by estimated latency, then by metric value (higher first), then id.

        Args:
            device: The device id, short id, IRI or unambiguous title.
            task: Only models for this task (e.g. ``classification``).
            min_metric: Only models whose metric value is at least this.
            max_latency_ms: A limit on the estimated latency (a constraint of the verdict).
            text: Only models whose name, description or dataset contains this (any case).
            dataset: Only models whose dataset contains this (any case).
            all_verdicts: Also return the models that do not fit, with the reasons.
            limit: Return at most this many matches.
            order: ``rank`` (the ranking above) or ``metric`` (fitting pairs first, then
                metric value, higher first; models without one last).

        Returns:
            The ranked matches, one per model: a :class:`Matches` read from the fit index
            (constraint figures fetched as they are read), or a list with ``limit``,
            with ``all_verdicts`` or when the index is incomplete.

        Raises:
            NotFoundError: If the device is unknown.
            InputError: If ``order`` or ``task`` is unknown.

        """
        if order not in ("rank", "metric"):
            raise InputError(f"unknown order {order!r}; use 'rank' or 'metric'")
        iri = self.registry.resolve("device", device)
        row = self._device_row(iri)
        filters = user_filters(
            only_fits=not all_verdicts,
            task=task,
            min_metric=min_metric,
            max_latency_ms=max_latency_ms,
            text=text,
            dataset=dataset,
        )
        if not all_verdicts and self._index_ready():
            found = self._indexed_models_for(iri, row, filters, order, max_latency_ms)
            return found[:limit] if limit is not None else found
        matches = self._queried_models_for(iri, row, filters, order, max_latency_ms)
        return matches[:limit] if limit is not None else matches

    def devices_with(
        self,
        *,
        sensors: Iterable[str] = (),
        min_free_ram: int = 0,
        min_free_flash: int = 0,
    ) -> list[dict[str, Any]]:
        """Devices that offer some sensor types and at least so much free RAM and flash.

        Free memory is capacity minus what the application reserves. Sensor types follow
        the ontology's hierarchy (an IMU provides an accelerometer and a gyroscope).

        Args:
            sensors: Sensor type names (e.g. ``Accelerometer``; see ``SENSOR_TYPES``).
            min_free_ram: Bytes of RAM that must be free.
            min_free_flash: Bytes of flash that must be free.

        Returns:
            One ``{"device", "ram_free", "flash_free"}`` per device, in id order.

        Raises:
            InputError: If a sensor type is unknown.

        """
        needs = []
        for name in sensors:
            if name not in SENSOR_TYPES:
                raise InputError(f"unknown sensor type {name!r}; known: {', '.join(SENSOR_TYPES)}")
            needs.append(TR[name])
        query = load_query("tinyreg.matchmaker", "devices_with")
        query = query.replace("#NEED#", values_block("need", map(URIRef, needs)), 1)
        rows = self.registry.store.select_values(
            query,
            {
                "minFreeRam": Literal(int(min_free_ram), datatype=XSD.integer),
                "minFreeFlash": Literal(int(min_free_flash), datatype=XSD.integer),
            },
        )
        return [
            {
                "device": str(row["device"]),
                "ram_free": row.get("ramFree"),
                "flash_free": row.get("flashFree"),
            }
            for row in rows
        ]

    def pairs(
        self,
        *,
        all_verdicts: bool = False,
        task: str | None = None,
        min_metric: float | None = None,
        max_latency_ms: float | None = None,
    ) -> list[Match]:
        """Every model–device pair of the registry (fitting ones unless ``all_verdicts``).

        Pairs are ordered by verdict rank, then device id.
        """
        return list(
            self.iter_pairs(
                all_verdicts=all_verdicts,
                task=task,
                min_metric=min_metric,
                max_latency_ms=max_latency_ms,
            )
        )

    def iter_pairs(
        self,
        *,
        all_verdicts: bool = False,
        task: str | None = None,
        min_metric: float | None = None,
        max_latency_ms: float | None = None,
    ) -> Iterator[Match]:
        """Like :meth:`pairs`, yielding matches one at a time (for large fleets)."""
        filters = user_filters(
            only_fits=not all_verdicts,
            task=task,
            min_metric=min_metric,
            max_latency_ms=max_latency_ms,
        )
        verdicts = self._verdicts({}, filters, max_latency_ms)
        devices = self._profile_devices(sorted({v.profile for v in verdicts}))
        yield from self._expand(verdicts, devices)

    def explain(self, model: str, device: str) -> Match:
        """The verdict on one model and one device, constraint by constraint.

        Args:
            model: The model id, IRI or unambiguous name.
            device: The device id, short id, IRI or unambiguous title.

        Returns:
            The match; ``match.explain()`` renders it, ``match.to_dict()`` serialises it.

        Raises:
            NotFoundError: If the model or the device is unknown.

        """
        model_iri = self.registry.resolve("model", model)
        device_iri = self.registry.resolve("device", device)
        profile = self._device_profile(device_iri)["profile"]
        bindings: dict[str, Node] = {"model": URIRef(model_iri), "profile": profile}
        store = self.registry.store
        if store.dialect == "virtuoso":
            rows = store.select_values(virtuoso_bound(verdict_query(store.dialect), bindings))
        else:
            rows = store.select_values(verdict_query(store.dialect), bindings)
        if not rows:
            raise NotFoundError("model", model)
        details = self._details(bindings, URIRef(rows[0]["runtime"]), URIRef(rows[0]["release"]))
        verdicts = [_verdict(rows[0], None, details)]
        return Match(model_iri, device_iri, verdicts[0], 1)
