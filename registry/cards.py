"""Model cards: what a .tflite file cannot tell (name, task, sensors, dataset, metric, ...).

A card is a YAML or JSON mapping beside the model (``model.tflite`` + ``model.yaml``)::

    id: kws-yes-no-int8
    name: Keyword spotting yes/no (int8)
    task: classification
    input_modality: audio
    required_sensors: [Microphone]
    dataset: Speech Commands v2
    metric: {name: top-1 accuracy, value: 0.921}
    creator: Google
    license: Apache-2.0

Unknown keys are refused (a typo must not silently drop a fact). :func:`seed_cards` turns
the seed catalogue's ``models_information.csv`` into cards.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tinyreg.core.errors import CardError
from tinyreg.core.vocabulary import MODALITIES, SENSOR_TYPES, TASKS

__all__ = [
    "MODALITIES",
    "SENSOR_TYPES",
    "TASKS",
    "Metric",
    "ModelCard",
    "card_from_mapping",
    "load_card",
    "parse_card",
    "seed_cards",
    "slugify",
]

_FIELDS = (
    "id",
    "name",
    "description",
    "task",
    "input_modality",
    "required_sensors",
    "labels",
    "dataset",
    "metric",
    "creator",
    "license",
    "quantization",
    "framework",
    "source_url",
    "version",
)


def slugify(text: str) -> str:
    """Lowercase slug of letters, digits and dashes.

    >>> slugify("Micro_Speech_Yes_No_1")
    'micro-speech-yes-no-1'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "model"


@dataclass(frozen=True)
class Metric:
    """An evaluation figure of a model; ``value`` is a fraction for accuracies."""

    name: str
    value: float


@dataclass(frozen=True)
class ModelCard:
    """Human metadata of a model. Every field but ``name`` may be absent."""

    name: str
    id: str | None = None
    description: str | None = None
    task: str | None = None
    input_modality: str | None = None
    required_sensors: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    dataset: str | None = None
    metric: Metric | None = None
    creator: str | None = None
    license: str | None = None
    quantization: str | None = None
    framework: str | None = None
    source_url: str | None = None
    version: str | None = None


