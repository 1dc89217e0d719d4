"""The starter device TDs of kg_data/devices, and the refusal of bad device TDs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from rdflib import URIRef

from tinyreg.core.errors import ThingDescriptionError, Violation
from tinyreg.core.namespaces import DEVICE_PREFIX, TR
from tinyreg.registry.td import load_td, td_to_graph
from tinyreg.registry.validate import check

DEVICES_DIR = Path(__file__).resolve().parents[1] / "kg_data" / "devices"
DEVICE_FILES = sorted(DEVICES_DIR.glob("*.td.jsonld"))
BASE_FILE = DEVICES_DIR / "arduino-nano-33-ble-sense.td.jsonld"


def load(name: str) -> dict[str, Any]:
    return load_td(DEVICES_DIR / f"{name}.td.jsonld")


def violations_of(td: dict[str, Any]) -> list[Violation]:
    _, graph = td_to_graph(td, "<test>")
    return check(graph)


@pytest.fixture
def base_td() -> dict[str, Any]:
    return copy.deepcopy(load_td(BASE_FILE))


# ------------------------------------------------------------------------------ the data set


def test_at_least_twelve_devices() -> None:
    assert len(DEVICE_FILES) >= 12


@pytest.mark.parametrize("path", DEVICE_FILES, ids=lambda p: p.name)
def test_device_td_conforms(path: Path) -> None:
    td = load_td(path)
    iri, graph = td_to_graph(td, str(path))
    assert check(graph) == []
    assert str(iri) == td["id"]
    assert td["id"].startswith(DEVICE_PREFIX)
    assert path.name == td["id"].removeprefix(DEVICE_PREFIX) + ".td.jsonld"
    assert td["@context"] == [
        "https://www.w3.org/2022/wot/td/v1.1",
        "https://w3id.org/tinyreg/td/v1",
    ]
    assert td["runtime"]["name"] == "tflite-micro"
    assert td["datasheet"].startswith("https://")
    for memory in ("ram", "flash"):
        capacity = td[memory]["capacityBytes"]
        reserved = td[memory]["reservedBytes"]
        assert isinstance(capacity, int) and capacity > 0
        assert isinstance(reserved, int) and 0 <= reserved < capacity
    assert isinstance(td["mcu"]["clockHz"], int)
    for affordance in td.get("properties", {}).values():
        for form in affordance["forms"]:
            assert form["href"].startswith("mqtt://")
            assert set(form["op"]) <= {"readproperty", "observeproperty"}


def test_device_ids_unique() -> None:
    ids = [load_td(path)["id"] for path in DEVICE_FILES]
    assert len(ids) == len(set(ids))


def test_dsp_flag_is_consistent_with_the_core() -> None:
    """DSP is claimed exactly for cores whose optimised NN kernels use a SIMD/DSP ISA."""
    for path in DEVICE_FILES:
        mcu = load_td(path)["mcu"]
        expected = mcu["coreFamily"] in {"cortex-m4", "cortex-m7", "cortex-m33", "xtensa-lx7"}
        assert mcu["dsp"] is expected, path.name
        assert ("simd" in mcu) is expected, path.name


def test_pinned_nano_33_ble_sense() -> None:
    td = load("arduino-nano-33-ble-sense")
    assert td["ram"]["capacityBytes"] == 262_144
    assert td["flash"]["capacityBytes"] == 1_048_576
    assert td["mcu"] == {
        "part": "nRF52840",
        "core": "Cortex-M4F",
        "coreFamily": "cortex-m4",
        "clockHz": 64_000_000,
        "fpu": True,
        "dsp": True,
        "simd": "ARMv7E-M DSP",
    }
    # flash reservation starts with the 64 KiB bootloader (the sketch links at 0x10000)
    assert td["flash"]["reservedBytes"] >= 65_536
    sensors = {(s["@type"], s["part"]) for s in td["sensors"]}
    assert {
        ("IMU9DoF", "LSM9DS1"),
        ("PDMMicrophone", "MP34DT05"),
        ("Barometer", "LPS22HB"),
        ("HumiditySensor", "HTS221"),
        ("GestureSensor", "APDS-9960"),
    } <= sensors


def test_pinned_raspberry_pi_pico() -> None:
    td = load("raspberry-pi-pico")
    assert td["mcu"]["fpu"] is False
    assert td["mcu"]["dsp"] is False
    assert td["mcu"]["coreFamily"] == "cortex-m0plus"
    assert td["mcu"]["clockHz"] == 133_000_000
    assert td["ram"]["capacityBytes"] == 270_336
    assert td["flash"]["capacityBytes"] == 2_097_152
    assert [s["@type"] for s in td["sensors"]] == ["Thermometer"]


def test_pinned_esp32_s3() -> None:
    td = load("esp32-s3-devkitc-1-n8")
    assert td["mcu"]["coreFamily"] == "xtensa-lx7"
    assert td["mcu"]["fpu"] is True
    assert td["mcu"]["dsp"] is True
    assert td["ram"]["capacityBytes"] == 524_288
    assert td["flash"]["capacityBytes"] == 8_388_608


def test_pinned_syntiant_and_esp_eye() -> None:
    syntiant = load("syntiant-tinyml")
    assert syntiant["ram"]["capacityBytes"] == 32_768
    assert syntiant["flash"]["capacityBytes"] == 262_144
    assert syntiant["mcu"]["coreFamily"] == "cortex-m0plus"
    esp_eye = load("esp-eye")
    assert esp_eye["mcu"]["coreFamily"] == "xtensa-lx6"
    assert esp_eye["mcu"]["dsp"] is False
    assert esp_eye["ram"]["capacityBytes"] == 532_480  # on-chip SRAM only, not the PSRAM


def test_graph_carries_the_facts() -> None:
    iri, graph = td_to_graph(load("arduino-nano-33-ble-sense"))
    ram = graph.value(iri, TR.hasRAM)
    assert graph.value(ram, TR.capacityBytes).toPython() == 262_144
    sensor_types = {
        graph.value(s, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"))
        for s in graph.objects(iri, TR.hasSensor)
    }
    assert TR.IMU9DoF in sensor_types


# ------------------------------------------------------------------------------ refusals


def _only(violations: list[Violation], path: str) -> Violation:
    matching = [v for v in violations if v.path == path]
    assert matching, f"no violation on {path}: {violations}"
    return matching[0]


def test_missing_ram_refused(base_td: dict[str, Any]) -> None:
    del base_td["ram"]
    violation = _only(violations_of(base_td), "tr:hasRAM")
    assert violation.focus == base_td["id"]
    assert "'ram'" in violation.message
    assert "capacityBytes > 0" in violation.message


def test_negative_flash_refused(base_td: dict[str, Any]) -> None:
    base_td["flash"] = {"capacityBytes": -1048576, "reservedBytes": 0}
    violations = violations_of(base_td)
    device = _only(violations, "tr:hasFlash")
    assert "'flash'" in device.message
    capacity = _only(violations, "tr:capacityBytes")
    assert capacity.message == "capacityBytes must be one positive integer (bytes)"
    assert capacity.value == "-1048576"
    assert "tr:hasFlash" in capacity.focus


def test_reserved_above_capacity_refused(base_td: dict[str, Any]) -> None:
    base_td["ram"]["reservedBytes"] = base_td["ram"]["capacityBytes"] + 1
    violation = _only(violations_of(base_td), "tr:reservedBytes")
    assert "between 0 and capacityBytes" in violation.message


def test_unknown_sensor_type_refused(base_td: dict[str, Any]) -> None:
    base_td["sensors"].append({"@type": "Telepathy", "name": "mind reader"})
    violation = _only(violations_of(base_td), "tr:hasSensor")
    assert "is not a known sensor type" in violation.message
    assert "Telepathy" in violation.message
    assert violation.value == "tr:Telepathy"


def test_untyped_sensor_refused(base_td: dict[str, Any]) -> None:
    base_td["sensors"].append({"part": "LIS3DH"})
    violation = _only(violations_of(base_td), "tr:hasSensor")
    assert "has no type" in violation.message


def test_bad_core_family_refused(base_td: dict[str, Any]) -> None:
    base_td["mcu"]["coreFamily"] = "z80"
    violation = _only(violations_of(base_td), "tr:coreFamily")
    assert violation.message.startswith("mcu.coreFamily must be one of")
    assert violation.value == "z80"


def test_missing_runtime_refused(base_td: dict[str, Any]) -> None:
    del base_td["runtime"]
    violation = _only(violations_of(base_td), "tr:hasRuntime")
    assert "'runtime'" in violation.message


def test_not_json_refused(tmp_path: Path) -> None:
    bad = tmp_path / "broken.td.jsonld"
    bad.write_text('{"id": "urn:tinyreg:device:x", "title": ')
    with pytest.raises(ThingDescriptionError, match="not valid JSON") as info:
        load_td(bad)
    assert info.value.source == str(bad)


def test_json_array_refused() -> None:
    with pytest.raises(ThingDescriptionError, match="must be a JSON object"):
        load_td(json.dumps([1, 2]))


def test_missing_id_refused(base_td: dict[str, Any]) -> None:
    del base_td["id"]
    with pytest.raises(ThingDescriptionError, match="missing or not an absolute URI") as info:
        td_to_graph(base_td, "nano.td.jsonld")
    assert info.value.field == "id"
    assert info.value.source == "nano.td.jsonld"


def test_missing_title_refused(base_td: dict[str, Any]) -> None:
    del base_td["title"]
    with pytest.raises(ThingDescriptionError, match="missing or empty") as info:
        td_to_graph(base_td, "nano.td.jsonld")
    assert info.value.field == "title"


def test_missing_context_refused(base_td: dict[str, Any]) -> None:
    del base_td["@context"]
    with pytest.raises(ThingDescriptionError) as info:
        td_to_graph(base_td)
    assert info.value.field == "@context"
