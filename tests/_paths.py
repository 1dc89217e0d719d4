"""Where the tests find the repository's data and the seed catalogue."""

from __future__ import annotations

import functools
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


def requires_files(files: list[Path], where: Path):
    """Decorate seed tests so they fail loudly, never skip, when the seed data is missing."""

    def decorate(test):
        @functools.wraps(test)
        def run(*args, **kwargs):
            assert files, f"no seed files in {where} (set TINYREG_SEED_DIR)"
            return test(*args, **kwargs)

        return run

    return decorate


def seed_model(stem: str) -> Path:
    """One seed model by file stem; fails loudly when it is missing."""
    path = SEED_MODELS / f"{stem}.tflite"
    assert path.is_file(), f"seed model {path} not found (set TINYREG_SEED_DIR)"
    return path
