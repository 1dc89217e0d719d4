"""A generated corpus of models for the ingest benchmark and the arena tests.

Variant ``i`` of a seed model is the same graph with one weight byte changed (see
:func:`corpus_variant`), written round robin over the seed models, so a corpus of 1,000
spans the seed models' sizes (2.4 kB to 542 kB), operators and arenas, and every file
has its own SHA-256. No TensorFlow is needed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def corpus_variant(data: bytes, i: int) -> bytes:
    """Variant ``i`` of a model: the same graph with one weight byte changed.

    The byte (in the model's largest constant buffer) is chosen and changed by ``i``, so
    every variant has its own SHA-256 while its size, operators and tensors, and hence
    its arena, are those of the model it comes from.
    """
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema_fb

    buf = bytearray(data)
    model = schema_fb.Model.GetRootAs(buf, 0)
    largest = None
    for b in range(model.BuffersLength()):
        view = model.Buffers(b).DataAsNumpy()
        if not isinstance(view, int) and (largest is None or view.size > largest.size):
            largest = view
    if largest is None or largest.size == 0:
        return bytes(buf) + bytes(i % 16 + 1)  # no weights: trailing padding makes it unique
    position = (i * 7919) % largest.size
    largest[position] = (int(largest[position]) + 1 + i // 251) % 256
    return bytes(buf)


def write_corpus(models_dir: Path, out: Path, n: int) -> list[Path]:
    """Write ``n`` model variants (round robin over the seed models) to ``out``."""
    sources = sorted(models_dir.glob("*.tflite"))
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    seen: set[str] = set()
    for i in range(n):
        source = sources[i % len(sources)]
        data = corpus_variant(source.read_bytes(), i)
        digest = hashlib.sha256(data).hexdigest()
        assert digest not in seen, f"variant {i} repeats an earlier one"
        seen.add(digest)
        path = out / f"{source.stem}-v{i:04d}.tflite"
        path.write_bytes(data)
        paths.append(path)
    return paths
