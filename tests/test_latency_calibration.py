"""Measured figures in the runtime tables: kernel code sizes and the calibrated latency model."""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rdflib import Graph, Namespace
from rdflib.term import Node
from test_runtime_tables import _script

from _paths import KG_DATA, REPO, SEED_MODELS, requires_files
from tinyreg.firmware.linkmap import code_by_operator, operator_of
from tinyreg.kg_data.latency_calibration import (
    MEASUREMENTS,
    PUBLISHED,
    calibrate,
    load_measured,
    split,
)

TR = Namespace("https://w3id.org/tinyreg#")
OP = "https://w3id.org/tinyreg/op/"
RUNTIMES = KG_DATA / "runtimes"
M4 = "qemu-mps2-an386"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(MEASUREMENTS.read_text())


def _instructions(doc: dict[str, Any], model: str, target: str = M4) -> int:
    entry = next(m for m in doc["models"] if m["model"] == model)
    return int(entry["results"][target]["inference_instructions"])


def _scale(doc: dict[str, Any], models: set[str], factor: float, target: str = M4) -> dict:
    changed = copy.deepcopy(doc)
    for m in changed["models"]:
        if m["model"] in models and "inference_instructions" in m["results"].get(target, {}):
            result = m["results"][target]
            result["inference_instructions"] = int(result["inference_instructions"] * factor)
    return changed


def _family(graph: Graph, family: str) -> Node:
    return next(
        n for n in graph.subjects(TR.coreFamily) if str(graph.value(n, TR.coreFamily)) == family
    )


# --------------------------------------------------------------------- the measurements file


@requires_files(sorted(SEED_MODELS.glob("*.tflite")), SEED_MODELS)
def test_measurements_cover_every_seed_and_kg_data_model(document: dict[str, Any]) -> None:
    files = sorted(SEED_MODELS.glob("*.tflite")) + sorted((KG_DATA / "models").glob("*.tflite"))
    recorded = {m["model"]: m["sha256"] for m in document["models"]}
    for path in files:
        # a changed model must be measured again (scripts/measure_targets.py)
        assert recorded.get(path.name) == hashlib.sha256(path.read_bytes()).hexdigest(), path
    for model in document["models"]:
        assert set(model["results"]) == {"qemu-mps2-an386", "qemu-mps3-an547"}


def test_measurements_say_how_they_were_measured(document: dict[str, Any]) -> None:
    prov = document["provenance"]
    assert prov["toolchain"].startswith("arm-none-eabi-gcc")
    assert len(prov["tflm_commit"]) == 40
    assert "not cycles" in prov["counts"] and "QEMU" in prov["qemu"]
    for facts in document["targets"].values():
        assert "-O2" in facts["compiler_flags"] and "-DCMSIS_NN" in facts["compiler_flags"]
        assert "-I" not in facts["compiler_flags"]  # no checkout paths in the data


