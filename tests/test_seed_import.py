"""Conversion of the seed project's Turtle device descriptions (registry/seed_import.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from _paths import SEED_DEVICES, requires_files
from tinyreg.core.errors import ThingDescriptionError
from tinyreg.registry.seed_import import (
    SeedConversion,
    convert_seed_device,
    convert_seed_devices,
)
from tinyreg.registry.td import td_to_graph
from tinyreg.registry.validate import check

SEED_FILES = sorted(SEED_DEVICES.glob("*.ttl")) if SEED_DEVICES.is_dir() else []


needs_seed = requires_files(SEED_FILES, SEED_DEVICES)


def conforms(conversion: SeedConversion) -> None:
    iri, graph = td_to_graph(conversion.td, conversion.source)
    assert check(graph) == [], conversion.source
    assert str(iri) == conversion.td["id"]


def convert_text(tmp_path: Path, text: str, name: str = "device.ttl") -> SeedConversion:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return convert_seed_device(path)


# ------------------------------------------------------------------------------ the seed files


@needs_seed
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_every_seed_file_converts_and_conforms(path: Path) -> None:
    conversion = convert_seed_device(path)
    conforms(conversion)
    assert conversion.assumptions
    assert all(isinstance(a, str) and a for a in conversion.assumptions)
    assert conversion.source == str(path)
    assert conversion.td["id"].startswith("urn:tinyreg:device:seed-")
    assert any("no runtime" in a for a in conversion.assumptions)
    assert conversion.td["runtime"] == {"name": "tflite-micro", "version": "0.dev20261023182759"}
    assert conversion.td["sensors"], "every seed device lists sensors"


@needs_seed
def test_directory_conversion_ids_unique() -> None:
    conversions = convert_seed_devices(SEED_DEVICES)
    assert len(conversions) == len(SEED_FILES) >= 6
    ids = [c.td["id"] for c in conversions]
    assert len(set(ids)) == len(ids)


@needs_seed
def test_tinyml_kit_pinned() -> None:
    conversion = convert_seed_device(SEED_DEVICES / "arduino_nano_ble_33_tinyml_kit.ttl")
    td = conversion.td
    assert td["id"] == "urn:tinyreg:device:seed-arduino-nano-ble-33-tinyml-kit"
    assert td["ram"] == {"capacityBytes": 191_488, "reservedBytes": 0}  # 187 kB × 1024
    assert td["flash"] == {"capacityBytes": 803_840, "reservedBytes": 0}  # 785 kB × 1024
    assert td["mcu"]["part"] == "nRF52840"
    assert td["mcu"]["coreFamily"] == "cortex-m4"
    assert {s["@type"] for s in td["sensors"]} == {
        "Thermometer",
        "Accelerometer",
        "Gyroscope",
        "Magnetometer",
        "Microphone",
        "Camera",
    }
    ram_note = next(a for a in conversion.assumptions if a.startswith("RAM given as 187"))
    assert "191,488" in ram_note and "0 reserved" in ram_note
    assert "image" in td["properties"]
    assert td["properties"]["temperature"]["forms"][0]["op"] == ["observeproperty", "readproperty"]


@needs_seed
def test_syntiant_flash_beyond_the_mcu_is_flagged() -> None:
    conversion = convert_seed_device(SEED_DEVICES / "syntiant_tinymlL_board.ttl")
    assert conversion.td["mcu"]["coreFamily"] == "cortex-m0plus"
    assert conversion.td["mcu"]["fpu"] is False
    assert conversion.td["ram"]["capacityBytes"] == 25 * 1024
    assert conversion.td["flash"]["capacityBytes"] == 1883 * 1024
    assert any("exceeds" in a and "262,144" in a for a in conversion.assumptions)


@needs_seed
def test_ssi_web_node_assumptions_are_explicit() -> None:
    conversion = convert_seed_device(SEED_DEVICES / "ssi_web_td.ttl")
    assert conversion.td["mcu"]["coreFamily"] == "other"
    assert conversion.td["mcu"]["core"] == "unknown"
    assert "datasheet" not in conversion.td
    assert any("SSI-Web" in a and "48 MHz" in a for a in conversion.assumptions)


@needs_seed
def test_edgebadge_assumption_for_the_tflite_kit() -> None:
    conversion = convert_seed_device(SEED_DEVICES / "adafruit_tflite_micro_kit.ttl")
    assert conversion.td["mcu"]["part"] == "ATSAMD51J19A"
    assert any("EdgeBadge" in a for a in conversion.assumptions)
    assert conversion.td["ram"]["capacityBytes"] == 96 * 1024


# ------------------------------------------------------------------------------ robustness

PREFIXES = """
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix s3n: <http://w3id.org/s3n/> .
@prefix schema: <https://schema.org/> .
@prefix ssn: <http://www.w3.org/ns/ssn/> .
@prefix sys: <http://www.w3.org/ns/ssn/systems/> .
@prefix td: <https://www.w3.org/2019/wot/td#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
"""


def test_drifting_namespaces_float_and_total(tmp_path: Path) -> None:
    text = (
        PREFIXES
        + """
