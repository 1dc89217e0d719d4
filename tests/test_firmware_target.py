"""The firmware agent on emulated Cortex-M cores: bench mode, refusals, and the slot logic.

The toolchain tests skip only when the Arm toolchain or QEMU is missing *and* the run is not
under CI (``CI=true``): in CI, ``scripts/setup.sh`` installs them and these tests must run.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import signal
import subprocess
import time

import flatbuffers
import pytest

from _paths import KG_DATA, REPO, SEED_MODELS
from tinyreg.core.errors import BenchmarkError
from tinyreg.core.tflite import parse_tflite
from tinyreg.firmware.operators import (
    HEADER,
    MLPERF_TINY_OPERATORS,
    REGISTERED_OPERATORS,
    header_text,
    model_operators,
)
from tinyreg.firmware.target import (
    TARGETS,
    TargetBenchmark,
    agent_command,
    bench_target,
    firmware_script,
    host_output_sha256,
    run_agent,
    toolchain_available,
)
from tinyreg.registry import measure_arena

IN_CI = os.environ.get("CI", "").lower() == "true"
needs_toolchain = pytest.mark.skipif(
    not toolchain_available() and not IN_CI,
    reason="arm-none-eabi-gcc or qemu-system-arm missing (bash scripts/firmware.sh installs them)",
)

SEED = sorted(SEED_MODELS.glob("*.tflite"))
KG = sorted((KG_DATA / "models").glob("*.tflite"))
MODELS = SEED + KG
TARGET_NAMES = sorted(TARGETS)


def _quantised(data: bytes) -> bool:
    """An integer model (its weighted operators compute in int8), whatever its I/O types."""
    return parse_tflite(data).quantization in ("int8", "uint8", "int16x8")


@functools.cache
def _host(path: str) -> tuple[bool, int | None, str | None]:
    """Host runtime: runnable, minimal arena, output hash for the zero-point input."""
    with open(path, "rb") as handle:
        data = handle.read()
    arena = measure_arena(data, source=path)
    if not arena.runnable:
        return False, None, arena.reason
    return True, arena.arena_bytes, host_output_sha256(data)


@functools.cache
def _bench(path: str, target: str) -> TargetBenchmark | BenchmarkError:
    try:
        return bench_target(path, target)
    except BenchmarkError as exc:
        return exc


# ---- the operator list (no toolchain needed) ---------------------------------------------------


def test_registered_operators_cover_seed_kg_data_and_mlperf_tiny_models():
    assert SEED, f"seed models not found in {SEED_MODELS}"
    needed = set().union(*MLPERF_TINY_OPERATORS.values())
    for name, ops in model_operators(MODELS).items():
        assert ops <= set(REGISTERED_OPERATORS), (
            f"{name}: {sorted(ops - set(REGISTERED_OPERATORS))}"
        )
        needed |= ops
    assert needed == set(REGISTERED_OPERATORS), "registered but used by no model"
    assert list(REGISTERED_OPERATORS) == sorted(REGISTERED_OPERATORS)


def test_generated_header_is_current():
    assert HEADER.read_text() == header_text()


# ---- host unit tests of the portable core (host gcc) -------------------------------------------


def test_slots_and_boot_record_survive_power_cuts_at_every_write():
    built = subprocess.run(
        ["bash", str(firmware_script()), "--host-test"], capture_output=True, text=True, cwd=REPO
    )
    assert built.returncode == 0, built.stderr
    binary = built.stdout.strip().splitlines()[-1]
    run = subprocess.run([binary], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "FAIL" not in run.stdout
    for scenario in ("first install", "update install", "trial boot", "confirm", "revert boot"):
        assert re.search(rf"ok {scenario}: power cut at each of \d+ flash operations", run.stdout)
    assert run.stdout.strip().splitlines()[-1].startswith("PASSED")


# ---- bench mode on the emulated cores -----------------------------------------------------------


@needs_toolchain
@pytest.mark.slow
@pytest.mark.parametrize("target", TARGET_NAMES)
@pytest.mark.parametrize("model", MODELS, ids=lambda p: p.stem)
def test_bench_matches_host_interpreter(model, target, record_property):
    runnable, host_arena, host_sha = _host(str(model))
    result = _bench(str(model), target)
    if not runnable:
        # what the host runtime refuses, the target refuses too, with the runtime's reason
        assert isinstance(result, BenchmarkError), result
        assert result.detail.startswith("runtime_refused"), result.detail
        return
    assert isinstance(result, TargetBenchmark), result
    record_property("arena_target", result.arena_bytes)
    record_property("arena_host", host_arena)
    record_property("inference_instructions", result.inference_instructions)
    assert 0 < result.arena_bytes <= result.arena_budget
    assert result.arena_used_bytes <= result.arena_bytes
    assert result.inference_instructions > 0 and result.init_instructions > 0
    assert result.code_bytes > 100_000
    assert result.model_bytes == model.stat().st_size
    if _quantised(model.read_bytes()):
        assert result.output_sha256 == host_sha, "int8 output differs from the host interpreter"


@needs_toolchain
@pytest.mark.slow
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_instruction_counts_are_identical_run_to_run(target):
    for path in (
        KG_DATA / "models" / "kws-dscnn-int8.tflite",
        KG_DATA / "models" / "vibration-ae-float32.tflite",
    ):
        first = bench_target(path, target)
        second = bench_target(path, target)
        assert first == second


def _with_operator(data: bytes, old: str, new: str) -> bytes:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

    model = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(data, 0))
    old_code = getattr(fb.BuiltinOperator, old)
    new_code = getattr(fb.BuiltinOperator, new)
    for code in model.operatorCodes:
        if max(code.builtinCode, code.deprecatedBuiltinCode) == old_code:
            code.builtinCode = new_code
            code.deprecatedBuiltinCode = min(new_code, 127)
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


@needs_toolchain
def test_unregistered_operator_is_refused_with_its_name():
    data = _with_operator(
        (KG_DATA / "models" / "vibration-ae-int8.tflite").read_bytes(), "FULLY_CONNECTED", "TANH"
    )
    with pytest.raises(BenchmarkError) as caught:
        bench_target(data, "qemu-mps2-an386", label="tanh-model")
    assert caught.value.detail.startswith("unregistered_operator:")
    assert "TANH" in caught.value.detail


@needs_toolchain
@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda d: d[: len(d) // 2], id="truncated"),
        pytest.param(lambda d: b"\xff\xff\xff\x7f" + d[4:], id="root-offset"),
        pytest.param(lambda d: d[:4] + b"XXXX" + d[8:], id="identifier"),
        pytest.param(lambda d: bytes(64), id="zeros"),
    ],
)
def test_mangled_flatbuffer_is_refused_before_tflm(mangle):
    data = mangle((KG_DATA / "models" / "kws-dscnn-int8.tflite").read_bytes())
    with pytest.raises(BenchmarkError) as caught:
        bench_target(data, "qemu-mps2-an386", label="mangled")
    assert caught.value.detail.startswith("mangled_flatbuffer:"), caught.value.detail


@needs_toolchain
def test_arena_over_budget_is_refused_with_the_need():
    path = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    needed = bench_target(path, "qemu-mps2-an386").arena_bytes
    with pytest.raises(BenchmarkError) as caught:
        bench_target(path, "qemu-mps2-an386", budget=needed - 1)
    assert caught.value.detail.startswith("arena_over_budget:")
    exact = bench_target(path, "qemu-mps2-an386", budget=needed)
    assert exact.arena_bytes == needed


# ---- slots and boot records in the flash file, across QEMU processes ----------------------------


def _slots(tmp_path, *args: str) -> dict:
    proc = run_agent(
        "qemu-mps2-an386", ["--flash", str(tmp_path / "flash.img"), "slots", *args], cwd=tmp_path
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, proc.stdout + proc.stderr
    return {key: value for line in lines for key, value in line.items()}


@needs_toolchain
def test_flash_file_keeps_slots_across_resets_with_trial_and_confirm(tmp_path):
    good = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    assert _slots(tmp_path, "boot")["boot"]["slot"] == -1
    assert _slots(tmp_path, "install", str(good))["install"]["rc"] == 0
    first = _slots(tmp_path, "boot", "--confirm")  # trial boot, self-test, confirm
    assert first["boot"]["trial"] is True and first["confirm"]["rc"] == 0
    assert _slots(tmp_path, "boot")["boot"] == {"slot": 0, "trial": False, "seq": 1, "size": 14752}
    # a new image that is booted on trial but reset before it is confirmed: reverted
    (tmp_path / "other.tflite").write_bytes((SEED_MODELS / "Hello_World.tflite").read_bytes())
    assert _slots(tmp_path, "install", str(tmp_path / "other.tflite"))["install"]["slot"] == 1
    assert _slots(tmp_path, "boot")["boot"]["trial"] is True
    assert _slots(tmp_path, "boot")["boot"]["slot"] == 0
    # an image that fails its self-test (a mangled flatbuffer) is never confirmed
    (tmp_path / "bad.tflite").write_bytes(b"\x00" * 4096)
    _slots(tmp_path, "install", str(tmp_path / "bad.tflite"))
    tried = _slots(tmp_path, "boot", "--confirm")
    assert tried["refused"] == "mangled_flatbuffer" and "confirm" not in tried
    assert _slots(tmp_path, "boot")["boot"]["slot"] == 0
    info = _slots(tmp_path, "info")["slots"]
    assert info[0]["state"] == "confirmed"
    assert info[0]["sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()


@needs_toolchain
@pytest.mark.slow
def test_sigkill_during_install_boots_the_committed_image(tmp_path):
    good = KG_DATA / "models" / "kws-dscnn-int8.tflite"
    big = SEED_MODELS / "ARM_MicroNet_VWW_3.tflite"
    _slots(tmp_path, "install", str(good))
    _slots(tmp_path, "boot", "--confirm")
    command = agent_command(
        "qemu-mps2-an386", ["--flash", str(tmp_path / "flash.img"), "slots", "install", str(big)]
    )
    outcomes = set()
    for delay in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8):
        process = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        out, _ = process.communicate()
        completed = b'"rc":0' in out
        boot = _slots(tmp_path, "boot")["boot"]
        # the committed image, or the new one on trial when its commit record was written
        assert (boot["seq"], boot["size"]) == (1, 14752) or (
            boot["trial"] and boot["size"] == big.stat().st_size
        ), (delay, boot)
        outcomes.add("new" if boot["trial"] else "old")
        if boot["trial"]:  # reset before confirmation: the next boot is the old one again
            assert _slots(tmp_path, "boot")["boot"]["seq"] == 1
        assert completed or not boot["trial"] or boot["size"] == big.stat().st_size
    assert "old" in outcomes


@needs_toolchain
def test_the_tds_ram_budget_is_enforced_not_the_emulators_memory():
    from tinyreg.registry.limits import device_limits

    nicla = device_limits(KG_DATA / "devices" / "arduino-nicla-sense-me.td.jsonld")
    small = bench_target(KG_DATA / "models" / "kws-dscnn-int8.tflite", budget=nicla.arena_budget)
    assert small.arena_budget == nicla.arena_budget
    assert (
        small.arena_bytes == bench_target(KG_DATA / "models" / "kws-dscnn-int8.tflite").arena_bytes
    )
    with pytest.raises(BenchmarkError) as caught:
        bench_target(
            SEED_MODELS / "ARM_MicroNet_Small_anomaly_detection.tflite", budget=nicla.arena_budget
        )
    assert caught.value.detail.startswith("arena_over_budget:")
    assert f"the budget is {nicla.arena_budget}" in caught.value.detail


@needs_toolchain
@pytest.mark.parametrize("target", TARGET_NAMES)
def test_uart_transport_reaches_qemus_serial_port(target, tmp_path):
    out = tmp_path / "serial.txt"
    command = agent_command(target, ["uart", "tinyreg-uart-check"], serial=f"file:{out}")
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert '"uart_bytes":19' in proc.stdout, proc.stdout + proc.stderr
    assert out.read_text() == "tinyreg-uart-check\n"
