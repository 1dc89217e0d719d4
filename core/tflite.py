"""Read ``.tflite`` model files without TensorFlow.

The flatbuffer is decoded with the schema module that ships in the
``tflite-micro`` wheel (``tflite_micro.tensorflow.lite.micro.python.
schema_py_generated``), so the registry only needs the micro runtime, never the
full TensorFlow package; the tables a model has hundreds of (tensors, their
quantization, operators, buffers) are read by a small direct reader of the same
layout, about twice as fast, which ``tests/test_tflite.py`` compares field by field
with the generated classes. :func:`parse_tflite` turns the bytes of a model into a
frozen :class:`ModelInfo`: subgraphs, tensors, operators, operator codes,
parameter counts, a quantization summary and multiply-accumulate counts.

Robustness:
    Every input that is not a well-formed TFLite flatbuffer raises
    :class:`~tinyreg.core.errors.ModelFileError`, never ``IndexError``,
    ``struct.error`` or a crash. The checks are, in order: the data is not
    empty and holds at least the 8-byte header; bytes 4 to 8 are the ``TFL3``
    file identifier; the root offset lies inside the data; every table, vector
    and string that is read lies inside the data (the generated accessors run
    over a bounds-checked buffer, so a slice that would silently come back
    short raises instead; the direct reader refuses negative positions too);
    every buffer's bytes lie inside the file, both
    inline buffers and buffers stored after the flatbuffer through the
    ``offset``/``size`` fields used by models larger than 2 GiB; and every
    index (operator code, tensor, buffer, subgraph input and output) is in
    range. Bytes that nothing references (alignment padding, for instance)
    are not checked, so cutting such bytes off the end of a file goes
    unnoticed; the model is still complete then.

Shapes:
    :attr:`TensorInfo.shape` is the static ``shape`` field, the one TFLite
    Micro allocates with; dynamic dimensions appear there as 1.
    :attr:`TensorInfo.shape_signature` is the ``shape_signature`` field (with
    -1 for dynamic dimensions) when the file has one, else ``None``. Sizes and
    MACs are computed from ``shape``.

MAC convention:
    One MAC is one multiply-accumulate of the operator's main loop, counted from
    the tensor shapes stored in the model (and the builtin options where the
    shapes alone do not say, such as pooling windows):

    * ``CONV_2D``: output elements × filter height × filter width × filter
      input channels (filter ``[out_c, kh, kw, in_c / groups]``), so grouped
      convolutions are counted correctly. ``CONV_3D`` likewise with depth.
    * ``DEPTHWISE_CONV_2D``: output elements × filter height × filter width
      (each output channel reads one input channel; the depth multiplier is
      already part of the output channel count).
    * ``FULLY_CONNECTED``: output elements × input features (weights
      ``[units, in_features]``).
    * ``TRANSPOSE_CONV``: input elements × filter height × filter width ×
      output channels (every input value is scattered over a window of every
      output channel).
    * ``BATCH_MATMUL``: output elements × the contracted dimension.
    * ``AVERAGE_POOL_2D``, ``MAX_POOL_2D``, ``L2_POOL_2D``: output elements ×
      filter area, i.e. a comparison or addition per window element counts as
      one MAC.
    * ``MEAN``, ``SUM`` and the other reductions: input elements.
    * Element-wise arithmetic (``ADD``, ``SUB``, ``MUL``, ``DIV``,
      ``SQUARED_DIFFERENCE``, ``MAXIMUM``, ``MINIMUM``, ``ADD_N``):
      output elements.
    * Recurrent layers (``UNIDIRECTIONAL_SEQUENCE_LSTM``, ``LSTM``, ``SVDF``,
      ``UNIDIRECTIONAL_SEQUENCE_RNN``, ``RNN``): batch × time steps × the
      elements of every constant 2-D weight input (each weight matrix is
      applied to one vector per step).
    * Everything else is 0: activations and lookups (``SOFTMAX``,
      ``LOGISTIC``, ``TANH``, ``RELU``...), data movement (``RESHAPE``,
      ``PAD``, ``CONCATENATION``...) and type conversions (``QUANTIZE``,
      ``DEQUANTIZE``) are not multiply-accumulates.

Parameter count:
    :attr:`ModelInfo.parameter_count` sums the elements of every tensor that
    has a non-empty buffer, each buffer counted once even when several tensors
    share it. The flatbuffer does not tell weights from other constants, so
    small constant shape or axis tensors (for ``RESHAPE`` and the like) are
    included; they are a handful of elements. :attr:`ModelInfo.parameter_bytes`
    is the stored size of those buffers.

Quantization summary:
    :attr:`ModelInfo.quantization` is decided from the operators that carry
    weights (convolutions, fully connected, batch matmul, recurrent layers):
    the pair (activation dtype of input 0, weight dtype of input 1) of each is
    classified as ``"float32"`` (float/float), ``"float16"`` (float32
    activations with weights dequantized from float16 constants), ``"hybrid"``
    (float activations with int8, uint8 or int4 weights), ``"int8"``
    (int8/int8 or int8/int4), ``"uint8"`` (uint8/uint8, the legacy asymmetric
    scheme), ``"int16x8"`` (int16 activations, int8 weights); one class for all
    such operators gives that class, several give ``"mixed"``. A model without
    such operators is classified from the dtypes of its non-constant float and
    integer-quantized tensors in the same way, ``"mixed"`` when they disagree.

Example:
    >>> try:
    ...     parse_tflite(b"")
    ... except ModelFileError as refused:
    ...     print(refused)
    <bytes>: not a valid .tflite model: file is empty

"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import struct
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, SupportsIndex

from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as _fb

from tinyreg.core.errors import ModelFileError
from tinyreg.core.literals import xml_safe

__all__ = [
    "FILE_IDENTIFIER",
    "MAX_MACS",
    "MAX_TENSOR_BYTES",
    "ModelInfo",
    "OperatorCode",
    "OperatorInfo",
    "QuantizationInfo",
    "SubgraphInfo",
    "TensorInfo",
    "builtin_operator_name",
    "dtype_name",
    "parse_tflite",
    "parse_tflite_file",
]

FILE_IDENTIFIER = b"TFL3"
"""The flatbuffer file identifier of TFLite models (bytes 4 to 8)."""

_HEADER_BYTES = 8  # root table offset (uint32) + file identifier

# --------------------------------------------------------------------------- enums


def _enum_names(enum_cls: type) -> dict[int, str]:
    return {
        value: name
        for name, value in vars(enum_cls).items()
        if not name.startswith("_") and isinstance(value, int)
    }


_OPERATOR_NAMES = _enum_names(_fb.BuiltinOperator)
_TENSOR_TYPE_NAMES = {code: name.lower() for code, name in _enum_names(_fb.TensorType).items()}
_PADDING_NAMES = _enum_names(_fb.Padding)
_ACTIVATION_NAMES = _enum_names(_fb.ActivationFunctionType)
_CUSTOM_CODE = _fb.BuiltinOperator.CUSTOM

# Bits per element; None where the size is not a function of the shape.
MAX_TENSOR_BYTES = 2**31 - 1
"""The largest tensor a model may declare: a 32-bit core addresses no more."""
MAX_MACS = 2**53
"""The most multiply-accumulates a model may declare per inference (exact as a double and an
``xsd:long``, so every consumer of the graph can hold the figure)."""

_DTYPE_BITS: dict[str, int | None] = {
    "float32": 32,
    "float16": 16,
    "int32": 32,
    "uint8": 8,
    "int64": 64,
    "string": None,
    "bool": 8,
    "int16": 16,
    "complex64": 64,
    "int8": 8,
    "float64": 64,
    "complex128": 128,
    "uint64": 64,
    "resource": None,
    "variant": None,
    "uint32": 32,
    "uint16": 16,
    "int4": 4,
    "bfloat16": 16,
    "int2": 2,
    "uint4": 4,
    "float8_e4m3fn": 8,
    "float8_e5m2": 8,
}


def dtype_name(code: int) -> str:
    """Return the lower-case name of a TFLite ``TensorType`` code.

    Args:
        code: The numeric ``TensorType`` value stored in the flatbuffer.

    Returns:
        The name, such as ``"int8"``; ``"unknown(<code>)"`` for a code this
        schema does not know.

    >>> dtype_name(9)
    'int8'

    """
    return _TENSOR_TYPE_NAMES.get(code, f"unknown({code})")


def builtin_operator_name(code: int) -> str:
    """Return the ``BuiltinOperator`` enum name of a builtin operator code.

    Args:
        code: The numeric builtin code.

    Returns:
        The name, such as ``"CONV_2D"``; ``"BUILTIN_<code>"`` for a code this
        schema does not know.

    >>> builtin_operator_name(3)
    'CONV_2D'

    """
    return _OPERATOR_NAMES.get(code, f"BUILTIN_{code}")


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class QuantizationInfo:
    """Affine quantization parameters of one tensor.

    Attributes:
        scheme: ``"per-tensor"`` (one scale) or ``"per-channel"`` (one scale
            per slice along :attr:`quantized_dimension`).
        scales: The scales.
        zero_points: The zero points (may be empty for symmetric schemes).
        quantized_dimension: The axis of per-channel quantization.

    """

    scheme: str
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    quantized_dimension: int


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of a subgraph.

    Attributes:
        index: Position in the subgraph's tensor list.
        name: The tensor's name (empty when the file has none).
        shape: The static shape (dynamic dimensions appear as 1).
        shape_signature: The shape with -1 for dynamic dimensions, or ``None``
            when the file stores no signature.
        dtype: The element type name, such as ``"int8"`` or ``"float32"``.
        size_bytes: Bytes the tensor's data takes at its static shape (packed
            for sub-byte types); for string, resource and variant tensors the
            stored buffer size, else 0.
        is_constant: Whether the tensor has data in the file (a non-empty
            buffer or an external buffer).
        is_variable: Whether the tensor is a variable (state kept between
            invocations).
        buffer: Index into the model's buffer list (0 is the empty buffer).
        buffer_bytes: Bytes of data stored for the tensor in the file.
        quantization: Affine quantization parameters, or ``None``.

    """

    index: int
    name: str
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...] | None
    dtype: str
    size_bytes: int
    is_constant: bool
    is_variable: bool
    buffer: int
    buffer_bytes: int
    quantization: QuantizationInfo | None

    @property
    def num_elements(self) -> int:
        """Number of elements at the static shape (1 for a scalar)."""
        return _num_elements(self.shape)


