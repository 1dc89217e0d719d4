"""Retraining a vibration autoencoder on recent normal windows plus the original data.

The same architecture as ``kg_data/train_models.py`` (dense 64-48-24-16-24-48-64, trained
on standardised features with the standardisation folded into the weights), full-int8
post-training quantisation calibrated on a representative set of the training windows,
deterministic for a seed (``keras.utils.set_random_seed``). TensorFlow is imported when a
retraining runs and needs the ``[train]`` extra; without it :func:`retrain` raises
:class:`~tinyreg.core.errors.ConfigError` saying so.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tinyreg.core.errors import ConfigError

__all__ = ["RetrainResult", "retrain", "tensorflow_available"]


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what is written to file descriptor 1 to descriptor 2 meanwhile.

    TensorFlow's native code prints progress lines on stdout, where the CLI writes its
    JSON; while training and converting, the process's stdout is its stderr.
    """
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no descriptor 1 (an embedded interpreter): nothing to protect
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def tensorflow_available() -> bool:
    """Whether TensorFlow (the ``[train]`` extra) is importable."""
    import importlib.util

    return importlib.util.find_spec("tensorflow") is not None


@dataclass(frozen=True)
class RetrainResult:
    """A retrained model and what made it."""

    data: bytes
    parameters: dict[str, Any]
    loss: float
    snapshot_sha256: str
    snapshot_path: Path
    windows: int
    started: datetime
    ended: datetime


def retrain(
    recent: np.ndarray,
    original: np.ndarray,
    snapshots: Path,
    *,
    epochs: int = 8,
    seed: int = 0,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
) -> RetrainResult:
    """Train the autoencoder on recent and original windows and convert it to int8.

    Args:
        recent: Model inputs of recent normal windows from drifted devices (N, 64).
        original: Model inputs of the original training data (M, 64).
        snapshots: Where the training data snapshot is written (``<sha256>.npz``).
        epochs: Training epochs.
        seed: The seed (weights, shuffling).
        batch_size: Batch size.
        learning_rate: Adam's initial learning rate (cosine decay).

    Raises:
        ConfigError: Without TensorFlow.

    """
    if not tensorflow_available():
        raise ConfigError(
            "retraining needs TensorFlow: install the train extra (pip install 'tinyreg[train]')"
        )
    from tinyreg.kg_data.train_models import TASKS_BY_NAME, Dataset, convert, train_model

    started = datetime.now(UTC)
    x = np.concatenate([recent, original]).astype(np.float32)
    buffer = io.BytesIO()
    np.savez(buffer, recent=recent.astype(np.float32), original=original.astype(np.float32))
    blob = buffer.getvalue()
    sha = hashlib.sha256(blob).hexdigest()
    snapshots.mkdir(parents=True, exist_ok=True)
    path = snapshots / f"{sha}.npz"
    path.write_bytes(blob)
    spec = replace(
        TASKS_BY_NAME["vibration"],
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
    )
    data = Dataset(
        x_train=x,
        y_train=np.zeros(len(x), dtype=np.int32),
        x_test=x[:1],
        y_test=np.zeros(1, dtype=np.int32),
    )
    with _stdout_to_stderr():  # TensorFlow's converter prints to the process's stdout
        model = train_model(spec, data, seed)
        rng = np.random.default_rng(seed)
        representative = x[rng.permutation(len(x))[:200]]
        tflite = convert(model, "int8", representative)
        reconstruction = np.asarray(model.predict(x, verbose=0))
    loss = float(np.mean((reconstruction - x) ** 2))
    return RetrainResult(
        data=tflite,
        parameters={
            "architecture": "dense 64-48-24-16-24-48-64",
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "seed": seed,
            "quantization": "int8 (full integer, representative set of 200 windows)",
            "recent_windows": len(recent),
            "original_windows": len(original),
        },
        loss=loss,
        snapshot_sha256=sha,
        snapshot_path=path,
        windows=len(x),
        started=started,
        ended=datetime.now(UTC),
    )