def _text(data: dict[str, Any], key: str, source: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise CardError(source, key, f"must be a string, not {type(value).__name__}")
    text = str(value).strip()
    return text or None


def _names(data: dict[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CardError(source, key, "must be a list of strings")
    return tuple(v.strip() for v in value if v.strip())


def card_from_mapping(data: dict[str, Any], source: str = "<card>") -> ModelCard:
    """Build a card from a parsed mapping, checking every field.

    Args:
        data: The mapping (from YAML/JSON).
        source: Name used in error messages.

    Returns:
        The card.

    Raises:
        CardError: On an unknown key, a missing name or a value out of its vocabulary.

    >>> card_from_mapping({"name": "m", "task": "classification"}).task
    'classification'

    """
    if not isinstance(data, dict):
        raise CardError(source, None, "a model card must be a mapping of fields")
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise CardError(source, unknown[0], f"unknown field; known fields: {', '.join(_FIELDS)}")
    name = _text(data, "name", source)
    if not name:
        raise CardError(source, "name", "required")
    ident = _text(data, "id", source)
    if ident is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ident):
        raise CardError(source, "id", f"{ident!r} must be a slug of a-z, 0-9 and '-'")
    task = _text(data, "task", source)
    if task is not None and task not in TASKS:
        raise CardError(source, "task", f"{task!r} is not one of {', '.join(TASKS)}")
    modality = _text(data, "input_modality", source)
    if modality is not None and modality not in MODALITIES:
        raise CardError(
            source, "input_modality", f"{modality!r} is not one of {', '.join(MODALITIES)}"
        )
    sensors = _names(data, "required_sensors", source)
    for sensor in sensors:
        if sensor not in SENSOR_TYPES:
            raise CardError(
                source,
                "required_sensors",
                f"{sensor!r} is not a sensor type; known: {', '.join(SENSOR_TYPES)}",
            )
    metric = None
    raw_metric = data.get("metric")
    if raw_metric is not None:
        if (
            not isinstance(raw_metric, dict)
            or "name" not in raw_metric
            or "value" not in raw_metric
        ):
            raise CardError(source, "metric", "must be a mapping with 'name' and 'value'")
        value = raw_metric["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CardError(source, "metric", "'value' must be a number")
        metric = Metric(str(raw_metric["name"]), float(value))
    return ModelCard(
        name=name,
        id=ident,
        description=_text(data, "description", source),
        task=task,
        input_modality=modality,
        required_sensors=sensors,
        labels=_names(data, "labels", source),
        dataset=_text(data, "dataset", source),
        metric=metric,
        creator=_text(data, "creator", source),
        license=_text(data, "license", source),
        quantization=_text(data, "quantization", source),
        framework=_text(data, "framework", source),
        source_url=_text(data, "source_url", source),
        version=_text(data, "version", source),
    )


def load_card(path: Path) -> ModelCard:
    """Read a YAML (``.yaml``/``.yml``) or JSON card.

    Raises:
        CardError: If the file cannot be read or parsed, or a field is invalid.

    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(str(path), None, f"cannot read: {exc}") from exc
    import yaml  # loaded when a card is read, not when the CLI starts

    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CardError(
            str(path), None, f"not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"
        ) from exc
    return card_from_mapping(data, str(path))


def parse_card(text: bytes | str, source: str = "<card>") -> ModelCard:
    """Read a card from its YAML or JSON text (an upload's).

    Raises:
        CardError: If it is not YAML or JSON, not a mapping, or a field is invalid.

    """
    import yaml

    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise CardError(source, None, f"not YAML or JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise CardError(source, None, "a card must be a mapping")
    return card_from_mapping(data, source)


# The seed catalogue's codes (see its README).
_SEED_SENSORS = {
    "0": "Camera",
    "1": "Microphone",
    "2": "Accelerometer",
    "3": "Gyroscope",
    "4": "Thermometer",
    "5": None,
}
_SEED_TASKS = {
    "0": "classification",
    "1": "object-detection",
    "2": "feature-extraction",
    "3": "unsupervised",
    "4": "other",
}
_SEED_METRICS = {"0": "top-1 accuracy", "1": "top-5 accuracy", "2": "other"}
_MODALITY_OF = {
    "Camera": "image",
    "Microphone": "audio",
    "Accelerometer": "motion",
    "Gyroscope": "motion",
    "Thermometer": "environmental",
}


def _missing(value: str | None) -> bool:
    return value is None or value.strip() in ("", "None", "N.A.", "NA")


def seed_cards(csv_path: Path) -> dict[str, ModelCard]:
    """Turn the seed catalogue's ``models_information.csv`` into cards, keyed by model name.

    Percentages become fractions (91.4 → 0.914); a metric value of 0 means unknown and is
    dropped; sensor codes become sensor types, and the input modality follows from them.

    Raises:
        CardError: If the file cannot be read or lacks the expected columns.

    """
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise CardError(str(csv_path), None, f"cannot read: {exc}") from exc
    cards = {}
    for number, row in enumerate(rows, start=2):
        where = f"{csv_path}:{number}"
        if "name" not in row or "sensors" not in row:
            raise CardError(where, None, "expected the columns name, sensors, metric, ...")
        sensors = [
            s
            for code in (row.get("sensors") or "").split(",")
            if (s := _SEED_SENSORS.get(code.strip())) is not None
        ]
        modality = _MODALITY_OF.get(sensors[0]) if sensors else "other"
        metric: dict[str, Any] | None = None
        raw_value = row.get("metric_value") or ""
        try:
            value = float(raw_value)
        except ValueError:
            value = 0.0
        if value > 0:
            metric = {
                "name": _SEED_METRICS.get((row.get("metric") or "").strip(), "other"),
                "value": round(value / 100.0, 6) if value > 1 else value,
            }
        description = (row.get("description") or "").strip()
        for key, label in (("input_comment", "Input"), ("output_comment", "Output")):
            note = row.get(key)
            if note is not None and not _missing(note):
                description += (
                    f" {label}: {note.strip()}" if description else f"{label}: {note.strip()}"
                )
        data: dict[str, Any] = {
            "id": slugify(row["name"]),
            "name": row["name"].strip(),
            "description": description or None,
            "task": _SEED_TASKS.get((row.get("category") or "").strip()),
            "input_modality": modality,
            "required_sensors": sensors,
            "dataset": None if _missing(row.get("dataset")) else row["dataset"].strip(),
            "creator": None if _missing(row.get("creator")) else row["creator"].strip(),
            "source_url": None if _missing(row.get("reference")) else row["reference"].strip(),
            "metric": metric,
        }
        card = card_from_mapping({k: v for k, v in data.items() if v is not None}, where)
        cards[card.name] = card
    return cards