@dataclass(frozen=True)
class OperatorCode:
    """One entry of the model's operator code table.

    Attributes:
        name: The ``BuiltinOperator`` enum name, such as ``"CONV_2D"``
            (``"CUSTOM"`` for custom operators).
        code: The numeric builtin code (the larger of ``builtin_code`` and
            ``deprecated_builtin_code``, as the TFLite readers do).
        version: The operator version.
        custom_code: The custom operator's name, or ``None`` for builtins.
        is_custom: Whether this is a custom operator.

    """

    name: str
    code: int
    version: int
    custom_code: str | None
    is_custom: bool

    @property
    def label(self) -> str:
        """The builtin name, or the custom code for a custom operator."""
        if self.is_custom and self.custom_code:
            return self.custom_code
        return self.name


@dataclass(frozen=True)
class OperatorInfo:
    """One operator (node) of a subgraph.

    Attributes:
        index: Position in the subgraph's operator list (execution order).
        opcode: The builtin name (``"CUSTOM"`` for custom operators).
        opcode_index: Index into :attr:`ModelInfo.operator_codes`.
        version: The operator version from the operator code table.
        custom_code: The custom operator's name, or ``None``.
        inputs: Input tensor indices (-1 marks an omitted optional input).
        outputs: Output tensor indices.
        macs: Multiply-accumulate count (see the module docstring).
        options: The builtin options as snake_case keys with scalar or tuple
            values; padding and fused activation are given by name.

    """

    index: int
    opcode: str
    opcode_index: int
    version: int
    custom_code: str | None
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    macs: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubgraphInfo:
    """One subgraph.

    Attributes:
        index: Position in the model's subgraph list.
        name: The subgraph's name (empty when the file has none).
        tensors: Every tensor of the subgraph.
        operators: Every operator, in execution order.
        inputs: Indices of the subgraph's input tensors.
        outputs: Indices of the subgraph's output tensors.

    """

    index: int
    name: str
    tensors: list[TensorInfo]
    operators: list[OperatorInfo]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    @property
    def macs(self) -> int:
        """Total MACs of the subgraph's operators."""
        return sum(op.macs for op in self.operators)