@prefix sx: <http://example.org/other-sosa-extension#> .
@prefix mx: <http://example.org/s3n-ext/v2/> .
<http://example.org/dev/pybadge-2> a s3n:SmartSensor ;
  ssn:hasSubSystem [ a sx:Thermometer ] , [ a sx:HumiditySensor ] , [ a sx:FluxCapacitor ] ;
  ssn:hasSubSystem [ a s3n:MicroController ;
      s3n:hasSystemCapability [
        sys:hasSystemProperty [ a mx:RAM ; schema:value 187.5 ; schema:unitCode om:kilobyte ] ;
        sys:hasSystemProperty [ a mx:Flash ; schema:value "512" ; schema:unitCode om:kilobyte ;
                                rdfs:comment "Total flash." ] ] ] ;
  td:title "PyBadge in the lab" .
"""
    )
    conversion = convert_text(tmp_path, text, "PyBadge Lab.ttl")
    conforms(conversion)
    td = conversion.td
    assert td["id"] == "urn:tinyreg:device:seed-pybadge-lab"
    assert td["ram"] == {"capacityBytes": 192_000, "reservedBytes": 0}
    assert td["flash"] == {"capacityBytes": 524_288, "reservedBytes": 65_536}
    assert [s["@type"] for s in td["sensors"]] == ["OtherSensor", "HumiditySensor", "Thermometer"]
    assert any("FluxCapacitor" in a and "OtherSensor" in a for a in conversion.assumptions)
    assert any("stated as the total" in a for a in conversion.assumptions)
    assert td["mcu"]["part"] == "ATSAMD51J19A"


def test_missing_unit_and_fraction(tmp_path: Path) -> None:
    text = (
        PREFIXES
        + """
<urn:x:dev> a s3n:SmartSensor ; td:title "Mystery node" ;
  ssn:hasSubSystem [ a s3n:MicroController ;
    s3n:hasSystemCapability [
      sys:hasSystemProperty [ rdfs:comment "Free RAM." ; schema:value 10.3 ] ;
      sys:hasSystemProperty [ a <http://example.org/Flash> ; schema:value "2 MB" ] ] ] .
"""
    )
    conversion = convert_text(tmp_path, text)
    conforms(conversion)
    assert conversion.td["ram"]["capacityBytes"] == 10_547  # floor(10.3 × 1024)
    assert conversion.td["flash"]["capacityBytes"] == 2 * 1024 * 1024
    notes = " | ".join(conversion.assumptions)
    assert "has no unit" in notes
    assert "rounded down" in notes
    assert "stated as free memory" in notes
    assert "read as ram from its comment" in notes
    assert "board not in the seed board table" in notes
    assert conversion.td["mcu"]["coreFamily"] == "other"


def test_missing_ram_falls_back_to_the_datasheet(tmp_path: Path) -> None:
    text = (
        PREFIXES
        + """
<urn:x:dev> a s3n:SmartSensor ; td:title "Syntiant TinyML" ;
  ssn:hasSubSystem [ a s3n:MicroController ;
    s3n:hasSystemCapability [
      sys:hasSystemProperty [ a <urn:x:Flash> ; schema:value 200 ; schema:unitCode om:kilobyte ]
    ] ] .
"""
    )
    conversion = convert_text(tmp_path, text)
    conforms(conversion)
    assert conversion.td["ram"] == {"capacityBytes": 32_768, "reservedBytes": 8_192}
    assert conversion.td["sensors"] == []
    assert any("no ram figure" in a for a in conversion.assumptions)


def test_missing_memory_of_unknown_board_refused(tmp_path: Path) -> None:
    text = PREFIXES + '<urn:x:dev> a s3n:SmartSensor ; td:title "Nothing known" .\n'
    with pytest.raises(ThingDescriptionError, match="no ram figure") as info:
        convert_text(tmp_path, text)
    assert info.value.field == "ram"


def test_not_turtle_refused(tmp_path: Path) -> None:
    with pytest.raises(ThingDescriptionError, match="not valid Turtle") as info:
        convert_text(tmp_path, '{"id": "urn:x", "title": "a JSON TD"}', "device.ttl")
    assert info.value.source.endswith("device.ttl")


def test_binary_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "blob.ttl"
    path.write_bytes(b"\xff\xfe\x00\x01binary")
    with pytest.raises(ThingDescriptionError, match="not UTF-8"):
        convert_seed_device(path)


def test_missing_file_refused(tmp_path: Path) -> None:
    with pytest.raises(ThingDescriptionError, match="cannot read file"):
        convert_seed_device(tmp_path / "absent.ttl")


def test_no_device_node_refused(tmp_path: Path) -> None:
    text = PREFIXES + '<urn:x:a> rdfs:label "just a label" .\n'
    with pytest.raises(ThingDescriptionError, match="no device node"):
        convert_text(tmp_path, text)


def test_unknown_unit_refused(tmp_path: Path) -> None:
    text = (
        PREFIXES
        + """
<urn:x:dev> a s3n:SmartSensor ;
  ssn:hasSubSystem [ a s3n:MicroController ; s3n:hasSystemCapability [
      sys:hasSystemProperty [ a <urn:x:RAM> ; schema:value 4 ; schema:unitCode om:hectare ] ] ] .
"""
    )
    with pytest.raises(ThingDescriptionError, match="unknown memory unit 'hectare'"):
        convert_text(tmp_path, text)


def test_not_a_directory_refused(tmp_path: Path) -> None:
    with pytest.raises(ThingDescriptionError, match="not a directory"):
        convert_seed_devices(tmp_path / "missing")
