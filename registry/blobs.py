"""Model bytes kept by the registry, content-addressed, and the one model finder.

Every model registered through :class:`~tinyreg.registry.catalogue.Catalogue` has its
``.tflite`` bytes kept under their SHA-256: ``<root>/sha256/<hex>.tflite`` on disk (beside
an embedded store, in ``$TINYREG_MODEL_STORE``, or in a folder given to the registry), or
in memory for a throw-away registry. :func:`find_model` is the only way the registry finds
a model's bytes again (for ``bench``, ``deploy`` and what follows them): the kept bytes
first, then the folders a caller names, then ``$TINYREG_MODEL_PATH``, then the starter
models shipped in ``kg_data`` (for models registered before bytes were kept).

>>> blobs = MemoryBlobs()
>>> digest = blobs.put(b"TFL3 bytes")
>>> blobs.get(digest)
b'TFL3 bytes'
>>> find_model("0" * 64, blobs, folders=[]) is None
True
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

__all__ = [
    "MODEL_PATH_ENV",
    "MODEL_STORE_ENV",
    "DirectoryBlobs",
    "FoundModel",
    "MemoryBlobs",
    "ModelBlobs",
    "find_model",
    "model_path_folders",
]

MODEL_STORE_ENV = "TINYREG_MODEL_STORE"
"""Environment variable: the folder that keeps registered models' bytes."""
MODEL_PATH_ENV = "TINYREG_MODEL_PATH"
"""Environment variable: extra folders (``os.pathsep``-separated) searched for models."""


class ModelBlobs(Protocol):
    """Where a registry keeps model bytes, by SHA-256 (hex)."""

    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Keep ``data``; returns its SHA-256 (hex). Keeping the same bytes again is a no-op.

        ``sha256`` is the digest of ``data`` when the caller has it already (a parsed
        model's), so it is not computed again.
        """
        ...

    def get(self, sha256: str) -> bytes | None:
        """The bytes with this SHA-256, or ``None``."""
        ...

    def path(self, sha256: str) -> Path | None:
        """The file holding these bytes, or ``None`` (not kept, or kept in memory)."""
        ...


class DirectoryBlobs:
    """Model bytes in a folder: ``<root>/sha256/<hex>.tflite``, written atomically.

    Args:
        root: The folder (created when the first model is kept).

    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _file(self, sha256: str) -> Path:
        return self.root / "sha256" / f"{sha256}.tflite"

    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Keep ``data`` under its SHA-256 (a rename makes the write atomic)."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        target = self._file(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, sha256: str) -> bytes | None:
        """The kept bytes, or ``None``."""
        path = self.path(sha256)
        return path.read_bytes() if path is not None else None

    def path(self, sha256: str) -> Path | None:
        """The file holding the bytes, or ``None``."""
        target = self._file(sha256)
        return target if target.is_file() else None


class MemoryBlobs:
    """Model bytes in memory (for in-memory registries and stores without a folder)."""

    def __init__(self) -> None:
        self._data: dict[str, bytes] = {}

    def put(self, data: bytes, sha256: str | None = None) -> str:
        """Keep ``data`` under its SHA-256."""
        digest = sha256 or hashlib.sha256(data).hexdigest()
        self._data[digest] = data
        return digest

    def get(self, sha256: str) -> bytes | None:
        """The kept bytes, or ``None``."""
        return self._data.get(sha256)

    def path(self, sha256: str) -> Path | None:
        """Always ``None``: nothing is on disk."""
        return None


@dataclass(frozen=True)
class FoundModel:
    """A model's bytes and where they were found.

    Attributes:
        data: The ``.tflite`` bytes (their SHA-256 is the one asked for).
        source: The file they were read from, or ``None`` for bytes kept in memory.

    """

    data: bytes
    source: Path | None


def model_path_folders() -> list[Path]:
    """The folders of ``$TINYREG_MODEL_PATH``, read when called."""
    return [Path(p) for p in os.environ.get(MODEL_PATH_ENV, "").split(os.pathsep) if p]


def _tflite_files(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        if folder.is_file():
            yield folder
        elif folder.is_dir():
            yield from sorted(folder.rglob("*.tflite"))


def _starter_models() -> Path:
    return Path(str(resources.files("tinyreg.kg_data").joinpath("models")))


def find_model(
    sha256: str, blobs: ModelBlobs, folders: Iterable[Path] = (), *, file: Path | None = None
) -> FoundModel | None:
    """Find a registered model's bytes by SHA-256: the one model finder.

    Args:
        sha256: The registered SHA-256 (hex).
        blobs: The registry's kept bytes, looked at first.
        folders: Folders (or ``.tflite`` files) to search next, e.g. ``--search``.
        file: A file the caller names; when given it is the only candidate.

    Returns:
        The bytes and their file, or ``None`` if nothing has that digest. A ``file``
        whose digest differs is returned as well: the caller says why it is refused.

    """
    if file is not None:
        return FoundModel(file.read_bytes(), file)
    kept = blobs.get(sha256)
    if kept is not None:
        return FoundModel(kept, blobs.path(sha256))
    for path in _tflite_files([*folders, *model_path_folders(), _starter_models()]):
        if path.suffix != ".tflite":
            continue
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() == sha256:
            return FoundModel(data, path)
    return None