@dataclass(frozen=True)
class ModelInfo:
    """Everything :func:`parse_tflite` reads from a model.

    Attributes:
        source: The path or label the model was read from.
        sha256: Hex SHA-256 of the file's bytes.
        size_bytes: File size.
        version: The flatbuffer schema version (3 for current models).
        description: The model's description string (e.g. ``"MLIR Converted."``).
        subgraphs: Every subgraph; subgraph 0 is the main graph.
        operator_codes: The operator code table.
        inputs: Input tensors of subgraph 0.
        outputs: Output tensors of subgraph 0.
        macs: Total MACs over all subgraphs.
        parameter_count: Elements of constant tensors (each buffer once).
        parameter_bytes: Stored bytes of those constant buffers.
        quantization: One of ``"int8"``, ``"uint8"``, ``"int16x8"``,
            ``"float32"``, ``"float16"``, ``"hybrid"``, ``"mixed"``.
        operator_counts: Operator label → number of uses (custom operators are
            listed under their custom code).
        metadata_names: Names of the model's metadata entries.
        min_runtime_version: The ``min_runtime_version`` metadata, if present.

    """

    source: str
    sha256: str
    size_bytes: int
    version: int
    description: str
    subgraphs: list[SubgraphInfo]
    operator_codes: list[OperatorCode]
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    macs: int
    parameter_count: int
    parameter_bytes: int
    quantization: str
    operator_counts: dict[str, int]
    metadata_names: list[str] = field(default_factory=list)
    min_runtime_version: str | None = None

    @property
    def operator_count(self) -> int:
        """Number of operators over all subgraphs."""
        return sum(len(sg.operators) for sg in self.subgraphs)

    @property
    def tensor_count(self) -> int:
        """Number of tensors over all subgraphs."""
        return sum(len(sg.tensors) for sg in self.subgraphs)


# --------------------------------------------------------------------------- bounded buffer


class _OutOfBoundsError(Exception):
    """Raised by :class:`_BoundedBuffer` for a slice that leaves the data."""


class _BoundedBuffer(bytearray):
    """A ``bytearray`` whose slices raise instead of coming back short.

    The generated accessors read strings with ``bytes(buf[start:start + n])``,
    which silently truncates at the end of the data; numeric reads go through
    ``struct.unpack_from``, which already raises (the direct reader's vectors too,
    after a bounds check of their own).
    """

    def __getitem__(self, key: SupportsIndex | slice) -> Any:  # type: ignore[override]
        if isinstance(key, slice):
            size = len(self)
            for bound in (key.start, key.stop):
                if bound is not None and not 0 <= bound <= size:
                    raise _OutOfBoundsError(
                        f"a string at offset {bound} lies outside the {size} bytes"
                    )
        return super().__getitem__(key)


# Exceptions the generated accessors raise on corrupt or truncated data.
_DECODE_ERRORS = (
    _OutOfBoundsError,
    struct.error,
    IndexError,
    ValueError,
    TypeError,
    OverflowError,
    UnicodeDecodeError,
    AttributeError,
)


# --------------------------------------------------------------------------- parsing


def parse_tflite_file(path: str | PathLike[str]) -> ModelInfo:
    """Read and parse a ``.tflite`` file.

    Args:
        path: The file to read.

    Returns:
        The parsed model.

    Raises:
        ModelFileError: The file cannot be read or is not a valid TFLite model.

    """
    label, data = read_model_file(path)
    return parse_tflite(data, source=label)


def read_model_file(path: str | PathLike[str]) -> tuple[str, bytes]:
    """Read a model file's bytes, with its path as the label for messages.

    Raises:
        ModelFileError: The file cannot be read.

    """
    label = str(path)
    try:
        return label, Path(path).read_bytes()
    except OSError as exc:
        raise ModelFileError(label, f"cannot read the file: {exc.strerror or exc}") from exc


