"""The matchmaker at fleet scale: query latency over a large synthetic fleet.

A synthetic fleet (``benchmarks/fleet.py``: N devices over a few hundred board types with a
Zipf-like skew, M models shaped like registered ones) is written as N-Quads and bulk
loaded into a fresh on-disk Oxigraph store, which is then opened as a ``Registry`` (so the
ontology and the runtime/core reference tables are loaded). Measured, each as p50/p95 over
``--repeat`` calls on random models/devices of the fleet, after one warm-up call:

0. building the fit index after the bulk load (``Registry.index_fits``);
1. ``Matchmaker.devices_for(model)`` three ways: the ranked answer (count and
   ``Matches.ranked(0, 100)``), the first 100 matches with constraint figures, every match
   built; the same full answer without the index (``use_index=False``); ``limit=100``;
2. ``Matchmaker.models_for(device)`` the same three ways and without the index, each in a
   worker process on a backup of the store (same
   engine and data) so that a call past ``--call-limit`` seconds (default 120) can be
   stopped and counted at the limit (a lower bound), also by the runtime of the device;
3. ``Matchmaker.explain(model, device)`` (p50);
4. where the time of ``devices_for`` and ``models_for`` goes: the verdict query alone
   (pyoxigraph, solutions iterated), the conversion of its rows to Python values (as the
   engine reads them), the Python verdicts (``Verdict`` objects), the profile-to-device
   expansion query, its conversion and the ``Match`` objects;
5. every fitting pair of ``--pairs-models`` models × ``--pairs-devices`` devices (a
   separate fresh store holding just those, the first ones of the same fleet):
   ``sum(1 for _ in Matchmaker(reg).iter_pairs())``, in seconds, in a worker process
   stopped past ``--pairs-limit`` seconds (default 900; then a lower bound);
6. the baseline (unless ``--no-rdflib``): the same query text (``verdicts.rq`` with the
   same bindings as ``initBindings``, then ``profile_devices.rq`` with the same ``VALUES``
   block) evaluated by rdflib's SPARQL engine over the same N-Quads plus the reference
   graphs in an ``rdflib.Dataset(default_union=True)``, in a worker process. A call that
   takes more than 120 s is stopped and reported as a lower bound. The verdicts
   (model, profile, fits) of both engines for one model are compared.

Progress goes to stderr, the figures to stdout; the last line of stdout is one JSON object
(see ``benchmarks/README.md``).

Run::

    python benchmarks/match.py [--devices N] [--models M] [--pairs-models 1000]
        [--pairs-devices 10000] [--repeat K] [--rdflib/--no-rdflib] [--call-limit S]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox
from rdflib import Literal, URIRef
from rdflib.term import Identifier, Node

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fleet import FleetInfo, device_iri, model_iri, write_fleet

from tinyreg.core.queries import load_query, with_values
from tinyreg.core.stores import OxigraphStore
from tinyreg.core.stores.base import inline_bindings, normalise_bindings
from tinyreg.matchmaker import Matches, Matchmaker
from tinyreg.matchmaker.engine import Match, Verdict, _verdict
from tinyreg.registry import Registry
from tinyreg.registry.reference import reference_texts

DEFAULT_DEVICES = 100_000
DEFAULT_MODELS = 10_000
DEFAULT_PAIRS_MODELS = 1_000
DEFAULT_PAIRS_DEVICES = 10_000
DEFAULT_REPEAT = 20
PAGE = 100  # matches of a ranked answer a caller reads first
DEFAULT_RDFLIB_REPEAT = 3
DEFAULT_BREAKDOWN_REPEAT = 10
SLOW_CALL_S = 10.0
SLOW_REPEAT = 3
BREAKDOWN_SKIP_S = 60.0
DEFAULT_CALL_LIMIT_S = 120.0
DEFAULT_PAIRS_LIMIT_S = 900.0
RDFLIB_CALL_TIMEOUT_S = 120.0
# the rdflib load took 122 s on a quiet machine and 335 s at load 10: past this the
# baseline is left out, so that the default run ends within 40 minutes
RDFLIB_LOAD_TIMEOUT_S = 600.0
TR = "https://w3id.org/tinyreg#"
T = TypeVar("T")
# workers are forked where possible: they then run the very code and query texts the
# parent measured with, even if the source files change during a long run
WORKER_START = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"


_STARTED = time.perf_counter()


def _log(message: str) -> None:
    """Progress on stderr, with the seconds since the start (how long each part takes)."""
    print(f"[{time.perf_counter() - _STARTED:7.1f} s] {message}", file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) of ``values``, linearly interpolated."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 2)


def _time_calls(fn: Callable[[T], Any], warmup: T, items: list[T]) -> tuple[list[float], list[Any]]:
    """Call ``fn`` once on ``warmup`` (not timed), then on each item; seconds and results.

    When the warm-up call takes more than ``SLOW_CALL_S``, only the first
    ``SLOW_REPEAT`` items are timed (the summary line gives the number of calls).
    """
    t0 = time.perf_counter()
    fn(warmup)
    if time.perf_counter() - t0 > SLOW_CALL_S:
        _log(
            f"   slow warm-up call ({time.perf_counter() - t0:.1f} s): timing "
            f"{min(SLOW_REPEAT, len(items))} calls only"
        )
        items = items[:SLOW_REPEAT]
    times, results = [], []
    for item in items:
        t0 = time.perf_counter()
        result = fn(item)
        times.append(time.perf_counter() - t0)
        results.append(result)
    return times, results


def _summary(name: str, times: list[float], extra: str = "") -> str:
    return (
        f"   {name:<34} p50 {_pct(times, 50) * 1000:9.1f} ms   "
        f"p95 {_pct(times, 95) * 1000:9.1f} ms   {len(times):>2} calls{extra}"
    )


def _index_progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 10) < 200:
        _log(f"   {done:,} of {total:,} models indexed")


def _count_fits(reg: Registry) -> int:
    rows = reg.store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?m <{TR}fitsProfile> ?p }}")
    return int(rows[0]["n"])  # type: ignore[call-overload]


def _model_fits(reg: Registry, model: str) -> set[str]:
    rows = reg.store.select_values(
        f"SELECT ?p WHERE {{ ?m <{TR}fitsProfile> ?p }}", {"m": URIRef(model)}
    )
    return {str(r["p"]) for r in rows}


def _count(reg: Registry, cls: str) -> int:
    rows = reg.store.select(f"SELECT (COUNT(?x) AS ?n) WHERE {{ ?x a <{TR}{cls}> }}")
    return int(rows[0]["n"])  # type: ignore[call-overload]


def _load(nq: Path, root: Path) -> tuple[Registry, float]:
    """Open a registry on a fresh on-disk store (reference graphs), then bulk load the fleet.

    In this order opening the registry does not derive the models' requirements again:
    the fleet's model graphs already hold them, as ``Registry.add_model`` writes them.
    """
    reg = Registry(OxigraphStore(root))
    t0 = time.perf_counter()
    reg.store.bulk_load(nq, rdf_format="nq")
    return reg, time.perf_counter() - t0


def _verdicts_query(only_fits: bool) -> str:
    """``verdicts.rq`` as the matchmaker sends it: user filters inlined as a ``VALUES`` block."""
    query = load_query("tinyreg.matchmaker", "verdicts")
    if only_fits:
        query = inline_bindings(query, normalise_bindings({"onlyFits": Literal(True)}))
    return query


def _expansion_query(profiles: list[str]) -> str:
    """``profile_devices.rq`` with the ``VALUES`` block the matchmaker adds."""
    query = load_query("tinyreg.matchmaker", "profile_devices")
    return with_values(query, "profile", map(URIRef, profiles))


# ------------------------------------------------------------------------------ breakdown


def _raw_query(reg: Registry, sparql: str, bindings: dict[str, Node] | None = None) -> int:
    """Run a query with pyoxigraph itself and touch every value; return the row count."""
    db: ox.Store = reg.store._db  # type: ignore[attr-defined]
    values = normalise_bindings(bindings)
    if values:
        subs = {ox.Variable(name): term for name, term in values.items()}
        try:
            result = db.query(sparql, use_default_graph_as_union=True, substitutions=subs)
        except RuntimeError:
            result = db.query(inline_bindings(sparql, values), use_default_graph_as_union=True)
    else:
        result = db.query(sparql, use_default_graph_as_union=True)
    rows = 0
    assert isinstance(result, ox.QuerySolutions)
    width = len(result.variables)
    for solution in result:
        for index in range(width):
            solution[index]
        rows += 1
    return rows


def _parts(
    reg: Registry, mm: Matchmaker, *, model: str | None = None, device: str | None = None
) -> dict[str, float]:
    """Time each part of ``devices_for(model)`` or ``models_for(device)`` (seconds)."""
    verdicts_q = _verdicts_query(only_fits=True)
    parts: dict[str, float] = {}
    t0 = time.perf_counter()
    if device is not None:
        bindings = dict(mm._device_profile(device))
        parts["device_profile_query"] = time.perf_counter() - t0
    else:
        assert model is not None
        bindings = {"model": URIRef(model)}
    # rows as the engine reads them: plain values where the store offers them
    select = getattr(reg.store, "select_values", reg.store.select)
    t0 = time.perf_counter()
    _raw_query(reg, verdicts_q, bindings)
    t1 = time.perf_counter()
    rows = select(verdicts_q, bindings)
    t2 = time.perf_counter()
    verdicts: list[Verdict] = [_verdict(row, None) for row in rows]
    t3 = time.perf_counter()
    parts["verdict_query"] = t1 - t0
    parts["verdict_convert"] = max(0.0, (t2 - t1) - (t1 - t0))
    parts["verdict_python"] = t3 - t2
    parts["verdict_rows"] = len(rows)
    if device is not None:
        return parts
    profiles = sorted({v.profile for v in verdicts})
    expansion = _expansion_query(profiles)
    t0 = time.perf_counter()
    rows_expanded = _raw_query(reg, expansion) if profiles else 0
    t1 = time.perf_counter()
    devices = mm._profile_devices(profiles)
    t2 = time.perf_counter()
    matches = list(mm._expand(verdicts, devices))
    t3 = time.perf_counter()
    parts["expansion_query"] = t1 - t0
    parts["expansion_convert"] = max(0.0, (t2 - t1) - (t1 - t0))
    parts["expand_python"] = t3 - t2
    parts["expansion_rows"] = rows_expanded
    parts["matches"] = len(matches)
    return parts


def _median_parts(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}


def _print_parts(title: str, parts: dict[str, float]) -> None:
    print(f"   {title} (medians):")
    for key, value in parts.items():
        if key in ("verdict_rows", "expansion_rows", "matches"):
            print(f"     {key:<24} {value:>12,.0f}")
        else:
            print(f"     {key:<24} {value * 1000:>9.1f} ms")


# ------------------------------------------------------------------------------ models_for


def ranked_answer(matches: Sequence[Match], size: int = PAGE) -> int:
    """A ranked answer as a caller first reads it; returns the answer's size.

    That is its count and its first page's rank, model, device and estimated latency.
    """
    # the verdict query's answer (no index) is a list: already every match
    page = matches.ranked(0, size) if isinstance(matches, Matches) else matches[:size]
    assert len(page) == min(size, len(matches))
    return len(matches)


def full_page(matches: Sequence[Match], size: int = PAGE) -> int:
    """Count and first page of matches with every constraint figure; the answer's size."""
    page = matches[:size]
    assert all(m.verdict.constraints for m in page)
    return len(matches)


