"""The REST directory under load: requests/s and p50/p99 latency over HTTP, 10,000 TDs.

A synthetic fleet (``benchmarks/fleet.py``: devices over a few hundred board types, models
shaped like registered ones) is bulk loaded into a fresh on-disk store, each device with a
W3C WoT TD 1.1 document built from its board type (``tr:tdDocument``) and registration
information, as ``PUT /things/{id}`` stores them. Then, per endpoint:

1. **Baseline, in process**: the same call through the Python API on the same store, one
   at a time (``Directory.get``, ``Directory.page``, ``Matchmaker.devices_for``,
   ``Registry.query``), p50/p99;
2. **HTTP**: ``tinyreg serve`` (uvicorn, one process) on 127.0.0.1, loaded by a separate
   client process (asyncio + httpx, ``--concurrency`` requests in flight) for
   ``--duration`` seconds: requests/s, p50/p99, and the error count.

Endpoints: ``GET /things/{id}`` (random ids), ``GET /things?limit=100&offset=k`` (random
page of 100), ``GET /match/devices?model=m&limit=100`` (random models, the first 100 ranked
devices), ``GET /search/sparql`` (a SELECT of boards with enough free RAM, 100 rows).

Server and client share the machine's cores (2 on the reference machine): the figures are
those of the pair, not of the server alone.

Run::

    python benchmarks/http_load.py [--devices 10000] [--models 100] [--duration 10]
        [--concurrency 8] [--baseline-calls 200]

Progress goes to stderr, the figures to stdout; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from _servers import start_server
from fleet import FleetInfo, device_iri, model_iri, write_fleet

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


# ------------------------------------------------------------------ the client process


def _targets(kind: str, devices: int, models: int, rng: random.Random) -> tuple[str, dict]:
    if kind == "thing":
        return f"/things/{device_iri(rng.randrange(devices))}", {}
    if kind == "page":
        return "/things", {"limit": 100, "offset": rng.randrange(devices // 100) * 100}
    if kind == "match":
        return "/match/devices", {"model": model_iri(rng.randrange(models)), "limit": 100}
    return "/search/sparql", {"query": SPARQL}


async def _load(
    base: str, kind: str, devices: int, models: int, duration: float, concurrency: int
) -> dict[str, Any]:
    import httpx

    rng = random.Random(kind)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        path, params = _targets(kind, devices, models, rng)
        await client.get(path, params=params)  # warm-up
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                path, params = _targets(kind, devices, models, rng)
                t0 = time.perf_counter()
                response = await client.get(path, params=params)
                await response.aread()
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return {
        "requests": len(latencies),
        "errors": errors,
        "elapsed": elapsed,
        "latencies": latencies,
    }


def client_main(argv: list[str]) -> None:
    base, kind, devices, models, duration, concurrency = argv
    result = asyncio.run(
        _load(base, kind, int(devices), int(models), float(duration), int(concurrency))
    )
    print(json.dumps(result))


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
    parser.add_argument("--baseline-calls", type=int, default=200)
    args = parser.parse_args(argv)
    command = "python benchmarks/http_load.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items()
    )
    root = Path(tempfile.mkdtemp(prefix="tinyreg-http-load-"))
    try:
        _log(f"1. store with {args.devices} TDs and {args.models} models")
        build_store(root, args.devices, args.models)
        _log("2. baseline: the same calls through the Python API, in process")
        base_times = baseline(root / "store", args.devices, args.models, args.baseline_calls)
        _log("3. tinyreg serve + load client in a second process")
        server = start_server(root / "store", root / "server.log", token=TOKEN, timeout=120)
        base = server.base_url
        http: dict[str, dict[str, Any]] = {}
        try:
            for kind in LABELS:
                _log(f"   {LABELS[kind]} for {args.duration:g} s, {args.concurrency} in flight")
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--client",
                        base,
                        kind,
                        str(args.devices),
                        str(args.models),
                        str(args.duration),
                        str(args.concurrency),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                )
                http[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)

    cpus = os.cpu_count()
    print(
        f"REST directory under load: {args.devices:,} TDs, {args.models} models, "
        f"{cpus} cores, uvicorn 1 process, client: {args.concurrency} in flight, "
        f"{args.duration:g} s per endpoint"
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
        "cpus": cpus,
    }
    for kind, label in LABELS.items():
        h = http[kind]
        lat = h["latencies"]
        rps = h["requests"] / h["elapsed"]
        p50, p99 = _pct(lat, 0.5) * 1000, _pct(lat, 0.99) * 1000
        b50, b99 = (_pct(base_times[kind], q) * 1000 for q in (0.5, 0.99))
        ratio = p50 / b50 if b50 > 0 else float("nan")
        print(
            f"{label:32} {rps:8.1f} {p50:8.2f} {p99:8.2f} {h['errors']:6d}"
            f" | {b50:10.2f} {b99:10.2f} {ratio:11.1f}x"
        )
        summary.update(
            {
                f"{kind}_rps": round(rps, 1),
                f"{kind}_p50_ms": round(p50, 2),
                f"{kind}_p99_ms": round(p99, 2),
                f"{kind}_errors": h["errors"],
                f"{kind}_api_p50_ms": round(b50, 3),
                f"{kind}_api_p99_ms": round(b99, 3),
                f"{kind}_http_vs_api_p50_ratio": round(ratio, 2),
            }
        )
    print("HTTP latencies include queueing behind the other requests in flight; API figures")
    print("are one call at a time in one process (no HTTP, no JSON encoding of the answer).")
    print(json.dumps(summary))
    return 0 if all(http[k]["errors"] == 0 for k in LABELS) else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        client_main(sys.argv[2:])
    else:
        sys.exit(main())
