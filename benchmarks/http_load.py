"""The REST directory under load: requests/s and p50/p99 latency over HTTP, 10,000 TDs.

A synthetic fleet (``benchmarks/fleet.py``: devices over a few hundred board types, models
shaped like registered ones) is bulk loaded into a fresh on-disk store, each device with a
W3C WoT TD 1.1 document built from its board type (``tr:tdDocument``) and registration
information, as ``PUT /things/{id}`` stores them. Then, per endpoint:

1. **Baseline, in process**: the same call through the Python API on the same store, one
   at a time (``Directory.get``, ``Directory.page``, ``Matchmaker.devices_for``,
   ``Registry.query``), p50/p99;
2. **HTTP**: ``tinyreg serve --workers W`` (default 2, the reference machine's cores) on
   127.0.0.1, once ``/readyz`` says its TD cache is warm, loaded by ``wrk`` (a C load
   generator, one thread, ``--concurrency`` connections, a request at a time each) for
   ``--duration`` seconds after a warm-up of the same length (none for SPARQL, whose
   answers are not cached): requests/s, p50/p99 as wrk measures them, and the error
   count (answers other than 2xx). The store's fit index is built after the bulk load,
   as ``tinyreg reindex`` does after one.
3. **Bare baselines**: a constant pre-serialised TD for every ``/things/{id}``
   (``benchmarks/_bare_app.py``) under uvicorn with the same workers, HTTP parser and
   event loop, loaded the same way: bare Starlette, the same bytes through its router
   (``bare_rps``, the issue's baseline; ``thing_vs_bare_ratio`` is
   ``thing_rps / bare_rps``), and a plain ASGI callable that sends the bytes
   (``bare_asgi_rps``: the ceiling of the HTTP stack and of wrk on this machine, which
   shows that the load generator is not the bottleneck; ``thing_vs_bare_asgi_ratio`` is
   ``thing_rps / bare_asgi_rps``). wrk runs one thread: on 2 cores, more threads only take
   CPU from the server (each wrk thread runs its own event loop); neither wrk nor the
   servers are pinned to a core, the same for every run. ``GET /things/{id}`` and both
   baselines run interleaved, ``--rounds`` rounds (default 3) of ``--duration`` seconds
   each, all three servers up (the idle ones take no CPU), so that every round of each
   sees the machine as the others of that round do; their figures are the rounds'
   medians (every round's requests/s and p99 are kept in ``*_rounds_rps_p99_ms``).
4. **First report**: a second store holding ``kg_data`` and the seed catalogue (imported
   with ``tinyreg import --builtin SEED``). ``tinyreg serve`` is started on it twice. The
   first start has no report kept (``first_report_cold_s``); the second start finds the
   report the first one kept beside the store (``first_report_s``). Each figure is the time
   from the moment the server accepts connections to the first ``200`` of
   ``GET /reports/latest`` holding the full report (``*_from_spawn_s``: from starting the
   process, its imports included).

Endpoints: ``GET /things/{id}`` (random ids), ``GET /things?limit=100&offset=k`` (random
page of 100), ``GET /match/devices?model=m&limit=100`` (random models, the first 100 ranked
devices), ``GET /search/sparql`` (a SELECT of boards with enough free RAM, 100 rows).

Server and load generator share the machine's cores (2 on the reference machine), and so
do other processes running at the time: figures are those of the machine as it was, which
is why the bare baseline is measured in the same run.

Run::

    python benchmarks/http_load.py [--devices 10000] [--models 100] [--duration 10]
        [--concurrency 8] [--workers 2] [--baseline-calls 200] [--rounds 3] [--seed-dir DIR]

Progress goes to stderr, the figures to stdout; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

import httpx
from _processes import free_port, stop_process
from _servers import start_server
from fleet import FleetInfo, device_iri, model_iri, write_fleet

from _paths import SEED_DIR
from tinyreg.core.stores import OxigraphStore
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import Registry
from tinyreg.registry.directory import Directory

DISCOVERY = "https://www.w3.org/2021/wot/discovery#"
TR = "https://w3id.org/tinyreg#"
RDF_JSON = "http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON"
XSD = "http://www.w3.org/2001/XMLSchema#"
SPARQL = (
    "SELECT ?d ?title ?free WHERE { ?d a tr:Device ; td:title ?title ;"
    " tr:hasRAM [ tr:capacityBytes ?c ; tr:reservedBytes ?r ] ."
    " BIND(?c - ?r AS ?free) FILTER(?free >= 262144) } ORDER BY DESC(?free) ?d LIMIT 100"
)
TOKEN = "http-load-benchmark"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _literal(text: str, datatype: str) -> str:
    return json.dumps(text) + f"^^<{datatype}>"


def device_td(i: int, info: FleetInfo) -> dict[str, Any]:
    """The TD of fleet device ``i``, built from its board type as a user would write it."""
    kind = info.board_types[info.device_profiles[i]]
    f = kind.facts
    runtime: dict[str, Any] = {"name": f.runtime_name, "version": f.runtime_version}
    if f.operators:
        runtime["operators"] = list(f.operators)
    return {
        "@context": ["https://www.w3.org/2022/wot/td/v1.1", "https://w3id.org/tinyreg/td/v1"],
        "@type": ["Thing", "Device"],
        "id": device_iri(i),
        "title": f"{kind.title} #{i}",
        "manufacturer": kind.manufacturer,
        "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
        "security": "nosec_sc",
        "mcu": {
            "core": f.core,
            "coreFamily": f.core_family,
            "clockHz": f.clock_hz,
            "fpu": f.fpu,
            "dsp": f.dsp,
        },
        "ram": {"capacityBytes": f.ram_capacity, "reservedBytes": f.ram_reserved},
        "flash": {"capacityBytes": f.flash_capacity, "reservedBytes": f.flash_reserved},
        "sensors": [{"@type": str(t).rsplit("#", 1)[-1]} for t in f.sensor_types],
        "runtime": runtime,
        "properties": {
            "inference": {
                "type": "object",
                "readOnly": True,
                "observable": True,
                "forms": [
                    {
                        "href": f"mqtt://broker.local:1883/tinyreg/synthetic-{i}/inference",
                        "op": ["readproperty", "observeproperty"],
                        "contentType": "application/json",
                    }
                ],
            }
        },
    }


def write_directory_quads(path: Path, info: FleetInfo) -> None:
    """Each device's TD document and registration information, in the device's graph."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with path.open("w", encoding="utf-8") as out:
        for i in range(info.devices):
            iri = device_iri(i)
            g = f"<{iri}>"
            doc = json.dumps(device_td(i, info), sort_keys=True)
            reg = f"_:reg{i}"
            out.write(f"{g} <{TR}tdDocument> {_literal(doc, RDF_JSON)} {g} .\n")
            out.write(f"{g} <{DISCOVERY}hasRegistrationInformation> {reg} {g} .\n")
            out.write(
                f"{reg} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                f"<{DISCOVERY}RegistrationInformation> {g} .\n"
            )
            for term in ("dateCreated", "dateModified"):
                out.write(f"{reg} <{DISCOVERY}{term}> {_literal(stamp, XSD + 'dateTime')} {g} .\n")