def _matchmaker_worker(conn: Connection, store_dir: str, job: str, items: list[str]) -> None:
    """Open a copy of the store; time ``models_for`` on each device, or ``iter_pairs``.

    Jobs: ``models_for`` (count and ranking of the first page), ``models_for_page``
    (count and first page with constraint figures), ``models_for_all`` (every match
    built), ``models_for_scan`` (the verdict query over every model, no index), ``pairs``.
    """
    reg = Registry(OxigraphStore(store_dir))
    mm = Matchmaker(reg, use_index=job != "models_for_scan")
    try:
        if job == "pairs":
            t0 = time.perf_counter()
            count = sum(1 for _ in mm.iter_pairs())
            conn.send((time.perf_counter() - t0, count))
        for device in items:
            t0 = time.perf_counter()
            if job == "models_for":
                found = ranked_answer(mm.models_for(device))
            elif job == "models_for_page":
                found = full_page(mm.models_for(device))
            else:
                found = len(list(mm.models_for(device)))
            conn.send((time.perf_counter() - t0, found))
    finally:
        reg.close()
        conn.close()


class MatchmakerWorker:
    """A worker process running the matchmaker on a backup of a store (same engine, data).

    A call cannot be interrupted in-process; in a worker it can be stopped past a time
    limit and reported as a lower bound.
    """

    def __init__(self, store_dir: Path, job: str, items: list[str]) -> None:
        ctx: Any = multiprocessing.get_context(WORKER_START)
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_matchmaker_worker, args=(child, str(store_dir), job, items), daemon=True
        )
        self._proc.start()
        child.close()

    def next(self, limit_s: float) -> tuple[float, int] | None:
        """Seconds and count of the next call, or ``None`` (worker stopped) past the limit."""
        if not self._conn.poll(limit_s):
            self.stop()
            return None
        seconds, count = self._conn.recv()
        return seconds, count

    def stop(self) -> None:
        """End the worker (it is ours)."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()


def _time_models_for(
    copy_dir: Path, warmup: str, devices: list[str], limit_s: float, job: str = "models_for"
) -> tuple[list[float], list[int | None]]:
    """Time ``models_for`` on each device in a worker, first call on ``warmup`` untimed.

    When the warm-up takes more than ``SLOW_CALL_S`` only ``SLOW_REPEAT`` calls are timed.
    A call past ``limit_s`` is recorded as ``limit_s`` (count ``None``: a lower bound) and
    a new worker (with a new warm-up) takes the remaining devices.

    Returns:
        Seconds per timed call and models found (``None`` for a stopped call).

    """
    times: list[float] = []
    found: list[int | None] = []
    todo = list(devices)
    first = True
    while todo:
        worker = MatchmakerWorker(copy_dir, job, [warmup, *todo])
        try:
            warm = worker.next(limit_s)
            if warm is None:
                _log(f"   the warm-up call took more than {limit_s:.0f} s")
                return [limit_s], [None]
            if first and warm[0] > SLOW_CALL_S:
                todo = todo[:SLOW_REPEAT]
                _log(f"   slow warm-up call ({warm[0]:.1f} s): timing {len(todo)} calls only")
            first = False
            while todo:
                result = worker.next(limit_s)
                todo.pop(0)
                if result is None:
                    _log(f"   a call took more than {limit_s:.0f} s: stopped")
                    times.append(limit_s)
                    found.append(None)
                    break
                times.append(result[0])
                found.append(result[1])
        finally:
            worker.stop()
    return times, found


# ------------------------------------------------------------------------------ rdflib


def _rdflib_worker(conn: Connection, nq_path: str) -> None:
    """Load the data into an rdflib Dataset, then answer ``devices_for`` requests."""
    from rdflib import Dataset
    from rdflib.query import ResultRow

    t0 = time.perf_counter()
    ds = Dataset(default_union=True)
    for name, text in reference_texts().items():
        ds.graph(URIRef(name)).parse(data=text, format="turtle")
    ds.parse(nq_path, format="nquads")
    conn.send(("loaded", time.perf_counter() - t0, len(ds)))
    while True:
        request = conn.recv()
        if request is None:
            break
        model, only_fits = request
        bindings: dict[str, Identifier] = {"model": URIRef(model)}
        t0 = time.perf_counter()
        rows = list(ds.query(_verdicts_query(only_fits), initBindings=bindings))
        t1 = time.perf_counter()
        verdicts = [
            (str(row["model"]), str(row["profile"]), row["fits"] == Literal(True))
            for row in rows
            if isinstance(row, ResultRow)
        ]
        fitting = sorted({p for _, p, fits in verdicts if fits})
        devices = len(list(ds.query(_expansion_query(fitting)))) if fitting else 0
        t2 = time.perf_counter()
        conn.send(("result", t1 - t0, t2 - t1, verdicts, devices))
    conn.close()


class RdflibBaseline:
    """The rdflib worker process, with a time limit on each request."""

    def __init__(self, nq: Path) -> None:
        ctx: Any = multiprocessing.get_context(WORKER_START)
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_rdflib_worker, args=(child, str(nq)), daemon=True)
        self._proc.start()
        child.close()
        if not self._conn.poll(RDFLIB_LOAD_TIMEOUT_S):
            self.stop()
            raise TimeoutError("rdflib did not load the data in time")
        _, self.load_s, self.triples = self._conn.recv()

    def devices_for(
        self, model: str, only_fits: bool = True
    ) -> tuple[float, float, list[tuple[str, str, bool]], int] | None:
        """Verdict seconds, expansion seconds, verdicts, devices; ``None`` past the limit."""
        self._conn.send((model, only_fits))
        if not self._conn.poll(RDFLIB_CALL_TIMEOUT_S):
            self.stop()
            return None
        _, verdict_s, expand_s, verdicts, devices = self._conn.recv()
        return verdict_s, expand_s, verdicts, devices

    def stop(self) -> None:
        """End the worker (it is ours; terminated if it is still busy)."""
        if self._proc.is_alive():
            with contextlib.suppress(BrokenPipeError, OSError):
                self._conn.send(None)
            self._proc.join(2)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join()


def _verdict_set(reg: Registry, model: str) -> set[tuple[str, str, bool]]:
    rows = reg.store.select(load_query("tinyreg.matchmaker", "verdicts"), {"model": URIRef(model)})
    return {(str(r["model"]), str(r["profile"]), r["fits"] == Literal(True)) for r in rows}


# ------------------------------------------------------------------------------ main


def _fleet_shape(info: FleetInfo) -> dict[str, int]:
    shares: dict[str, int] = {}
    for profile in info.device_profiles:
        kind = info.board_types[profile].runtime_kind
        shares[kind] = shares.get(kind, 0) + 1
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--devices",
        type=int,
        default=DEFAULT_DEVICES,
        help=f"devices in the fleet (default {DEFAULT_DEVICES})",
    )
    parser.add_argument(
        "--models",
        type=int,
        default=DEFAULT_MODELS,
        help=f"models in the catalogue (default {DEFAULT_MODELS})",
    )
    parser.add_argument(
        "--pairs-models",
        type=int,
        default=DEFAULT_PAIRS_MODELS,
        help=f"models of the all-pairs run (default {DEFAULT_PAIRS_MODELS})",
    )
    parser.add_argument(
        "--pairs-devices",
        type=int,
        default=DEFAULT_PAIRS_DEVICES,
        help=f"devices of the all-pairs run (default {DEFAULT_PAIRS_DEVICES})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help=f"timed calls per measurement (default {DEFAULT_REPEAT})",
    )
    parser.add_argument(
        "--rdflib-repeat",
        type=int,
        default=DEFAULT_RDFLIB_REPEAT,
        help=f"timed rdflib calls (default {DEFAULT_RDFLIB_REPEAT})",
    )
    parser.add_argument(
        "--rdflib",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="run the rdflib baseline (default: yes)",
    )
    parser.add_argument(
        "--call-limit",
        type=float,
        default=DEFAULT_CALL_LIMIT_S,
        help="seconds after which a models_for call is stopped and reported "
        f"as a lower bound (default {DEFAULT_CALL_LIMIT_S:.0f})",
    )
    parser.add_argument(
        "--pairs-limit",
        type=float,
        default=DEFAULT_PAIRS_LIMIT_S,
        help="seconds after which the all-pairs run is stopped and reported "
        f"as a lower bound (default {DEFAULT_PAIRS_LIMIT_S:.0f})",
    )
    parser.add_argument(
        "--board-types",
        type=int,
        default=300,
        help="board types (device profiles) of the fleet (default 300)",
    )
    parser.add_argument(
        "--index-sample",
        type=int,
        default=100,
        help="models indexed again by the verdict query, the build's baseline (default 100)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)  # figures appear as they are measured
    n_devices: int = args.devices
    n_models: int = args.models
    repeat: int = max(1, args.repeat)
    pairs_models = min(args.pairs_models, n_models)
    pairs_devices = min(args.pairs_devices, n_devices)
    pick = random.Random(args.seed)
    figures: dict[str, Any] = {"load_avg_1min_start": round(os.getloadavg()[0], 2)}

    with tempfile.TemporaryDirectory(prefix="tinyreg-bench-match-") as tmp:
        tmpdir = Path(tmp)

        # fleet ----------------------------------------------------------------------
        _log(f"== generating {n_devices} devices and {n_models} models")
        nq = tmpdir / "fleet.nq"
        t0 = time.perf_counter()
        info = write_fleet(
            nq, n_devices, n_models, seed=args.seed, board_type_count=args.board_types
        )
        gen_s = time.perf_counter() - t0
        _log(f"   {info.quads:,} quads ({nq.stat().st_size / 1e6:.0f} MB) in {gen_s:.1f} s")
        reg, load_s = _load(nq, tmpdir / "fleet")
        _log(f"   bulk_load in {load_s:.1f} s")
        assert _count(reg, "Device") == n_devices, "not every device was loaded"
        assert _count(reg, "Model") == n_models, "not every model was loaded"
        assert _count(reg, "DeviceProfile") == info.profiles, "not every profile was loaded"
        _log(f"== fit index: {n_models:,} models x {info.profiles} profiles")
        t0 = time.perf_counter()
        reg.index_fits(progress=_index_progress)
        index_s = time.perf_counter() - t0
        fits = _count_fits(reg)
        _log(f"   {fits:,} fitting (model, profile) pairs in {index_s:.1f} s")
        # baseline in the same run: the verdict query for each model of a sample (the
        # build's previous method, two threads); the pairs must be the bulk build's
        sample = sorted(
            model_iri(i)
            for i in random.Random(args.seed + 1).sample(
                range(n_models), min(args.index_sample, n_models)
            )
        )
        built = {m: _model_fits(reg, m) for m in sample}
        _log(f"== fit index by the verdict query, {len(sample)} models (baseline)")
        t0 = time.perf_counter()
        reg.fits._index_by_query(sample, 2, None)
        by_query_s = time.perf_counter() - t0
        same = built == {m: _model_fits(reg, m) for m in sample}
        assert same, "the bulk build and the verdict query disagree on the sample"
        by_query_ms = 1000 * by_query_s / max(1, len(sample))
        shares = _fleet_shape(info)
        print("== fleet")
        print(
            f"   devices {n_devices:,}, models {n_models:,}, distinct profiles "
            f"{info.profiles}, quads {info.quads:,}"
        )
        print(
            "   devices by runtime: "
            + ", ".join(
                f"{kind} {count:,} ({100 * count / n_devices:.1f} %)"
                for kind, count in sorted(shares.items())
            )
        )
        print(f"   generated in {gen_s:.1f} s, bulk loaded in {load_s:.1f} s")
        print(
            f"   fit index: {fits:,} fitting (model, profile) pairs of "
            f"{n_models * info.profiles:,}, built in {index_s:.1f} s "
            f"({1000 * index_s / max(1, n_models):.1f} ms a model)"
        )
        print(
            f"   baseline: the verdict query a model, {len(sample)} models: "
            f"{by_query_ms:.1f} ms a model, {by_query_ms * n_models / 1000:.0f} s for "
            f"{n_models:,} (extrapolated); same pairs as the build: {same}"
        )
        figures.update(
            {
                "devices": n_devices,
                "models": n_models,
                "profiles": info.profiles,
                "quads": info.quads,
                "no_table_devices": shares.get("no-table", 0),
                "firmware_build_devices": shares.get("build", 0),
                "generate_s": round(gen_s, 2),
                "bulk_load_s": round(load_s, 2),
                "index_build_s": round(index_s, 1),
                "index_fitting_pairs": fits,
                "index_by_query_ms_per_model": round(by_query_ms, 1),
                "index_by_query_est_s": round(by_query_ms * n_models / 1000, 1),
                "index_sample_models": len(sample),
                "load_avg_1min_at_index": round(os.getloadavg()[0], 2),
                "repeat": repeat,
            }
        )

        mm = Matchmaker(reg)
        models = [model_iri(i) for i in pick.sample(range(n_models), min(repeat + 1, n_models))]
        devices = [device_iri(i) for i in pick.sample(range(n_devices), repeat + 1)]
        warm_model, sample_models = models[0], (models[1:] or models)
        warm_device, sample_devices = devices[0], devices[1:]
        print("== matchmaker (Oxigraph)")

        # 1. devices_for -----------------------------------------------------------------
        _log(f"== devices_for x {len(sample_models)}")
        df_times, df_results = _time_calls(
            lambda m: ranked_answer(mm.devices_for(m)), warm_model, sample_models
        )
        matches = list(df_results)
        fitting_fraction = statistics.mean(matches) / n_devices
        print(
            _summary(
                f"devices_for(model), count + ranking of {PAGE}",
                df_times,
                f"   ({statistics.mean(matches):,.0f} devices on average)",
            )
        )
        _log(f"== devices_for, first page with constraint figures x {len(sample_models)}")
        page_times, _ = _time_calls(
            lambda m: full_page(mm.devices_for(m)), warm_model, sample_models
        )
        print(_summary(f"devices_for(model), count + {PAGE} explained", page_times))
        _log(f"== devices_for, every match x {len(sample_models)}")
        all_times, _ = _time_calls(
            lambda m: len(list(mm.devices_for(m))), warm_model, sample_models
        )
        print(_summary("devices_for(model), every match", all_times))
        scan = Matchmaker(reg, use_index=False)
        _log(f"== devices_for without the index x {len(sample_models)}")
        scan_times, _ = _time_calls(lambda m: len(scan.devices_for(m)), warm_model, sample_models)
        print(_summary("  verdict query, every match", scan_times))
        _log(f"== devices_for(limit=100) x {len(sample_models)}")
        lim_times, _ = _time_calls(
            lambda m: mm.devices_for(m, limit=100), warm_model, sample_models
        )
        print(_summary("devices_for(model, limit=100)", lim_times))

        # 2. models_for ------------------------------------------------------------------
        _log(f"== models_for x {len(sample_devices)}")
        copy_dir = tmpdir / "fleet-copy"
        reg.store._db.backup(str(copy_dir))  # type: ignore[attr-defined]
        mf_times, mf_found = _time_models_for(
            copy_dir, warm_device, sample_devices, args.call_limit
        )
        mf_page_times, _ = _time_models_for(
            copy_dir, warm_device, sample_devices, args.call_limit, "models_for_page"
        )
        mf_all_times, _ = _time_models_for(
            copy_dir, warm_device, sample_devices, args.call_limit, "models_for_all"
        )
        mf_scan_times, _ = _time_models_for(
            copy_dir, warm_device, sample_devices, args.call_limit, "models_for_scan"
        )
        shutil.rmtree(copy_dir)
        mf_stopped = None in mf_found
        counted = [n for n in mf_found if n is not None]
        print(
            _summary(
                f"models_for(device), count + ranking of {PAGE}",
                mf_times,
                f"   ({statistics.mean(counted) if counted else 0:,.0f} models on "
                "average)"
                + (
                    f"; calls over {args.call_limit:.0f} s stopped, counted "
                    "at the limit: LOWER BOUND"
                    if mf_stopped
                    else ""
                ),
            )
        )
        print(_summary(f"models_for(device), count + {PAGE} explained", mf_page_times))
        print(_summary("models_for(device), every match", mf_all_times))
        print(_summary("  verdict query, every match", mf_scan_times))
        by_kind: dict[str, list[float]] = {}
        for device, seconds in zip(sample_devices, mf_times, strict=False):
            board = info.board_types[info.device_profiles[int(device.rsplit("-", 1)[1])]]
            by_kind.setdefault(board.runtime_kind, []).append(seconds)
        for kind, kind_times in sorted(by_kind.items()):
            print(_summary(f"  on {kind} devices", kind_times))
        figures["models_for_p50_ms_by_runtime"] = {
            kind: _ms(_pct(kind_times, 50)) for kind, kind_times in sorted(by_kind.items())
        }

        # 3. explain ---------------------------------------------------------------------
        _log(f"== explain x {len(sample_models)}")
        pairs = list(zip(sample_models, sample_devices, strict=False))
        ex_times, _ = _time_calls(lambda p: mm.explain(*p), (warm_model, warm_device), pairs)
        print(_summary("explain(model, device)", ex_times))
        print(f"   fitting fraction (sampled models): {100 * fitting_fraction:.1f} % of devices")
        figures.update(
            {
                "devices_for_p50_ms": _ms(_pct(df_times, 50)),
                "devices_for_p95_ms": _ms(_pct(df_times, 95)),
                "devices_for_mean_matches": round(statistics.mean(matches)),
                "devices_for_page_p50_ms": _ms(_pct(page_times, 50)),
                "devices_for_page_p95_ms": _ms(_pct(page_times, 95)),
                "devices_for_all_p50_ms": _ms(_pct(all_times, 50)),
                "devices_for_all_p95_ms": _ms(_pct(all_times, 95)),
                "devices_for_scan_p50_ms": _ms(_pct(scan_times, 50)),
                "index_speedup_devices_for": round(_pct(scan_times, 50) / _pct(df_times, 50), 1),
                "devices_for_limit100_p50_ms": _ms(_pct(lim_times, 50)),
                "devices_for_limit100_p95_ms": _ms(_pct(lim_times, 95)),
                "models_for_p50_ms": _ms(_pct(mf_times, 50)),
                "models_for_p95_ms": _ms(_pct(mf_times, 95)),
                "models_for_page_p50_ms": _ms(_pct(mf_page_times, 50)),
                "models_for_page_p95_ms": _ms(_pct(mf_page_times, 95)),
                "models_for_all_p50_ms": _ms(_pct(mf_all_times, 50)),
                "models_for_all_p95_ms": _ms(_pct(mf_all_times, 95)),
                "models_for_scan_p50_ms": _ms(_pct(mf_scan_times, 50)),
                "index_speedup_models_for": round(_pct(mf_scan_times, 50) / _pct(mf_times, 50), 1),
                "devices_for_calls": len(df_times),
                "models_for_calls": len(mf_times),
                "models_for_lower_bound": mf_stopped,
                "explain_p50_ms": _ms(_pct(ex_times, 50)),
                "fitting_fraction": round(fitting_fraction, 4),
            }
        )

        # 4. where the time goes ---------------------------------------------------------
        # (as many samples as timed calls, at most 10; one when a call is slow)
        n_df = min(DEFAULT_BREAKDOWN_REPEAT, len(df_times))
        n_mf = min(DEFAULT_BREAKDOWN_REPEAT, len(mf_times))
        if _pct(mf_times, 50) > SLOW_CALL_S:
            n_mf = 1
        # only devices whose call was not slow (a slow call would take as long again)
        fast_devices = [
            d for d, t in zip(sample_devices, mf_times, strict=False) if t <= BREAKDOWN_SKIP_S
        ]
        _log(f"== breakdown x {n_df} (devices_for), x {n_mf} (models_for)")
        df_parts = _median_parts([_parts(reg, mm, model=m) for m in sample_models[:n_df]])
        mf_samples = [_parts(reg, mm, device=d) for d in fast_devices[:n_mf]]
        mf_parts = _median_parts(mf_samples) if mf_samples else {}
        _print_parts("devices_for, by part", df_parts)
        if mf_parts:
            _print_parts("models_for, by part", mf_parts)
        for prefix, parts in (("devices_for", df_parts), ("models_for", mf_parts)):
            for key, value in parts.items():
                if key.endswith(("rows", "matches")):
                    figures[f"{prefix}_{key}"] = round(value)
                else:
                    figures[f"{prefix}_{key}_ms"] = _ms(value)

        # verdicts of one model, for the comparison with rdflib
        check_model = sample_models[0]
        oxigraph_verdicts = _verdict_set(reg, check_model)
        reg.close()

        # 5. all pairs -------------------------------------------------------------------
        _log(f"== all pairs: {pairs_models} models x {pairs_devices} devices")
        pairs_nq = tmpdir / "pairs.nq"
        pairs_info = write_fleet(
            pairs_nq, pairs_devices, pairs_models, seed=args.seed, board_type_count=args.board_types
        )
        preg, _ = _load(pairs_nq, tmpdir / "pairs")
        pairs_nq.unlink()
        t0 = time.perf_counter()
        preg.index_fits()
        pairs_index_s = time.perf_counter() - t0
        preg.close()
        worker = MatchmakerWorker(tmpdir / "pairs", "pairs", [])
        try:
            pairs_result = worker.next(args.pairs_limit)
        finally:
            worker.stop()
        pairs_stopped = pairs_result is None
        pairs_s, fitting_pairs = pairs_result or (args.pairs_limit, None)
        total_pairs = pairs_models * pairs_devices
        print(
            f"== all pairs: {pairs_models:,} models x {pairs_devices:,} devices "
            f"({pairs_info.profiles} profiles)"
        )
        if fitting_pairs is None:
            print(f"   iter_pairs: stopped after {pairs_s:.0f} s: LOWER BOUND")
        else:
            print(
                f"   iter_pairs: {fitting_pairs:,} fitting pairs of {total_pairs:,} "
                f"({100 * fitting_pairs / total_pairs:.1f} %) in {pairs_s:.2f} s"
            )
        figures.update(
            {
                "all_pairs_s": round(pairs_s, 3),
                "all_pairs_index_build_s": round(pairs_index_s, 1),
                "all_pairs_models": pairs_models,
                "all_pairs_devices": pairs_devices,
                "all_pairs_profiles": pairs_info.profiles,
                "all_pairs_fitting": fitting_pairs,
                "all_pairs_lower_bound": pairs_stopped,
            }
        )

        # 6. rdflib baseline -------------------------------------------------------------
        figures.update(
            {
                "rdflib_devices_for_p50_ms": None,
                "speedup_vs_rdflib": None,
                "rdflib_agrees": None,
                "rdflib_lower_bound": False,
            }
        )
        baseline: RdflibBaseline | None = None
        if args.rdflib:
            _log(f"== rdflib: loading {info.quads:,} quads into an rdflib Dataset")
            try:
                baseline = RdflibBaseline(nq)
            except TimeoutError:
                print(
                    f"== baseline: rdflib did not load the data in {RDFLIB_LOAD_TIMEOUT_S:.0f} s: "
                    "left out (rdflib_load_s is a LOWER BOUND)"
                )
                figures["rdflib_load_s"] = RDFLIB_LOAD_TIMEOUT_S
                figures["rdflib_lower_bound"] = True
        if baseline is not None:
            try:
                print(
                    f"== baseline: rdflib {__import__('rdflib').__version__} SPARQL, same "
                    f"query text and data ({baseline.triples:,} triples, loaded in "
                    f"{baseline.load_s:.0f} s)"
                )
                figures["rdflib_load_s"] = round(baseline.load_s, 1)
                _log("== rdflib: all verdicts of one model (also the warm-up)")
                first = baseline.devices_for(check_model, only_fits=False)
                rd_times: list[float] = []
                lower_bound = first is None
                if first is not None:
                    agrees = set(first[2]) == oxigraph_verdicts
                    print(
                        f"   verdicts of {check_model.rsplit('/', 1)[1]} "
                        f"({len(oxigraph_verdicts)} profiles): rdflib and Oxigraph "
                        f"{'agree' if agrees else 'DISAGREE'}"
                    )
                    if not agrees:
                        only_rd = set(first[2]) - oxigraph_verdicts
                        only_ox = oxigraph_verdicts - set(first[2])
                        print(f"   only rdflib: {sorted(only_rd)[:5]} ... ({len(only_rd)})")
                        print(f"   only Oxigraph: {sorted(only_ox)[:5]} ... ({len(only_ox)})")
                    figures["rdflib_agrees"] = agrees
                    for m in sample_models[: args.rdflib_repeat]:
                        _log(f"== rdflib: devices_for {m}")
                        result = baseline.devices_for(m)
                        if result is None:
                            lower_bound = True
                            break
                        rd_times.append(result[0] + result[1])
                        if result[3] != df_results[sample_models.index(m)]:
                            print(
                                f"   note: rdflib finds {result[3]} devices for {m}, "
                                f"Oxigraph {df_results[sample_models.index(m)]}"
                            )
                if lower_bound:
                    rd_times.append(RDFLIB_CALL_TIMEOUT_S)
                    print(
                        f"   a call took more than {RDFLIB_CALL_TIMEOUT_S:.0f} s and was "
                        "stopped: the rdflib figure is a LOWER BOUND"
                    )
                rd_p50 = _pct(rd_times, 50)
                # against every match built (the same answer as rdflib's), not a page
                speedup = rd_p50 / _pct(all_times, 50)
                print(_summary("rdflib devices_for(model)", rd_times))
                print(
                    f"   speed-up (rdflib / devices_for every match): "
                    f"{'at least ' if lower_bound else ''}{speedup:,.0f}x; against the "
                    f"ranked page: {rd_p50 / _pct(df_times, 50):,.0f}x"
                )
                figures.update(
                    {
                        "rdflib_devices_for_p50_ms": _ms(rd_p50),
                        "rdflib_calls": len(rd_times),
                        "rdflib_lower_bound": lower_bound,
                        "speedup_vs_rdflib": round(speedup, 1),
                        "speedup_vs_rdflib_page": round(rd_p50 / _pct(df_times, 50), 1),
                    }
                )
            finally:
                baseline.stop()

    figures["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    figures["total_s"] = round(time.perf_counter() - _STARTED, 1)  # as the progress lines
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
