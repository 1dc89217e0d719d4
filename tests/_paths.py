"""Where the tests find the repository's data and the seed catalogue."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = Path(os.environ.get("TINYREG_SEED_DIR", REPO.parent / "shared" / "seed"))
SEED_MODELS = SEED_DIR / "models"
SEED_DEVICES = SEED_DIR / "devices"
SEED_CSV = SEED_DIR / "models_information.csv"
KG_DATA = REPO / "kg_data"


def seed_models() -> list[Path]:
    """The seed's .tflite files; fails loudly when the seed catalogue is missing."""
    files = sorted(SEED_MODELS.glob("*.tflite"))
    assert files, f"seed models not found in {SEED_MODELS} (set TINYREG_SEED_DIR)"
    return files
