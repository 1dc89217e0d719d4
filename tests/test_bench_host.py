"""Host benchmarks with the real TFLite Micro runtime, stored in the graph; ``tinyreg bench``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from _processes import run_cli as run

from _paths import KG_DATA, SEED_MODELS, seed_model
from tinyreg.core.errors import BenchmarkError, NotFoundError
from tinyreg.matchmaker import Matchmaker
from tinyreg.registry import Registry
from tinyreg.registry.bench import (
    bench_registered,
    benchmark_iri,
    list_benchmarks,
    measure_host,
    random_input,
)
from tinyreg.registry.blobs import MemoryBlobs, find_model

HELLO = SEED_MODELS / "Hello_World.tflite"
KWS = KG_DATA / "models" / "kws-dscnn-int8.tflite"


@pytest.fixture
def registry() -> Iterator[Registry]:
    with Registry.open(in_memory=True) as reg:
        yield reg


def _benchmark_triples(registry: Registry) -> list[tuple[str, str, str]]:
    rows = registry.query(
        "SELECT ?g ?p ?o WHERE { GRAPH ?g { ?b a tr:HostBenchmark ; ?p ?o } } ORDER BY ?g ?p ?o"
    ).rows
    return [(str(r["g"]), str(r["p"]), str(r["o"])) for r in rows]


def test_bench_measures_with_the_runtime_and_stores_in_its_own_graph(registry: Registry):
    model = registry.add_model(seed_model("Hello_World"))
    bench = bench_registered(registry.store, model.iri, HELLO.read_bytes(), runs=7)
    assert bench.model == model.iri
    assert bench.runs == 7
    assert bench.arena_bytes == model.arena_bytes == 1936  # the same runtime, the same minimum
    assert 0 < bench.invoke_min_ms <= bench.invoke_median_ms <= bench.invoke_max_ms
    assert bench.load_ms > 0
    assert bench.runtime_name == "tflite-micro"
    assert bench.sha256 == model.sha256
    assert list_benchmarks(registry.store) == [bench]
    assert list_benchmarks(registry.store, model.iri) == [bench]
    triples = _benchmark_triples(registry)
    assert {g for g, _, _ in triples} == {benchmark_iri(model.iri)}
    row = registry.query(
        "SELECT ?m ?ms ?runs WHERE { ?b a tr:HostBenchmark ; tr:benchmarkOf ?m ; "
        "tr:invokeMedianMs ?ms ; tr:runs ?runs }"
    ).rows
    assert [(str(r["m"]), float(r["ms"]), int(r["runs"])) for r in row] == [
        (model.iri, bench.invoke_median_ms, 7)
    ]
    # a benchmark is a PROV activity that used the model (through the ontology's hierarchy)
    assert registry.query(
        "ASK { ?b tr:benchmarkOf ?m . tr:benchmarkOf rdfs:subPropertyOf prov:used . "
        "tr:HostBenchmark rdfs:subClassOf prov:Activity }"
    ).boolean


def test_measuring_again_replaces_the_previous_benchmark(registry: Registry):
    model = registry.add_model(KWS)
    first = bench_registered(registry.store, model.iri, KWS.read_bytes(), runs=3, seed=1)
    second = bench_registered(registry.store, model.iri, KWS.read_bytes(), runs=4, seed=2)
    assert list_benchmarks(registry.store) == [second]
    assert first.measured_at <= second.measured_at
    predicates = [p for _, p, _ in _benchmark_triples(registry)]
    assert len(predicates) == len(set(predicates)), "one value per property: the graph was replaced"
    assert ("https://w3id.org/tinyreg#runs" in predicates) and second.input_seed == 2


def test_deleting_a_model_deletes_its_benchmark(registry: Registry):
    kws = registry.add_model(KWS)
    hello = registry.add_model(seed_model("Hello_World"))
    bench_registered(registry.store, kws.iri, KWS.read_bytes(), runs=2)
    kept = bench_registered(registry.store, hello.iri, HELLO.read_bytes(), runs=2)
    registry.delete_model(kws.id)
    assert not registry.store.has_graph(benchmark_iri(kws.iri))
    assert list_benchmarks(registry.store) == [kept]
    assert {g for g, _, _ in _benchmark_triples(registry)} == {benchmark_iri(hello.iri)}


def test_bytes_other_than_the_registered_ones_are_refused(registry: Registry):
    model = registry.add_model(KWS)
    with pytest.raises(BenchmarkError) as refused:
        bench_registered(registry.store, model.iri, HELLO.read_bytes(), runs=2)
    assert refused.value.status == 422 and refused.value.model == model.iri
    assert "SHA-256" in refused.value.detail
    assert _benchmark_triples(registry) == []
    with pytest.raises(NotFoundError):
        bench_registered(registry.store, model.iri + "-missing", KWS.read_bytes())


def test_a_model_the_runtime_refuses_is_not_benchmarked(registry: Registry):
    path = seed_model("Person_Detection")
    model = registry.add_model(path)
    assert not model.runnable
    with pytest.raises(BenchmarkError) as refused:
        bench_registered(registry.store, model.iri, path.read_bytes(), runs=2)
    assert "Hybrid models are not supported" in refused.value.detail
    assert _benchmark_triples(registry) == []


def test_a_benchmark_of_bytes_since_replaced_is_not_listed(registry: Registry):
    model = registry.add_model(HELLO, ident="sensor-model")
    bench_registered(registry.store, model.iri, HELLO.read_bytes(), runs=2)
    assert len(list_benchmarks(registry.store)) == 1
    registry.add_model(KWS, ident="sensor-model")  # new bytes under the same id
    assert list_benchmarks(registry.store) == []


def test_float_models_get_float_inputs_and_run(registry: Registry):
    path = KG_DATA / "models" / "gesture-cnn-float32.tflite"
    bench = measure_host(path.read_bytes(), model="gesture", runs=3, load_runs=2)
    assert bench.arena_bytes == registry.add_model(path).arena_bytes
    assert bench.invoke_median_ms > 0


def test_random_inputs_span_the_dtype_and_repeat_with_the_seed():
    def draw(dtype: type, seed: int = 3) -> np.ndarray:
        return random_input(np.random.default_rng(seed), (4, 500), dtype)

    for dtype in (np.int8, np.uint8, np.int16, np.int32):
        values = draw(dtype)
        limits = np.iinfo(dtype)
        assert values.dtype == dtype
        assert limits.min <= values.min() and values.max() <= limits.max
        assert len(np.unique(values)) > 100
    floats = draw(np.float32)
    assert floats.dtype == np.float32 and floats.min() >= -1 and floats.max() < 1
    assert set(np.unique(draw(np.bool_))) == {False, True}
    assert np.array_equal(draw(np.int8), draw(np.int8))
    assert not np.array_equal(draw(np.int8, 3), draw(np.int8, 4))


def test_find_model_file_by_sha256(registry: Registry):
    model = registry.add_model(KWS)
    found = find_model(model.sha256, MemoryBlobs(), [SEED_MODELS, KG_DATA])
    assert found is not None and found.source == KWS
    assert find_model("0" * 64, MemoryBlobs(), [KG_DATA]) is None
    # the registry kept the bytes: found by id, without a folder
    assert registry.model_bytes(model.id).data == KWS.read_bytes()


# --------------------------------------------------------------------------- CLI


def test_cli_bench_stores_and_reports(tmp_path: Path):
    store = tmp_path / "store"
    assert run(store, "import", "--builtin", "-q").returncode == 0
    nano = "arduino-nano-33-ble-sense"
    done = run(
        store, "bench", "kws-dscnn-int8", "--runs", "3", "--device", nano, "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    assert record["model"] == "kws-dscnn-int8"
    assert record["model_iri"] == "https://w3id.org/tinyreg/model/kws-dscnn-int8"
    assert record["device"] == record["device_iri"] == f"urn:tinyreg:device:{nano}"
    assert record["runs"] == 3 and record["arena_bytes"] == 11888
    # the bytes the registry kept when the model was imported
    kept = Path(record["file"])
    assert kept.parent == store / "models" / "sha256"
    assert kept.read_bytes() == KWS.read_bytes()
    assert record["fits"] is True
    # the same estimate the matchmaker gives for the pair
    with Registry.open(store) as registry:
        match = Matchmaker(registry).explain("kws-dscnn-int8", nano)
        assert record["estimated_latency_ms"] == match.verdict.estimated_latency_ms
        [stored] = list_benchmarks(registry.store)
        assert stored.invoke_median_ms == record["invoke_median_ms"]

    # every model at once, with a progress bar on stderr
    done = run(store, "bench", "--all", "--runs", "2")
    assert done.returncode == 0, done.stderr
    assert "bench: 100%" in done.stderr
    assert len(done.stdout.strip().splitlines()) == 2 + 8  # header, rule, 8 kg_data models

    # a model whose file cannot be found (registered before the registry kept bytes: its
    # kept copy is removed), and a model that is not registered
    assert run(store, "add", "model", str(HELLO)).returncode == 0
    digest = hashlib.sha256(HELLO.read_bytes()).hexdigest()
    (store / "models" / "sha256" / f"{digest}.tflite").unlink()
    missing = run(store, "bench", "hello-world")
    assert missing.returncode == 1 and "--search" in missing.stderr
    found = run(store, "bench", "hello-world", "--search", str(SEED_MODELS), "--runs", "2")
    assert found.returncode == 0, found.stderr
    unknown = run(store, "bench", "no-such-model")
    assert unknown.returncode == 1 and "no model" in unknown.stderr
    assert run(store, "bench").returncode == 2

    out = tmp_path / "report"
    done = run(store, "report", "--out", str(out), "-q")
    assert done.returncode == 0, done.stderr
    assert (out / "report.html").is_file() and (out / "report.md").is_file()
    figures = json.loads((out / "report.json").read_text())["figures"]
    assert figures["bench|kws-dscnn-int8|runs"] == 2
    assert figures["summary|host benchmarks"] == 9
