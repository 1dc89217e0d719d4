"""Target benchmarks: ``tinyreg bench MODEL --target``, the firmware agent in QEMU, in the graph.

The QEMU tests skip only when the Arm toolchain or QEMU is missing *and* the run is not under
CI (``CI=true``): in CI, ``scripts/setup.sh`` installs them and these tests must run.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import flatbuffers
import pytest
from _processes import run_cli as run
from fastapi.testclient import TestClient

from _paths import KG_DATA
from tinyreg.core.errors import BenchmarkError, ValidationError
from tinyreg.firmware.target import TARGETS, TFLM_COMMIT, host_output_sha256, toolchain_available
from tinyreg.matchmaker import Match
from tinyreg.matchmaker.constraints import Constraint
from tinyreg.registry import Registry
from tinyreg.registry.cli import BENCH_TARGETS
from tinyreg.registry.rest import Settings, create_app
from tinyreg.registry.target_bench import (
    StoredTargetBenchmark,
    list_target_benchmarks,
    store_target_benchmark,
    target_benchmark_iri,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
needs_toolchain = pytest.mark.skipif(
    not toolchain_available() and not IN_CI,
    reason="arm-none-eabi-gcc or qemu-system-arm missing (bash scripts/firmware.sh installs them)",
)

KWS = KG_DATA / "models" / "kws-dscnn-int8.tflite"
VIBRATION = KG_DATA / "models" / "vibration-ae-int8.tflite"
JSON_KEYS = {
    "model",
    "model_iri",
    "target",
    "arena_bytes",
    "init_instructions",
    "inference_instructions",
    "code_bytes",
    "output_sha256",
}


def _with_tanh(data: bytes) -> bytes:
    """The model with its FULLY_CONNECTED operators turned into TANH (not in the firmware)."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == fb.BuiltinOperator.FULLY_CONNECTED:
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.TANH
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _stored(
    model: str = "https://w3id.org/tinyreg/model/kws", **changes: object
) -> StoredTargetBenchmark:
    fields: dict[str, object] = {
        "model": model,
        "sha256": "a" * 64,
        "target": "qemu-mps2-an386",
        "core_family": "cortex-m4",
        "arena_bytes": 12_000,
        "init_instructions": 1_000,
        "inference_instructions": 2_000_000,
        "code_bytes": 300_000,
        "output_sha256": "b" * 64,
        "tflm_commit": TFLM_COMMIT,
        "toolchain": "arm-none-eabi-gcc 13.2.1",
        "measured_at": datetime(2026, 1, 1, tzinfo=UTC),
        **changes,
    }
    return StoredTargetBenchmark(**fields)  # type: ignore[arg-type]


def test_cli_targets_are_the_firmware_targets():
    assert sorted(BENCH_TARGETS) == sorted(TARGETS)


def test_target_benchmark_shape_checks_the_figures():
    with Registry.open(in_memory=True) as registry:
        store_target_benchmark(registry.store, _stored())  # conforms
        with pytest.raises(ValidationError) as caught:
            store_target_benchmark(registry.store, _stored(output_sha256="nothex", arena_bytes=0))
        paths = {v.path for v in caught.value.violations}
        assert {"tr:outputSha256", "tr:arenaBytes"} <= paths, paths
        assert target_benchmark_iri(_stored().model, "qemu-mps2-an386").endswith(
            "/benchmark/target/qemu-mps2-an386/kws"
        )


@needs_toolchain
def test_cli_bench_target_stores_a_target_benchmark_equal_to_the_host_output(tmp_path: Path):
    store = tmp_path / "store"
    assert run(store, "import", "--builtin", "-q").returncode == 0
    target = "qemu-mps2-an386"
    done = run(store, "bench", "kws-dscnn-int8", "--target", target, "--format", "json", "-q")
    assert done.returncode == 0, done.stderr
    [record] = json.loads(done.stdout)
    assert set(record) >= JSON_KEYS, sorted(JSON_KEYS - set(record))
    assert record["model"] == "kws-dscnn-int8"
    assert record["model_iri"] == "https://w3id.org/tinyreg/model/kws-dscnn-int8"
    assert record["target"] == target and record["core_family"] == "cortex-m4"
    assert record["instruction_counts"].startswith("instructions, not cycles")
    assert record["inference_instructions"] > record["init_instructions"] > 0
    assert record["code_bytes"] > 100_000 and record["tflm_commit"] == TFLM_COMMIT
    # int8: the emulated core computes the host interpreter's output bit for bit
    assert record["output_sha256"] == host_output_sha256(KWS.read_bytes())

    with Registry.open(store) as registry:
        rows = registry.query(
            "SELECT ?b ?arena ?n ?out ?bits WHERE { ?b a tr:TargetBenchmark ; "
            "tr:benchmarkOf ?m ; tr:target ?t ; tr:arenaBytes ?arena ; tr:pointerBits ?bits ; "
            "tr:inferenceInstructions ?n ; tr:outputSha256 ?out }"
        ).rows
        assert [(int(r["arena"]), int(r["n"]), str(r["out"]), int(r["bits"])) for r in rows] == [
            (record["arena_bytes"], record["inference_instructions"], record["output_sha256"], 32)
        ]
        [stored] = list_target_benchmarks(registry.store, record["model_iri"])
        assert stored.to_dict()["output_sha256"] == record["output_sha256"]

    table = run(store, "bench", "kws-dscnn-int8", "--target", target, "-q")
    assert table.returncode == 0, table.stderr
    assert "inference_instructions" in table.stdout
    assert "instructions, not cycles" in table.stderr