def build_store(root: Path, devices: int, models: int) -> FleetInfo:
    """A fresh on-disk store: reference graphs, the fleet, and the TDs with registrations."""
    store_dir = root / "store"
    reg = Registry(OxigraphStore(store_dir))
    try:
        fleet_nq, tds_nq = root / "fleet.nq", root / "tds.nq"
        info = write_fleet(fleet_nq, devices=devices, models=models)
        write_directory_quads(tds_nq, info)
        t0 = time.perf_counter()
        reg.store.bulk_load(fleet_nq, rdf_format="nq")
        reg.store.bulk_load(tds_nq, rdf_format="nq")
        _log(f"   bulk load: {time.perf_counter() - t0:.1f} s")
        count = Directory(reg).registry.store.select_values(
            "SELECT (COUNT(?d) AS ?n) WHERE { ?d <https://w3id.org/tinyreg#tdDocument> ?doc }"
        )[0]["n"]
        if count != devices:
            raise SystemExit(f"expected {devices} TDs in the store, found {count}")
        # one TD passes the registry's own validation, as PUT /things would check it
        reg.describe_device(device_td(0, info))
        # a bulk load is followed by `tinyreg reindex` (README): matches use the fit index
        t0 = time.perf_counter()
        reg.reindex()
        _log(f"   fit index: {time.perf_counter() - t0:.1f} s")
    finally:
        reg.close()
    return info