def parse_tflite(data: bytes, source: str = "<bytes>") -> ModelInfo:
    """Parse the bytes of a ``.tflite`` model.

    Args:
        data: The whole file.
        source: A path or label used in error messages and kept in
            :attr:`ModelInfo.source`.

    Returns:
        The parsed model.

    Raises:
        ModelFileError: The data is not a valid TFLite flatbuffer (empty,
            truncated, wrong file identifier, out-of-range offsets or indices).

    >>> try:
    ...     parse_tflite(b"just some text", source="notes.tflite")
    ... except ModelFileError as exc:
    ...     exc.detail.split(" (")[0]
    'missing TFL3 file identifier'

    """
    _check_header(bytes(data[:_HEADER_BYTES]), len(data), source)
    buf = _BoundedBuffer(data)
    try:
        return _Parser(buf, source).parse()
    except ModelFileError:
        raise
    except _DECODE_ERRORS as exc:
        raise ModelFileError(source, _decode_error_detail(exc, len(data))) from exc
    except RecursionError as exc:  # pragma: no cover - cyclic offsets in hostile input
        raise ModelFileError(source, "corrupt flatbuffer: cyclic offsets") from exc


def _check_header(head: bytes, size: int, source: str) -> None:
    if size == 0:
        raise ModelFileError(source, "file is empty")
    if size < _HEADER_BYTES:
        raise ModelFileError(
            source, f"truncated: {size} bytes is shorter than the {_HEADER_BYTES}-byte header"
        )
    ident = head[4:8]
    if ident != FILE_IDENTIFIER:
        hint = ""
        if _looks_like_text(head):
            hint = "; the data looks like text, not a flatbuffer"
        raise ModelFileError(
            source, f"missing TFL3 file identifier (bytes 4-8 are {ident!r}{hint})"
        )
    (root,) = struct.unpack_from("<I", head, 0)
    if root + 4 > size:
        raise ModelFileError(
            source, f"truncated: root table offset {root} is beyond the end of the file ({size} B)"
        )


_STRUCT_READ = re.compile(r"unpacking (\d+) bytes at offset (-?\d+)")


def _decode_error_detail(exc: Exception, size: int) -> str:
    """Word a low-level decoding failure for :class:`ModelFileError`."""
    read = _STRUCT_READ.search(str(exc)) if isinstance(exc, struct.error) else None
    if read is not None:
        width, offset = read.groups()
        return (
            f"truncated or corrupt flatbuffer: a {width}-byte field at offset {offset} lies "
            f"beyond the end of the file ({size} B)"
        )
    if isinstance(exc, _OutOfBoundsError):
        return f"truncated or corrupt flatbuffer: {exc}"
    return (
        f"truncated or corrupt flatbuffer: a table, vector or string lies outside the {size} "
        f"bytes of the file ({type(exc).__name__}: {exc})"
    )


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def _decode(raw: bytes | None) -> str:
    """A name from the file as text every consumer of the graph accepts (see ``xml_safe``)."""
    if raw is None:
        return ""
    return xml_safe(raw.decode("utf-8", errors="replace"))


def _as_ints(values: Any) -> tuple[int, ...]:
    """Convert an ``...AsNumpy()`` result (0 when the vector is absent) to ints."""
    if isinstance(values, int):
        return ()
    return tuple(values.tolist())  # Python ints, as int(v) gives, without a loop


def _checked_length(length: int, get_last: Callable[[int], object]) -> int:
    """Validate a vector of tables: its last offset must be readable."""
    if length:
        get_last(length - 1)
    return length


# A direct reader of the tables parsed most often (a model has hundreds of tensors): the
# generated accessors look the vtable up again for every field and check every number
# they read, which made tensors most of the parse time. These functions read a table's
# vtable once and its fields with precompiled structs, with the same layout rules and
# the same bounds (a position outside the data raises, as the accessors do).
_U16 = struct.Struct("<H")
_I32 = struct.Struct("<i")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_TENSOR_FIELDS = 11  # shape .. external_buffer (schema fields 0-10)
_QUANTIZATION_FIELDS = 7  # min .. quantized_dimension
_OPERATOR_FIELDS = 13  # opcode_index .. builtin_options_2


def _at(position: int, size: int) -> int:
    """A position to read at: negative ones would read from the end, so they raise."""
    if not 0 <= position < size:
        raise _OutOfBoundsError(f"offset {position} lies outside the {size} bytes")
    return position


def _vtable(buf: _BoundedBuffer, table: int) -> int:
    """Where the vtable of the table at ``table`` lies."""
    size = len(buf)
    return _at(table - _I32.unpack_from(buf, _at(table, size))[0], size)


