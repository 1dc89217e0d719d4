"""Thing Descriptions for tests: a real board's TD (the Arduino Nano 33 BLE Sense of
``kg_data``) under another id and title, with fields changed."""

from __future__ import annotations

import json
from typing import Any

from _paths import KG_DATA

NANO_TD = KG_DATA / "devices" / "arduino-nano-33-ble-sense.td.jsonld"


def nano_td(ident: str, title: str, **changes: Any) -> dict[str, Any]:
    """The Nano's TD as ``urn:tinyreg:device:<ident>`` titled ``title``, ``changes`` applied."""
    td: dict[str, Any] = json.loads(NANO_TD.read_text())
    td["id"] = f"urn:tinyreg:device:{ident}"
    td["title"] = title
    td.update(changes)
    return td
