from pathlib import Path

import pytest

from _paths import SEED_CSV
from tinyreg.core.errors import CardError
from tinyreg.registry.cards import card_from_mapping, load_card, seed_cards


def test_seed_csv_gives_a_card_per_model_with_fractions_and_sensors():
    cards = seed_cards(SEED_CSV)
    assert len(cards) == 23
    yes_no = cards["Micro_Speech_Yes_No_1"]
    assert yes_no.task == "classification"
    assert yes_no.input_modality == "audio"
    assert yes_no.required_sensors == ("Microphone",)
    assert yes_no.metric is not None and yes_no.metric.value == pytest.approx(0.921)
    assert yes_no.metric.name == "top-1 accuracy"
    assert cards["Magic_Wand_2"].required_sensors == ("Accelerometer", "Gyroscope")
    assert cards["Magic_Wand_2"].input_modality == "motion"
    # a metric value of 0 in the seed means unknown
    assert cards["Hello_World"].metric is None
    assert cards["Person_Detection"].required_sensors == ("Camera",)
    assert cards["Anomaly_Detection_Autoencoder"].task == "unsupervised"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"task": "classification"}, "name"),
        ({"name": "m", "tsak": "classification"}, "tsak"),
        ({"name": "m", "task": "dancing"}, "task"),
        ({"name": "m", "input_modality": "smell"}, "input_modality"),
        ({"name": "m", "required_sensors": ["Nose"]}, "required_sensors"),
        ({"name": "m", "metric": {"name": "acc"}}, "metric"),
        ({"name": "m", "metric": {"name": "acc", "value": "high"}}, "metric"),
        ({"name": "m", "id": "Not A Slug"}, "id"),
    ],
)
def test_bad_card_fields_are_refused_naming_the_field(data, field):
    with pytest.raises(CardError) as caught:
        card_from_mapping(data, "card.yaml")
    assert caught.value.field == field
    assert field in str(caught.value)


def test_cards_load_from_yaml_and_json(tmp_path: Path):
    (tmp_path / "a.yaml").write_text("name: A\ntask: regression\nlabels: [x, y]\n")
    (tmp_path / "b.json").write_text('{"name": "B", "metric": {"name": "AUC", "value": 0.9}}')
    assert load_card(tmp_path / "a.yaml").labels == ("x", "y")
    assert load_card(tmp_path / "b.json").metric.value == 0.9


def test_unreadable_card_is_refused(tmp_path: Path):
    bad = tmp_path / "c.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(CardError, match="not valid"):
        load_card(bad)
    with pytest.raises(CardError, match="cannot read"):
        load_card(tmp_path / "missing.yaml")