def _fields(buf: _BoundedBuffer, table: int, count: int) -> list[int]:
    """The absolute positions of a table's first ``count`` fields (0 for an absent one)."""
    vtable = _vtable(buf, table)
    present = max(0, min(count, (_U16.unpack_from(buf, vtable)[0] - 3) // 2))
    offsets = struct.unpack_from(f"<{present}H", buf, vtable + 4) if present else ()
    return [table + o if o else 0 for o in offsets] + [0] * (count - present)


def _target(buf: _BoundedBuffer, position: int) -> int:
    """Where the offset stored at ``position`` points (a table, vector or string)."""
    return position + _U32.unpack_from(buf, _at(position, len(buf)))[0]


def _vector_at(buf: _BoundedBuffer, position: int) -> tuple[int, int]:
    """The start and length of the vector (or string) referenced at ``position``."""
    start = _target(buf, position)
    return start + 4, _U32.unpack_from(buf, _at(start, len(buf)))[0]


_NUMBER_SIZES = {"i": 4, "f": 4, "q": 8}


def _numbers(buf: _BoundedBuffer, position: int, code: str = "i") -> tuple[Any, ...]:
    """The numbers of the vector referenced at ``position`` (``()`` when it is absent, 0).

    ``code`` is the :mod:`struct` code of one element (little-endian): ``i`` int32, ``f``
    float32 (each exact as a Python float), ``q`` int64. A vector reaching past the data
    raises :class:`_OutOfBoundsError` (most vectors are a few numbers long: ``struct`` reads
    them several times faster than ``numpy.frombuffer``).
    """
    if not position:
        return ()
    start, length = _vector_at(buf, position)
    end = start + length * _NUMBER_SIZES[code]
    if end > len(buf):
        raise _OutOfBoundsError(
            f"a vector of {length:,} numbers at offset {start} ends past the {len(buf)} bytes"
        )
    return struct.unpack_from(f"<{length}{code}", buf, start)


def _string(buf: _BoundedBuffer, position: int) -> bytes:
    start, length = _vector_at(buf, position)
    return bytes(buf[start : start + length])


def _table_positions(buf: _BoundedBuffer, position: int) -> list[int]:
    """The tables of a vector of tables referenced at ``position``."""
    start, length = _vector_at(buf, position)
    if not length:
        return []
    offsets = struct.unpack_from(f"<{length}I", buf, _at(start, len(buf)))
    return [start + 4 * j + o for j, o in enumerate(offsets)]


def _num_elements(shape: Sequence[int]) -> int:
    return math.prod(max(d, 1) for d in shape) if shape else 1


class _Parser:
    """Decodes one model held in a bounds-checked buffer."""

    def __init__(self, buf: _BoundedBuffer, source: str) -> None:
        self.buf = buf
        self.source = source
        self.size = len(buf)
        self.model = _fb.Model.GetRootAs(buf, 0)
        self.buffer_sizes: list[int] = []

    def fail(self, detail: str) -> ModelFileError:
        return ModelFileError(self.source, detail)

    # ------------------------------------------------------------------ model
    def parse(self) -> ModelInfo:
        m = self.model
        version = int(m.Version())
        description = _decode(m.Description())
        self.buffer_sizes = self._buffers()
        codes = self._operator_codes()
        n_subgraphs = _checked_length(m.SubgraphsLength(), m.Subgraphs)
        if n_subgraphs == 0:
            raise self.fail("the model has no subgraphs")
        subgraphs = [self._subgraph(i, m.Subgraphs(i), codes) for i in range(n_subgraphs)]
        metadata_names, min_runtime = self._metadata()

        macs = sum(sg.macs for sg in subgraphs)
        if macs > MAX_MACS:
            raise self.fail(
                f"the declared shapes give {macs:,} multiply-accumulates per inference, more than "
                f"{MAX_MACS:,} (no microcontroller model is near this; the shapes are wrong)"
            )
        main = subgraphs[0]
        inputs = [main.tensors[i] for i in main.inputs]
        outputs = [main.tensors[i] for i in main.outputs]

        counts: Counter[str] = Counter()
        for sg in subgraphs:
            for op in sg.operators:
                counts[codes[op.opcode_index].label] += 1

        seen_buffers: set[int] = set()
        parameter_count = 0
        parameter_bytes = 0
        for sg in subgraphs:
            for t in sg.tensors:
                if t.is_constant and t.buffer_bytes and t.buffer not in seen_buffers:
                    seen_buffers.add(t.buffer)
                    parameter_count += t.num_elements
                    parameter_bytes += t.buffer_bytes

        return ModelInfo(
            source=self.source,
            sha256=hashlib.sha256(self.buf).hexdigest(),
            size_bytes=self.size,
            version=version,
            description=description,
            subgraphs=subgraphs,
            operator_codes=codes,
            inputs=inputs,
            outputs=outputs,
            macs=macs,
            parameter_count=parameter_count,
            parameter_bytes=parameter_bytes,
            quantization=_quantization_summary(subgraphs),
            operator_counts=dict(counts),
            metadata_names=metadata_names,
            min_runtime_version=min_runtime,
        )

    # ---------------------------------------------------------------- buffers
    def _buffers(self) -> list[int]:
        m, buf = self.model, self.buf
        n = _checked_length(m.BuffersLength(), m.Buffers)
        if not n:
            return []
        buffers_at = _fields(buf, m._tab.Pos, 5)[4]
        sizes: list[int] = []
        for i, table in enumerate(_table_positions(buf, buffers_at)[:n]):
            data_at, offset_at, size_at = _fields(buf, table, 3)
            offset = _U64.unpack_from(buf, offset_at)[0] if offset_at else 0
            size = _U64.unpack_from(buf, size_at)[0] if size_at else 0
            if offset > 1:
                # Data stored after the flatbuffer, addressed from the file start.
                if offset + size > self.size:
                    raise self.fail(
                        f"truncated: buffer {i} offset {offset} + size {size} is beyond the end "
                        f"of the file ({self.size} B)"
                    )
                sizes.append(size)
                continue
            length = 0
            if data_at:
                start, length = _vector_at(buf, data_at)
                if length and start + length > self.size:
                    raise self.fail(
                        f"truncated: buffer {i} ({length} B) extends beyond the end of the file "
                        f"({self.size} B)"
                    )
            sizes.append(length)
        return sizes

    def _operator_codes(self) -> list[OperatorCode]:
        m = self.model
        n = _checked_length(m.OperatorCodesLength(), m.OperatorCodes)
        codes: list[OperatorCode] = []
        for i in range(n):
            oc = m.OperatorCodes(i)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            custom = oc.CustomCode()
            is_custom = code == _CUSTOM_CODE
            codes.append(
                OperatorCode(
                    name=builtin_operator_name(code),
                    code=code,
                    version=int(oc.Version()),
                    custom_code=_decode(custom) if custom is not None else None,
                    is_custom=is_custom,
                )
            )
        return codes

    def _metadata(self) -> tuple[list[str], str | None]:
        m = self.model
        n = _checked_length(m.MetadataLength(), m.Metadata)
        names: list[str] = []
        min_runtime: str | None = None
        for i in range(n):
            md = m.Metadata(i)
            name = _decode(md.Name())
            names.append(name)
            index = int(md.Buffer())
            if index >= len(self.buffer_sizes):
                raise self.fail(f"metadata {name!r} refers to buffer {index}, which does not exist")
            if name == "min_runtime_version" and self.buffer_sizes[index]:
                raw = m.Buffers(index).DataAsNumpy()
                if not isinstance(raw, int):
                    min_runtime = bytes(raw).split(b"\0", 1)[0].decode("ascii", "replace") or None
        return names, min_runtime

    # --------------------------------------------------------------- subgraph
    def _subgraph(self, index: int, sg: Any, codes: list[OperatorCode]) -> SubgraphInfo:
        n_tensors = _checked_length(sg.TensorsLength(), sg.Tensors)
        tensors_at, _, _, operators_at = _fields(self.buf, sg._tab.Pos, 4)
        positions = _table_positions(self.buf, tensors_at) if tensors_at else []
        tensors = [self._tensor(index, t, at) for t, at in enumerate(positions[:n_tensors])]
        inputs = _as_ints(sg.InputsAsNumpy())
        outputs = _as_ints(sg.OutputsAsNumpy())
        for kind, indices in (("input", inputs), ("output", outputs)):
            for t in indices:
                if not 0 <= t < n_tensors:
                    raise self.fail(
                        f"subgraph {index} {kind} tensor {t} is out of range (0..{n_tensors - 1})"
                    )
        n_ops = _checked_length(sg.OperatorsLength(), sg.Operators)
        positions = _table_positions(self.buf, operators_at) if n_ops and operators_at else []
        operators = [
            self._operator(index, o, at, codes, tensors) for o, at in enumerate(positions[:n_ops])
        ]
        return SubgraphInfo(
            index=index,
            name=_decode(sg.Name()),
            tensors=tensors,
            operators=operators,
            inputs=inputs,
            outputs=outputs,
        )

    def _tensor(self, subgraph: int, index: int, table: int) -> TensorInfo:
        buf = self.buf
        (shape_at, type_at, buffer_at, name_at, quant_at, variable_at, _, signature_at) = (
            fields := _fields(buf, table, _TENSOR_FIELDS)
        )[:8]
        shape = _numbers(buf, shape_at)
        signature = _numbers(buf, signature_at) if signature_at else None
        dtype = dtype_name(struct.unpack_from("<b", buf, type_at)[0] if type_at else 0)
        buffer = _U32.unpack_from(buf, buffer_at)[0] if buffer_at else 0
        if buffer >= len(self.buffer_sizes):
            raise self.fail(
                f"subgraph {subgraph} tensor {index} refers to buffer {buffer}, but the model has "
                f"{len(self.buffer_sizes)} buffers"
            )
        buffer_bytes = self.buffer_sizes[buffer]
        external_at = fields[10]
        external = _U32.unpack_from(buf, external_at)[0] if external_at else 0
        if any(d < -1 for d in shape):
            raise self.fail(f"subgraph {subgraph} tensor {index} has a negative dimension {shape}")
        bits = _DTYPE_BITS.get(dtype)
        size_bytes = buffer_bytes if bits is None else (_num_elements(shape) * bits + 7) // 8
        if bits is not None and buffer_bytes and size_bytes != buffer_bytes:
            raise self.fail(
                f"subgraph {subgraph} tensor {index} declares shape {list(shape)} of {dtype} "
                f"({size_bytes:,} B) but its buffer {buffer} holds {buffer_bytes:,} B"
            )
        if size_bytes > MAX_TENSOR_BYTES:
            raise self.fail(
                f"subgraph {subgraph} tensor {index} declares {size_bytes:,} B (shape "
                f"{list(shape)}), more than a 32-bit microcontroller can address"
            )
        return TensorInfo(
            index=index,
            name=_decode(_string(buf, name_at)) if name_at else "",
            shape=shape,
            shape_signature=signature,
            dtype=dtype,
            size_bytes=size_bytes,
            is_constant=buffer_bytes > 0 or external > 0,
            is_variable=bool(buf[variable_at]) if variable_at else False,
            buffer=buffer,
            buffer_bytes=buffer_bytes,
            quantization=_quantization(buf, _target(buf, quant_at)) if quant_at else None,
        )

    def _operator(
        self,
        subgraph: int,
        index: int,
        table: int,
        codes: list[OperatorCode],
        tensors: list[TensorInfo],
    ) -> OperatorInfo:
        buf = self.buf
        fields = _fields(buf, table, _OPERATOR_FIELDS)
        opcode_at, inputs_at, outputs_at, options_type_at = fields[:4]
        options2_type_at = fields[11]
        opcode_index = _U32.unpack_from(buf, opcode_at)[0] if opcode_at else 0
        if not 0 <= opcode_index < len(codes):
            raise self.fail(
                f"subgraph {subgraph} operator {index} uses operator code {opcode_index}, but the "
                f"model has {len(codes)}"
            )
        code = codes[opcode_index]
        inputs, outputs = _numbers(buf, inputs_at), _numbers(buf, outputs_at)
        n = len(tensors)
        for role, indices in (("input", inputs), ("output", outputs)):
            for t in indices:
                if not -1 <= t < n:
                    raise self.fail(
                        f"subgraph {subgraph} operator {index} ({code.name}) {role} tensor {t} is "
                        f"out of range (0..{n - 1})"
                    )
        options: dict[str, Any] = {}
        kind = buf[options_type_at] if options_type_at else 0
        kind2 = buf[options2_type_at] if options2_type_at else 0
        if kind or kind2:
            # decoded by the generated classes (dozens of option tables), or the decoding
            # of the same bytes again (most operators of a model share a few tables)
            key = _options_key(buf, kind, fields[4]) if kind and not kind2 else None
            known = _OPTIONS_SEEN.get(key) if key is not None else None
            if known is None:
                op = _fb.Operator()
                op.Init(buf, table)
                known = _builtin_options(op)
                if key is not None and _SCALAR_OPTIONS.get(kind, False):
                    if len(_OPTIONS_SEEN) >= _OPTIONS_SEEN_MAX:
                        _OPTIONS_SEEN.clear()
                    _OPTIONS_SEEN[key] = known
            options = dict(known)  # each operator its own dict
        return OperatorInfo(
            index=index,
            opcode=code.name,
            opcode_index=opcode_index,
            version=code.version,
            custom_code=code.custom_code,
            inputs=inputs,
            outputs=outputs,
            macs=_operator_macs(code.name, inputs, outputs, options, tensors),
            options=options,
        )


def _quantization(buf: _BoundedBuffer, table: int) -> QuantizationInfo | None:
    """A tensor's quantization parameters (the table at ``table``), if it has scales."""
    _, _, scale_at, zero_at, _, _, dimension_at = _fields(buf, table, _QUANTIZATION_FIELDS)
    scales = _numbers(buf, scale_at, "f")  # float32 values, each exact as a Python float
    if not scales:
        return None
    zero_points = _numbers(buf, zero_at, "q")
    return QuantizationInfo(
        scheme="per-channel" if len(scales) > 1 else "per-tensor",
        scales=scales,
        zero_points=zero_points,
        quantized_dimension=_I32.unpack_from(buf, dimension_at)[0] if dimension_at else 0,
    )


_CAMEL_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_CAMEL_CAP = re.compile(r"([a-z0-9])([A-Z])")


@functools.lru_cache(maxsize=1024)
def _snake(name: str) -> str:
    """``dilationWFactor`` → ``dilation_w_factor``."""
    return _CAMEL_CAP.sub(r"\1_\2", _CAMEL_WORD.sub(r"\1_\2", name)).lower()


_OPTIONS_SEEN: dict[bytes, dict[str, Any]] = {}
"""Decoded option tables of scalar fields only, by :func:`_options_key` of their bytes."""
_OPTIONS_SEEN_MAX = 4096
_SCALAR_OPTIONS: dict[int, bool] = {}
"""Builtin options types seen so far: whether every field of the type is a scalar."""


def _options_key(buf: _BoundedBuffer, kind: int, position: int) -> bytes | None:
    """The bytes that decide an option table of scalar fields, or ``None``.

    The type, the table's vtable, the table itself and the 8 bytes after it: every vtable
    entry must point inside the table, so a scalar field (8 bytes at most) read through it
    lies in those bytes whatever the table's layout. ``None`` when a position lies outside
    the data (the generated classes then decode, and refuse, as before).
    """
    if not position:
        return None
    size = len(buf)
    try:
        table = _target(buf, position)
        vtable = _vtable(buf, table)
        vsize, tsize = struct.unpack_from("<HH", buf, vtable)
        if vsize < 4 or vtable + vsize > size or tsize < 4 or table + tsize + 8 > size:
            return None
        offsets = struct.unpack_from(f"<{(vsize - 4) // 2}H", buf, vtable + 4)
    except (struct.error, _OutOfBoundsError):
        return None
    if any(o >= tsize for o in offsets):
        return None
    return (
        bytes((kind,))
        + bytes(buf[vtable : vtable + vsize])
        + bytes(buf[table + 4 : table + tsize + 8])
    )


def _builtin_options(op: Any) -> dict[str, Any]:
    """Decode the operator's builtin options into a plain dict."""
    kind = int(op.BuiltinOptionsType())
    table = op.BuiltinOptions()
    obj = None
    if kind and table is not None:
        obj = _fb.BuiltinOptionsCreator(kind, table)
        if obj is not None and kind not in _SCALAR_OPTIONS:
            defaults = vars(type(obj)()).values()
            _SCALAR_OPTIONS[kind] = all(isinstance(v, bool | int | float) for v in defaults)
    if obj is None:
        kind2 = int(op.BuiltinOptions2Type()) if hasattr(op, "BuiltinOptions2Type") else 0
        table2 = op.BuiltinOptions2() if kind2 else None
        if kind2 and table2 is not None:
            obj = _fb.BuiltinOptions2Creator(kind2, table2)
    if obj is None:
        return {}
    options: dict[str, Any] = {}
    for key, value in vars(obj).items():
        name = _snake(key)
        if isinstance(value, bool | int | float | str):
            if name == "padding" and isinstance(value, int):
                options[name] = _PADDING_NAMES.get(value, str(value))
            elif name == "fused_activation_function" and isinstance(value, int):
                options[name] = _ACTIVATION_NAMES.get(value, str(value))
            else:
                options[name] = value
        elif isinstance(value, list | tuple) or hasattr(value, "tolist"):
            items = value.tolist() if hasattr(value, "tolist") else list(value)
            if all(isinstance(v, int | float | bool) for v in items):
                options[name] = tuple(items)
    return options


# --------------------------------------------------------------------------- MACs

_ELEMENTWISE = frozenset(
    {"ADD", "SUB", "MUL", "DIV", "SQUARED_DIFFERENCE", "MAXIMUM", "MINIMUM", "ADD_N"}
)
_POOLS = frozenset({"AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D"})
_REDUCTIONS = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})
_RECURRENT = frozenset(
    {"UNIDIRECTIONAL_SEQUENCE_LSTM", "LSTM", "SVDF", "UNIDIRECTIONAL_SEQUENCE_RNN", "RNN"}
)
_WEIGHT_OPS = frozenset(
    {"CONV_2D", "CONV_3D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "BATCH_MATMUL"}
    | _RECURRENT
)


def _window_out(size: int, kernel: int, stride: int, dilation: int, padding: Any) -> int:
    stride = max(stride, 1)
    effective = (kernel - 1) * max(dilation, 1) + 1
    if padding == "VALID":
        return max((size - effective + stride) // stride, 0)
    return (size + stride - 1) // stride


def _operator_macs(
    name: str,
    inputs: tuple[int, ...],
    outputs: tuple[int, ...],
    options: dict[str, Any],
    tensors: list[TensorInfo],
) -> int:
    def tensor(position: int, of: tuple[int, ...] = inputs) -> TensorInfo | None:
        if position < len(of) and of[position] >= 0:
            return tensors[of[position]]
        return None

    out = tensor(0, outputs)
    out_elems = out.num_elements if out is not None and out.shape else 0

    if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        src, weights = tensor(0), tensor(1)
        if weights is None or len(weights.shape) != 4:
            return 0
        _, kh, kw, kin = weights.shape
        if out is None or len(out.shape) != 4:
            if src is None or len(src.shape) != 4:
                return 0
            n, h, w, c = src.shape
            oh = _window_out(
                h,
                kh,
                options.get("stride_h", 1),
                options.get("dilation_h_factor", 1),
                options.get("padding"),
            )
            ow = _window_out(
                w,
                kw,
                options.get("stride_w", 1),
                options.get("dilation_w_factor", 1),
                options.get("padding"),
            )
            if name == "CONV_2D":
                oc = weights.shape[0]
            else:
                oc = weights.shape[3] or c * max(options.get("depth_multiplier", 1), 1)
            out_elems = n * oh * ow * oc
        per_output = kh * kw * (kin if name == "CONV_2D" else 1)
        return out_elems * per_output
    if name == "CONV_3D":
        weights = tensor(1)
        if weights is None or len(weights.shape) != 5:
            return 0
        kd, kh, kw, kin, _ = weights.shape
        return out_elems * kd * kh * kw * kin
    if name == "FULLY_CONNECTED":
        weights = tensor(1)
        if weights is None or len(weights.shape) < 2:
            return 0
        return out_elems * weights.shape[-1]
    if name == "TRANSPOSE_CONV":
        weights, src = tensor(1), tensor(2)
        if weights is None or src is None or len(weights.shape) != 4:
            return 0
        oc, kh, kw, _ = weights.shape
        return src.num_elements * kh * kw * oc
    if name == "BATCH_MATMUL":
        lhs = tensor(0)
        if lhs is None or len(lhs.shape) < 2:
            return 0
        depth = lhs.shape[-2] if options.get("adj_x") else lhs.shape[-1]
        return out_elems * depth
    if name in _POOLS:
        return out_elems * options.get("filter_height", 1) * options.get("filter_width", 1)
    if name in _REDUCTIONS:
        src = tensor(0)
        return src.num_elements if src is not None else 0
    if name in _ELEMENTWISE:
        return out_elems
    if name in _RECURRENT:
        src = tensor(0)
        if src is None or not src.shape:
            return 0
        steps = _num_elements(src.shape[:-1])  # batch × time
        weight_elements = sum(
            t.num_elements
            for i in inputs[1:]
            if i >= 0 and (t := tensors[i]).is_constant and len(t.shape) == 2
        )
        return steps * weight_elements
    return 0


# --------------------------------------------------------------------------- quantization

_QUANT_CLASSES: dict[tuple[str, str], str] = {
    ("float32", "float32"): "float32",
    ("float32", "float16"): "float16",
    ("float32", "int8"): "hybrid",
    ("float32", "uint8"): "hybrid",
    ("float32", "int4"): "hybrid",
    ("float16", "float16"): "float16",
    ("int8", "int8"): "int8",
    ("int8", "int4"): "int8",
    ("uint8", "uint8"): "uint8",
    ("int16", "int8"): "int16x8",
}
_ACTIVATION_DTYPES = frozenset({"float32", "float16", "int8", "uint8", "int16"})


def _quantization_summary(subgraphs: list[SubgraphInfo]) -> str:
    classes: set[str] = set()
    for sg in subgraphs:
        producers = {out: op for op in sg.operators for out in op.outputs}
        for op in sg.operators:
            if op.opcode not in _WEIGHT_OPS or len(op.inputs) < 2:
                continue
            act_index, weight_index = op.inputs[0], op.inputs[1]
            if op.opcode == "TRANSPOSE_CONV" and len(op.inputs) >= 3:
                act_index = op.inputs[2]
            if act_index < 0 or weight_index < 0:
                continue
            act = sg.tensors[act_index].dtype
            weight = sg.tensors[weight_index].dtype
            producer = producers.get(weight_index)
            if (
                weight == "float32"
                and producer is not None
                and producer.opcode == "DEQUANTIZE"
                and producer.inputs
                and producer.inputs[0] >= 0
            ):
                weight = sg.tensors[producer.inputs[0]].dtype
            classes.add(_QUANT_CLASSES.get((act, weight), "mixed"))
    if not classes:
        dtypes = {
            t.dtype
            for sg in subgraphs
            for t in sg.tensors
            if not t.is_constant and t.dtype in _ACTIVATION_DTYPES
        }
        if len(dtypes) == 1:
            (only,) = dtypes
            classes.add(_QUANT_CLASSES.get((only, only), "mixed"))
        else:
            classes.add("mixed" if dtypes else "float32")
    return classes.pop() if len(classes) == 1 else "mixed"