def _time(fn: Callable[[], Any], calls: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def baseline(store_dir: Path, devices: int, models: int, calls: int) -> dict[str, list[float]]:
    """The four calls through the Python API, in process, one at a time."""
    rng = random.Random(7)
    with Registry(OxigraphStore(store_dir)) as reg:
        directory = Directory(reg)
        mm = Matchmaker(reg)
        return {
            "thing": _time(lambda: directory.get(device_iri(rng.randrange(devices))), calls),
            "page": _time(lambda: directory.page(100, rng.randrange(devices // 100) * 100), calls),
            "match": _time(
                lambda: mm.devices_for(model_iri(rng.randrange(models)), limit=100),
                max(10, calls // 10),
            ),
            "sparql": _time(lambda: reg.query(SPARQL), max(10, calls // 10)),
        }


# ------------------------------------------------------------------ the load generator

WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(paths)s") do paths[#paths + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local out = io.open("%(out)s", "w")
  out:write(string.format(
    '{"requests": %%d, "duration_us": %%d, "status_errors": %%d, "socket_errors": %%d,'
    .. ' "p50_us": %%d, "p99_us": %%d}',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
  out:close()
end
"""


def _paths(kind: str, devices: int, models: int) -> list[str]:
    """The request paths a load draws from at random."""
    if kind in ("thing", "bare"):
        return [f"/things/{device_iri(i)}" for i in range(devices)]
    if kind == "page":
        return [f"/things?limit=100&offset={k * 100}" for k in range(devices // 100)]
    if kind == "match":
        return [
            "/match/devices?" + urlencode({"model": model_iri(i), "limit": 100}, quote_via=quote)
            for i in range(models)
        ]
    return ["/search/sparql?" + urlencode({"query": SPARQL}, quote_via=quote)]


def wrk(
    base: str,
    paths: list[str],
    duration: float,
    concurrency: int,
    work: Path,
    *,
    warm_up: bool = True,
) -> dict:
    """Load ``base`` with wrk (warm-up, then the measured run); the figures as a dict."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "paths.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    out = work / "result.json"
    script = work / "load.lua"
    script.write_text(WRK_SCRIPT % {"paths": work / "paths.txt", "out": out}, encoding="utf-8")
    seconds = max(1, round(duration))
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "60s"]
    command += ["-s", str(script), base]
    if warm_up:
        subprocess.run(command, check=True, capture_output=True, timeout=seconds + 120)
    subprocess.run(command, check=True, capture_output=True, timeout=seconds + 120)
    result = json.loads(out.read_text(encoding="utf-8"))
    return {
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": result["status_errors"] + result["socket_errors"],
        "requests": result["requests"],
    }


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several wrk runs of one endpoint as one: medians of each figure, errors summed.

    The figures of every run are kept under ``rounds`` (requests/s and p99).
    """
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "rounds": [(round(r["rps"], 1), round(r["p99_ms"], 2)) for r in runs],
    }


def _wait_ready(base: str, timeout: float = 600) -> None:
    """Until ``/readyz`` says the server's TD cache is warm (on the process that answers)."""
    deadline = time.monotonic() + timeout
    warm = 0
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{base}/readyz", timeout=10)
            warm = warm + 1 if answer.status_code == 200 and answer.json()["cache_warm"] else 0
        except httpx.HTTPError:
            warm = 0
        if warm >= 8:  # several answers in a row: every process, most likely
            return
        time.sleep(0.25)
    raise SystemExit("the server's TD cache did not get warm")


def bare_server(
    td: bytes, workers: int, root: Path, app: str = "raw"
) -> tuple[subprocess.Popen[bytes], str]:
    """A baseline app of ``_bare_app`` (``raw`` or ``app``) under uvicorn, ``workers`` processes."""
    (root / "bare-td.json").write_bytes(td)
    port = free_port()
    env = {**os.environ, "TINYREG_BARE_TD": str(root / "bare-td.json")}
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent)]
    command += [f"_bare_app:{app}", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/things/x", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_process(process)
    raise SystemExit("the bare baseline server did not start")


# ------------------------------------------------------------------ the first report


def first_report(root: Path, seed: Path) -> dict[str, float]:
    """Seconds to the first full report after a start: without, then with, a kept report."""
    store = root / "report-store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYREG_")}
    cli = [sys.executable, "-m", "tinyreg.registry.cli", "--store", str(store)]
    t0 = time.perf_counter()
    subprocess.run(
        [*cli, "import", "--builtin", "-q", str(seed)],
        check=False,  # a seed file the registry refuses is reported, not fatal here
        env=env,
        capture_output=True,
        timeout=1800,
    )
    _log(f"   kg_data + seed imported in {time.perf_counter() - t0:.1f} s")
    figures: dict[str, float] = {}
    for label in ("first_report_cold", "first_report"):
        spawned = time.perf_counter()
        server = start_server(store, root / f"{label}.log", token=TOKEN, timeout=300)
        accepting = time.perf_counter()  # start_server returns once the server answers
        try:
            while True:
                answer = httpx.get(
                    f"{server.base_url}/reports/latest",
                    headers={"Accept": "application/json"},
                    timeout=600,
                )
                if answer.status_code == 200 and answer.json().get("figures"):
                    break
                time.sleep(0.05)
            done = time.perf_counter()
        finally:
            server.stop()
        figures[f"{label}_s"] = round(done - accepting, 3)
        figures[f"{label}_from_spawn_s"] = round(done - spawned, 3)
        _log(f"   {label}: {done - accepting:.2f} s ({done - spawned:.2f} s from spawn)")
    return figures


# ------------------------------------------------------------------ the run


LABELS = {
    "thing": "GET /things/{id}",
    "page": "GET /things?limit=100",
    "match": "GET /match/devices?limit=100",
    "sparql": "GET /search/sparql",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="tinyreg serve --workers")
    parser.add_argument("--baseline-calls", type=int, default=200)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="interleaved rounds of GET /things/{id} and its baselines (medians reported)",
    )
    parser.add_argument("--seed-dir", type=Path, default=SEED_DIR)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (bash scripts/setup.sh test installs it)")
    command = "python benchmarks/http_load.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
    )
    load_start = round(os.getloadavg()[0], 2)  # a shared machine: how far off figures may be
    root = Path(tempfile.mkdtemp(prefix="tinyreg-http-load-"))
    try:
        _log(f"1. store with {args.devices} TDs and {args.models} models")
        info = build_store(root, args.devices, args.models)
        _log("2. baseline: the same calls through the Python API, in process")
        base_times = baseline(root / "store", args.devices, args.models, args.baseline_calls)
        _log(f"3. tinyreg serve --workers {args.workers}, loaded by wrk")
        server = start_server(
            root / "store",
            root / "server.log",
            token=TOKEN,
            args=("--workers", str(args.workers)),
            timeout=300,
        )
        http: dict[str, dict[str, Any]] = {}
        td = json.dumps(device_td(0, info)).encode()
        bares: list[subprocess.Popen[bytes]] = []
        try:
            _wait_ready(server.base_url)
            bases = {"thing": server.base_url}
            for kind, app in (("bare", "app"), ("bare_asgi", "raw")):
                process, bases[kind] = bare_server(td, args.workers, root, app)
                bares.append(process)
            # GET /things/{id} and its two baselines, interleaved round by round while
            # all three servers run (idle when not loaded): each round sees the machine
            # as the others of that round do; the figures are the rounds' medians
            _log(
                f"   GET /things/{{id}}, bare Starlette, bare ASGI: {args.rounds} rounds of "
                f"{args.duration:g} s each after a warm-up, {args.concurrency} in flight"
            )
            rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind in bases}
            for number in range(args.rounds):
                for kind, base in bases.items():
                    rounds[kind].append(
                        wrk(
                            base,
                            _paths("thing", args.devices, args.models),
                            args.duration,
                            args.concurrency,
                            root / kind,
                            warm_up=number == 0,
                        )
                    )
            for kind, runs in rounds.items():
                http[kind] = _median_run(runs)
            for kind in ("page", "match", "sparql"):
                _log(f"   {LABELS[kind]} for {args.duration:g} s, {args.concurrency} in flight")
                paths = _paths(kind, args.devices, args.models)
                http[kind] = wrk(  # SPARQL answers are not cached: no warm-up for it
                    server.base_url,
                    paths,
                    args.duration,
                    args.concurrency,
                    root / kind,
                    warm_up=kind != "sparql",
                )
        finally:
            server.stop()
            for process in bares:
                stop_process(process)
        _log("5. first report after a start (kg_data + seed)")
        report = first_report(root, args.seed_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    cpus = os.cpu_count()
    print(
        f"REST directory under load: {args.devices:,} TDs, {args.models} models, "
        f"{cpus} cores, tinyreg serve --workers {args.workers}, wrk: {args.concurrency} "
        f"connections, {args.duration:g} s per endpoint after a warm-up as long; "
        f"GET /things/{{id}} and the baselines: medians of {args.rounds} interleaved rounds"
    )
    print(f"command: {command}")
    header = (
        f"{'endpoint':32} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}"
        f" | {'API p50 ms':>10} {'API p99 ms':>10} {'HTTP/API p50':>12}"
    )
    print(header)
    print("-" * len(header))
    summary: dict[str, Any] = {
        "devices": args.devices,
        "models": args.models,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "workers": args.workers,
        "rounds": args.rounds,
        "cpus": cpus,
        "load_avg_1min_start": load_start,
        "load_avg_1min_end": round(os.getloadavg()[0], 2),
    }
    for kind, label in LABELS.items():
        h = http[kind]
        b50, b99 = (_pct(base_times[kind], q) * 1000 for q in (0.5, 0.99))
        ratio = h["p50_ms"] / b50 if b50 > 0 else float("nan")
        print(
            f"{label:32} {h['rps']:8.1f} {h['p50_ms']:8.2f} {h['p99_ms']:8.2f} {h['errors']:6d}"
            f" | {b50:10.2f} {b99:10.2f} {ratio:11.1f}x"
        )
        if "rounds" in h:
            summary[f"{kind}_rounds_rps_p99_ms"] = h["rounds"]
        summary.update(
            {
                f"{kind}_rps": round(h["rps"], 1),
                f"{kind}_p50_ms": round(h["p50_ms"], 2),
                f"{kind}_p99_ms": round(h["p99_ms"], 2),
                f"{kind}_errors": h["errors"],
                f"{kind}_api_p50_ms": round(b50, 3),
                f"{kind}_api_p99_ms": round(b99, 3),
                f"{kind}_http_vs_api_p50_ratio": round(ratio, 2),
            }
        )
    bare = http["bare"]
    for kind, label, note in (
        ("bare", "bare Starlette, constant TD", "routed by Starlette"),
        ("bare_asgi", "bare ASGI, constant TD", "the HTTP stack's ceiling"),
    ):
        b = http[kind]
        print(
            f"{label:32} {b['rps']:8.1f} {b['p50_ms']:8.2f}"
            f" {b['p99_ms']:8.2f} {b['errors']:6d} | ({note})"
        )
        summary[f"{kind}_rounds_rps_p99_ms"] = b["rounds"]
        summary.update(
            {
                f"{kind}_rps": round(b["rps"], 1),
                f"{kind}_p50_ms": round(b["p50_ms"], 2),
                f"{kind}_p99_ms": round(b["p99_ms"], 2),
                f"{kind}_errors": b["errors"],
            }
        )
    summary.update(
        {
            "thing_vs_bare_ratio": round(http["thing"]["rps"] / bare["rps"], 3),
            "thing_vs_bare_asgi_ratio": round(http["thing"]["rps"] / http["bare_asgi"]["rps"], 3),
            **report,
        }
    )
    print(
        f"GET /things/{{id}} reaches {summary['thing_vs_bare_ratio']:.2f} of bare Starlette's "
        f"requests/s and {summary['thing_vs_bare_asgi_ratio']:.2f} of the bare ASGI app's."
    )
    print(
        f"first GET /reports/latest after a start: {report['first_report_s']:.2f} s with the "
        f"report kept beside the store, {report['first_report_cold_s']:.2f} s without "
        "(written when the server starts)."
    )
    print("HTTP latencies include queueing behind the other requests in flight; API figures")
    print("are one call at a time in one process (no HTTP, no JSON encoding of the answer).")
    print(json.dumps(summary))
    errors = sum(http[k]["errors"] for k in (*LABELS, "bare", "bare_asgi"))
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