@needs_toolchain
def test_a_model_the_firmware_refuses_is_reported_with_the_reason_and_not_stored(tmp_path: Path):
    data = _with_tanh(VIBRATION.read_bytes())
    with Registry.open(in_memory=True) as registry:
        registry.add_model(data, ident="vibration-tanh")
        with pytest.raises(BenchmarkError) as caught:
            registry.bench(["vibration-tanh"], target="qemu-mps2-an386")
        assert caught.value.detail.startswith("unregistered_operator:")
        assert "TANH" in caught.value.detail
        assert list_target_benchmarks(registry.store) == []
        assert not registry.query("ASK { ?b a tr:TargetBenchmark }").boolean

    store = tmp_path / "store"
    model = tmp_path / "vibration-tanh.tflite"
    model.write_bytes(data)
    assert run(store, "add", "model", str(model)).returncode == 0
    refused = run(store, "bench", "vibration-tanh", "--target", "qemu-mps2-an386", "-q")
    assert refused.returncode == 1
    assert "unregistered_operator" in refused.stderr and "TANH" in refused.stderr


@needs_toolchain
def test_rest_bench_with_a_target_is_the_same_service_method():
    token = "target-token"
    auth = {"Authorization": f"Bearer {token}"}
    with Registry.open(in_memory=True) as registry:
        registry.add_model(KWS)
        registry.add_model(_with_tanh(VIBRATION.read_bytes()), ident="vibration-tanh")
        app = create_app(Settings(token=token, validate_td_schema=False), registry=registry)
        with TestClient(app) as client:
            params = {"model": "kws-dscnn-int8", "target": "qemu-mps3-an547"}
            answer = client.post("/bench", params=params, headers=auth)
            assert answer.status_code == 200, answer.text
            [result] = answer.json()["results"]
            assert set(result) >= JSON_KEYS
            assert result["target"] == "qemu-mps3-an547" and result["core_family"] == "cortex-m55"
            assert result["output_sha256"] == host_output_sha256(KWS.read_bytes())
            [stored] = list_target_benchmarks(registry.store)
            assert stored.target == "qemu-mps3-an547"
            refused = client.post(
                "/bench",
                params={"model": "vibration-tanh", "target": "qemu-mps3-an547"},
                headers=auth,
            )
            assert refused.status_code == 422 and "unregistered_operator" in refused.text
            unknown = client.post(
                "/bench", params={"model": "kws-dscnn-int8", "target": "qemu-nope"}, headers=auth
            )
            assert unknown.status_code == 400 and "qemu-mps2-an386" in unknown.text


def _ram(registry: Registry, model: str, device: str) -> tuple[Match, Constraint]:
    match = registry.explain(model, device)
    [ram] = [c for c in match.verdict.constraints if c.name == "ram"]
    return match, ram


def test_the_matchmaker_uses_the_target_arena_of_the_devices_core_family():
    nano = "urn:tinyreg:device:arduino-nano-33-ble-sense"  # cortex-m4
    portenta = "urn:tinyreg:device:arduino-portenta-h7"  # cortex-m7
    with Registry.open(in_memory=True) as registry:
        registry.import_path(KG_DATA)
        model = registry.resolve("model", "kws-dscnn-int8")
        host = registry.list_models()
        host_arena = next(m.arena_bytes for m in host if m.iri == model)
        before, ram = _ram(registry, model, nano)
        assert before.fits and ram.parts["arena"] == host_arena
        assert ram.parts["arena_measured_on"] == "host"
        assert any(m.model == model for m in registry.match(device=nano))

        # a (made-up) target figure for the cortex-m4 family, too large for the Nano's RAM
        sha = next(m.sha256 for m in host if m.iri == model)
        huge = StoredTargetBenchmark(**{**_stored(model).__dict__, "sha256": sha})
        huge = StoredTargetBenchmark(**{**huge.__dict__, "arena_bytes": 10_000_000})
        store_target_benchmark(registry.store, huge)
        registry.fits.index_models([model])
        after, ram = _ram(registry, model, nano)
        assert not after.fits and "ram" in after.verdict.failed
        assert ram.parts["arena"] == 10_000_000 and ram.parts["arena_measured_on"] == "target"
        assert "arena on the target" in ram.detail
        assert all(m.model != model for m in registry.match(device=nano))
        # another core family keeps the host figure
        _, other = _ram(registry, model, portenta)
        assert other.parts["arena"] == host_arena

        # a figure of other bytes than the registered ones is not used
        stale = StoredTargetBenchmark(**{**huge.__dict__, "sha256": "c" * 64})
        store_target_benchmark(registry.store, stale)
        _, ram = _ram(registry, model, nano)
        assert ram.parts["arena"] == host_arena