def test_docs_arena_tables_are_generated_from_the_measurements(document: dict[str, Any]) -> None:
    spec = importlib.util.spec_from_file_location(
        "measure_targets", REPO / "scripts" / "measure_targets.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tables = module.markdown_tables(document)
    assert tables.count("| ARM_DS_CNN_Small_ |") == 2  # one table per core
    assert "kws_ref_model" not in tables  # the board references are not project models
    assert tables.strip() in (REPO / "docs" / "firmware.md").read_text()


# --------------------------------------------------------------------- code sizes


def test_linker_map_attribution(tmp_path: Path) -> None:
    lib = "/c/tflm-x/libtflm.a"
    map_text = (
        "Archive member included\n\nLinker script and memory map\n\n"
        f" .text._ZN6tflite4ConvEval\n                0x00001000       0x40 {lib}(conv.o)\n"
        f" .text.arm_convolve_s8\n                0x00001040       0x20 {lib}(arm_convolve_s8.o)\n"
        f" .text.arm_nn_helper  0x00001060       0x10 {lib}(arm_nn_mat_mult_nt_t_s8.o)\n"
        f" .rodata.pool   0x00002000       0x08 {lib}(pooling.o)\n"
        " .text.main     0x00003000       0x04 /c/agent/obj/app/main.o\n"
        " .text.memcpy   0x00003004       0x02 /usr/lib/libc_nano.a(memcpy.o)\n"
        f" .text.unused   0x00000000       0x99 {lib}(softmax.o)\n"
    )
    path = tmp_path / "agent.map"
    path.write_text(map_text)
    assert code_by_operator(path) == {
        "AVERAGE_POOL_2D + MAX_POOL_2D": 8,
        "CMSIS-NN support": 16,
        "CONV_2D": 0x60,
        "agent": 4,
        "libc/libm/libstdc++": 2,
    }  # a discarded section (address 0) is not counted
    assert operator_of(f"{lib}(micro_interpreter.o)") == "TFLM framework"


def test_measured_code_sizes_replace_estimates_with_provenance(document: dict[str, Any]) -> None:
    runtime = Graph().parse(RUNTIMES / "tflite-micro.ttl", format="turtle")
    prov = document["provenance"]
    by_family = {f["family"]: f for f in document["targets"].values()}
    seen_measured = 0
    for node in runtime.subjects(TR.codeBytes, None):
        family = str(runtime.value(node, TR.coreFamily))
        sources = list(runtime.objects(node, TR.figureSource))
        assert len(sources) == 1, node
        source = str(sources[0])
        op = runtime.value(node, TR.operatorType)
        size = int(runtime.value(node, TR.codeBytes))  # type: ignore[arg-type]
        measured = by_family.get(family, {}).get("code_bytes_by_operator", {})
        name = str(op)[len(OP) :] if op is not None else None
        key = (
            "AVERAGE_POOL_2D + MAX_POOL_2D" if name in ("AVERAGE_POOL_2D", "MAX_POOL_2D") else name
        )
        if name is not None and key in measured:
            seen_measured += 1
            assert size == measured[key]
            assert source.startswith("measured: linker map")
            for part in (prov["toolchain"], prov["tflm_commit"], "-O2", "-mcpu="):
                assert part in source
        elif name is None and family in by_family:
            groups = by_family[family]["code_bytes_by_operator"]
            assert size == groups["TFLM framework"] + groups["CMSIS-NN support"]
            assert source.startswith("measured:")
        else:
            assert source.startswith("estimate:"), (family, name)
    # 13 operator objects (14 operators) on each of the two measured families
    assert seen_measured == 2 * 14


# --------------------------------------------------------------------- latency calibration


def test_fit_and_held_out_sets_are_disjoint_halves(document: dict[str, Any]) -> None:
    cal = calibrate(document)
    assert {("cortex-m4", "int8"), ("cortex-m4", "float")} <= set(cal.instruction_models)
    reference_shapes = {
        tuple(sorted(m.macs_by_operator.items()))
        for m in load_measured(document, M4)
        if m.source == "mlperf-tiny"
    }
    for model in cal.instruction_models.values():
        fit, held = set(model.fit_models), set(model.held_out)
        assert fit and held and not fit & held
        assert len(held) >= len(fit) - 1  # every other distinct model
        for m in load_measured(document, M4):
            if tuple(sorted(m.macs_by_operator.items())) in reference_shapes:
                assert m.model not in fit | held  # a reference in disguise is in neither set
    board = cal.board_for("cortex-m4")
    assert board is not None
    assert not set(board.calibration) & set(board.test)
    assert len(board.test) >= len(board.calibration) >= 1
    # calibration only on the runtime the estimate is for; other runtimes are cross-checks
    tflm = {r.model for r in PUBLISHED if r.runtime.startswith("tflite")}
    assert set(board.calibration) | set(board.test) == tflm
    assert all("microTVM" in key for key in cal.cross_checks)


def test_split_is_by_hash_and_ignores_duplicates(document: dict[str, Any]) -> None:
    measured = load_measured(document, M4)
    fit, held = split(measured + measured[:3])
    hashes = sorted({m.sha256 for m in measured})
    assert [m.sha256 for m in fit] == hashes[0::2]
    assert [m.sha256 for m in held] == hashes[1::2]


def test_held_out_models_do_not_change_the_fit(document: dict[str, Any]) -> None:
    cal = calibrate(document)
    int8 = cal.instruction_models[("cortex-m4", "int8")]
    board = cal.board_for("cortex-m4")
    assert board is not None
    changed = calibrate(_scale(document, set(int8.held_out) | set(board.test), 3.0))
    again = changed.instruction_models[("cortex-m4", "int8")]
    assert again.per_mac == int8.per_mac and again.per_operator == int8.per_operator
    assert changed.board_for("cortex-m4").cycles_per_instruction == board.cycles_per_instruction  # type: ignore[union-attr]
    # ... while the held-out error does see them
    assert again.held_out_error != int8.held_out_error


def test_fit_models_and_calibration_references_drive_the_figures(
    document: dict[str, Any],
) -> None:
    cal = calibrate(document)
    int8 = cal.instruction_models[("cortex-m4", "int8")]
    board = cal.board_for("cortex-m4")
    assert board is not None
    more = calibrate(_scale(document, set(int8.fit_models), 2.0))
    assert more.instruction_models[("cortex-m4", "int8")].per_mac_overall == pytest.approx(
        2 * int8.per_mac_overall, rel=0.01
    )
    # twice the instructions for the same published latency: half the cycles per instruction
    slower = calibrate(_scale(document, set(board.calibration), 2.0))
    assert slower.board_for("cortex-m4").cycles_per_instruction == pytest.approx(  # type: ignore[union-attr]
        board.cycles_per_instruction / 2, rel=0.001
    )
    for model, (from_macs, _, published) in board.test.items():
        assert published == next(r.latency_ms for r in PUBLISHED if r.model == model)
        assert from_macs > 0


def test_cores_table_is_computed_from_the_calibration(document: dict[str, Any]) -> None:
    cal = calibrate(document)
    cores = Graph().parse(RUNTIMES / "cores.ttl", format="turtle")
    m4 = _family(cores, "cortex-m4")
    board = cal.board_for("cortex-m4")
    assert board is not None
    int8 = cal.instruction_models[("cortex-m4", "int8")]
    flt = cal.instruction_models[("cortex-m4", "float")]
    simd = Decimal(str(cores.value(m4, TR.cyclesPerMacInt8Simd)))
    assert simd == Decimal(str(round(int8.per_mac_overall * board.cycles_per_instruction, 2)))
    fpu = Decimal(str(cores.value(m4, TR.cyclesPerMacFloat)))
    assert fpu == Decimal(str(round(flt.per_mac_overall * board.cycles_per_instruction, 2)))
    band = float(cores.value(m4, TR.latencyErrorBand))  # type: ignore[arg-type]
    assert band == pytest.approx(board.median_error, abs=0.0005)
    assert "calibrated" in str(cores.value(m4, TR.figureSource))
    # a different calibration gives different tables: nothing in them is typed in
    module = _script()
    other = module.build_cores_graph(calibrate(_scale(document, set(int8.fit_models), 2.0)))
    m4_other = _family(other, "cortex-m4")
    assert Decimal(str(other.value(m4_other, TR.cyclesPerMacInt8Simd))) != simd
    # a family without a board measurement has no error band, and says so
    m7 = _family(cores, "cortex-m7")
    assert cores.value(m7, TR.latencyErrorBand) is None
    assert str(cores.value(m7, TR.figureSource)).startswith("estimate")


def test_latency_estimate_on_held_out_boards_is_within_the_target(
    document: dict[str, Any],
) -> None:
    board = calibrate(document).board_for("cortex-m4")
    assert board is not None and board.median_error is not None
    assert board.median_error < 0.30  # the target: within ±30 % of real boards
