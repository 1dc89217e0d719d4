"""Tests of the .tflite parser against the real seed models and malformed files."""

from __future__ import annotations

import contextlib
import doctest
import hashlib
import math
import random
from collections.abc import Iterator
from pathlib import Path

import flatbuffers
import pytest
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

from _paths import SEED_MODELS, requires_files, seed_model
from tinyreg.core import tflite
from tinyreg.core.errors import ModelFileError
from tinyreg.core.tflite import ModelInfo, parse_tflite, parse_tflite_file

# --------------------------------------------------------------------------- seed data

SEED_FILES = sorted(SEED_MODELS.glob("*.tflite")) if SEED_MODELS.is_dir() else []


needs_seed = requires_files(SEED_FILES, SEED_MODELS)


_PARSED: dict[Path, ModelInfo] = {}


def parsed(path: Path) -> ModelInfo:
    if path not in _PARSED:
        _PARSED[path] = parse_tflite_file(path)
    return _PARSED[path]


# Operators that carry weights and must contribute MACs.
WEIGHT_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"}
QUANTIZATION_VALUES = {"int8", "uint8", "float32", "float16", "int16x8", "hybrid", "mixed"}


# --------------------------------------------------------------------------- every seed model


@needs_seed
def test_seed_catalogue_has_23_models() -> None:
    assert len(SEED_FILES) == 23


@needs_seed
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_seed_model_parses(path: Path) -> None:
    data = path.read_bytes()
    info = parsed(path)

    assert info.source == str(path)
    assert info.size_bytes == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert info.version == 3
    assert info.subgraphs and info.operator_count >= 1
    assert info.operator_codes

    main = info.subgraphs[0]
    assert info.inputs and info.outputs
    for tensor in [*info.inputs, *info.outputs]:
        assert tensor.shape and all(d > 0 for d in tensor.shape)
        assert not tensor.is_constant
        assert tensor.size_bytes > 0
    assert [t.index for t in info.inputs] == list(main.inputs)
    assert [t.index for t in info.outputs] == list(main.outputs)

    n = len(main.tensors)
    for op in main.operators:
        assert op.opcode == info.operator_codes[op.opcode_index].name
        assert all(-1 <= i < n for i in op.inputs)
        assert all(0 <= i < n for i in op.outputs)
        assert op.macs >= 0

    assert sum(info.operator_counts.values()) == info.operator_count
    assert info.macs == sum(op.macs for sg in info.subgraphs for op in sg.operators)
    if WEIGHT_OPS & set(info.operator_counts):
        assert info.macs > 0
        assert info.parameter_count > 0
    assert info.quantization in QUANTIZATION_VALUES
    assert 0 < info.parameter_bytes <= info.size_bytes


def _mangled(rng: random.Random, flips: tuple[int, ...]) -> Iterator[bytes]:
    """150 copies each of three seed models with 1 to ``max(flips)`` random bytes changed."""
    for stem in ("Hello_World", "Voice_Turn", "Micro_Speech_Yes_No_2"):
        data = seed_model(stem).read_bytes()
        for _ in range(150):
            mutated = bytearray(data)
            for _ in range(rng.choice(flips)):
                mutated[rng.randrange(8, len(mutated))] = rng.randrange(256)
            yield bytes(mutated)


def _raw_tensors(data: bytes) -> list[list[dict[str, object]]]:
    """Every tensor of every subgraph, read with the generated schema classes alone."""
    raw = fb.Model.GetRootAs(data, 0)
    type_names = {v: k.lower() for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
    subgraphs = []
    for s in range(raw.SubgraphsLength()):
        sg = raw.Subgraphs(s)
        tensors = []
        for index in range(sg.TensorsLength()):
            t = sg.Tensors(index)
            q = t.Quantization()
            scales = (
                () if q is None or q.ScaleIsNone() else tuple(float(x) for x in q.ScaleAsNumpy())
            )
            tensors.append(
                {
                    "name": tflite._decode(t.Name()),  # the parser's text policy
                    "shape": tuple(int(d) for d in t.ShapeAsNumpy()) if not t.ShapeIsNone() else (),
                    "signature": None
                    if t.ShapeSignatureIsNone()
                    else tuple(int(d) for d in t.ShapeSignatureAsNumpy()),
                    "dtype": type_names.get(t.Type(), tflite.dtype_name(t.Type())),
                    "buffer": t.Buffer(),
                    "buffer_bytes": raw.Buffers(t.Buffer()).Size()
                    if raw.Buffers(t.Buffer()).Offset() > 1
                    else raw.Buffers(t.Buffer()).DataLength(),
                    "variable": t.IsVariable(),
                    "scales": scales,
                    "zero_points": tuple(int(z) for z in q.ZeroPointAsNumpy())
                    if scales and not q.ZeroPointIsNone()
                    else (),
                    "dimension": q.QuantizedDimension() if scales else None,
                }
            )
        subgraphs.append(tensors)
    return subgraphs


def _raw_operators(data: bytes) -> list[list[tuple[object, ...]]]:
    """Every operator of every subgraph, read with the generated schema classes alone."""
    raw = fb.Model.GetRootAs(data, 0)
    return [
        [
            (
                op.OpcodeIndex(),
                tuple(int(i) for i in op.InputsAsNumpy()) if not op.InputsIsNone() else (),
                tuple(int(i) for i in op.OutputsAsNumpy()) if not op.OutputsIsNone() else (),
                tflite._builtin_options(op),
            )
            for op in (sg.Operators(k) for k in range(sg.OperatorsLength()))
        ]
        for sg in (raw.Subgraphs(s) for s in range(raw.SubgraphsLength()))
    ]


def _parsed_operators(info: ModelInfo) -> list[list[tuple[object, ...]]]:
    return [
        [(op.opcode_index, op.inputs, op.outputs, op.options) for op in sg.operators]
        for sg in info.subgraphs
    ]


def _parsed_tensors(info: ModelInfo) -> list[list[dict[str, object]]]:
    return [
        [
            {
                "name": t.name,
                "shape": t.shape,
                "signature": t.shape_signature,
                "dtype": t.dtype,
                "buffer": t.buffer,
                "buffer_bytes": t.buffer_bytes,
                "variable": t.is_variable,
                "scales": t.quantization.scales if t.quantization else (),
                "zero_points": t.quantization.zero_points if t.quantization else (),
                "dimension": t.quantization.quantized_dimension if t.quantization else None,
            }
            for t in sg.tensors
        ]
        for sg in info.subgraphs
    ]


@needs_seed
@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem)
def test_seed_model_tensors_match_the_raw_flatbuffer(path: Path) -> None:
    """Every field of every tensor and operator agrees with a read through the generated
    schema classes (the parser reads those tables with its own, faster reader)."""
    info = parsed(path)
    raw = fb.Model.GetRootAs(path.read_bytes(), 0)
    assert _parsed_tensors(info) == _raw_tensors(path.read_bytes())
    assert _parsed_operators(info) == _raw_operators(path.read_bytes())
    for tensor in info.subgraphs[0].tensors:
        assert tensor.is_constant == (raw.Buffers(tensor.buffer).DataLength() > 0)
    assert any(t.quantization for sg in info.subgraphs for t in sg.tensors) == (
        info.quantization != "float32"
    )


@needs_seed
def test_mangled_models_that_parse_give_the_generated_classes_tensors() -> None:
    """Byte flips: whatever the parser accepts, it reads (tensors and operators) as the
    generated schema classes do (and what it refuses is a ModelFileError)."""
    accepted = 0
    for mutated in _mangled(random.Random(11), (1, 2, 4)):
        try:
            info = parse_tflite(mutated)
        except ModelFileError:
            continue
        accepted += 1
        assert _parsed_tensors(info) == _raw_tensors(mutated)
        assert _parsed_operators(info) == _raw_operators(mutated)
    assert accepted > 100  # most flips land in weights and still parse


def _option_table_bytes(data: bytes) -> list[int]:
    """Positions of every byte of the models' option tables, their vtables and 8 after."""
    raw = fb.Model.GetRootAs(data, 0)
    positions: set[int] = set()
    for s in range(raw.SubgraphsLength()):
        sg = raw.Subgraphs(s)
        for k in range(sg.OperatorsLength()):
            table = sg.Operators(k).BuiltinOptions()
            if table is None:
                continue
            vtable = table.Pos - int.from_bytes(
                data[table.Pos : table.Pos + 4], "little", signed=True
            )
            vsize = int.from_bytes(data[vtable : vtable + 2], "little")
            tsize = int.from_bytes(data[vtable + 2 : vtable + 4], "little")
            positions.update(range(vtable, vtable + vsize))
            positions.update(range(table.Pos, min(len(data), table.Pos + tsize + 8)))
    return sorted(positions)


@needs_seed
def test_option_tables_decoded_once_read_as_the_generated_classes() -> None:
    """Operators sharing an option table's bytes share one decoding: a second parse, and
    models whose option tables (their vtables, and the bytes after) have flipped bytes,
    read every operator's options as the generated schema classes do."""
    models = [path.read_bytes() for path in SEED_FILES]
    first = [_parsed_operators(parse_tflite(data)) for data in models]
    assert tflite._OPTIONS_SEEN, "no option table was kept"
    again = [_parsed_operators(parse_tflite(data)) for data in models]
    assert again == first == [_raw_operators(data) for data in models]
    # each operator gets its own dict: changing one changes no later parse
    info = parse_tflite(models[0])
    for op in info.subgraphs[0].operators:
        op.options["stride_w"] = -1
    assert _parsed_operators(parse_tflite(models[0])) == first[0]
    rng = random.Random(5)
    accepted = 0
    for data in models:
        positions = _option_table_bytes(data)
        for _ in range(20 if positions else 0):
            mutated = bytearray(data)
            for position in rng.sample(positions, min(len(positions), rng.choice((1, 2, 3)))):
                mutated[position] ^= 1 << rng.randrange(8)
            try:
                parsed_ops = _parsed_operators(parse_tflite(bytes(mutated)))
            except ModelFileError:
                continue
            accepted += 1
            assert parsed_ops == _raw_operators(bytes(mutated))
    assert accepted > 100


# --------------------------------------------------------------------------- hand-checked MACs


def _raw_ops(path: Path) -> list[tuple[str, list[tuple[int, ...]], list[tuple[int, ...]], object]]:
    """(opcode, input shapes, output shapes, raw operator) read straight from the flatbuffer."""
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    model = fb.Model.GetRootAs(path.read_bytes(), 0)
    sg = model.Subgraphs(0)

    def shape(i: int) -> tuple[int, ...]:
        return tuple(int(d) for d in sg.Tensors(i).ShapeAsNumpy()) if i >= 0 else ()

    ops = []
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        code = model.OperatorCodes(op.OpcodeIndex())
        name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        ins = [shape(int(i)) for i in op.InputsAsNumpy()]
        outs = [shape(int(i)) for i in op.OutputsAsNumpy()]
        ops.append((name, ins, outs, op))
    return ops


@needs_seed
def test_hello_world_macs_by_hand() -> None:
    """Hello_World is three FULLY_CONNECTED layers 1→16→16→1: 16 + 256 + 16 = 288 MACs."""
    path = seed_model("Hello_World")
    ops = _raw_ops(path)
    assert [name for name, *_ in ops] == ["FULLY_CONNECTED"] * 3
    layers = [(ins[1][1], ins[1][0]) for _, ins, _, _ in ops]  # weights are [units, in]
    assert layers == [(1, 16), (16, 16), (16, 1)]
    by_hand = sum(n_in * n_out for n_in, n_out in layers)
    assert by_hand == 16 + 256 + 16 == 288

    info = parsed(path)
    assert info.macs == by_hand
    assert [op.macs for op in info.subgraphs[0].operators] == [16, 256, 16]
    assert info.operator_counts == {"FULLY_CONNECTED": 3}
    assert info.quantization == "int8"
    # 16 + 256 + 16 weights and 16 + 16 + 1 biases.
    assert info.parameter_count == 288 + 33


@needs_seed
def test_conv_model_macs_by_hand() -> None:
    """Magic_Wand_2: three stride-2 SAME 3x3 convolutions, a MEAN and a dense layer."""
    path = seed_model("Magic_Wand_2")
    expected = []
    for name, ins, outs, op in _raw_ops(path):
        if name == "CONV_2D":
            options = fb.Conv2DOptions()
            table = op.BuiltinOptions()
            options.Init(table.Bytes, table.Pos)
            n, h, w, _ = ins[0]
            oc, kh, kw, ic = ins[1]
            # Output size from the input, the strides and SAME padding, checked against the file.
            oh = math.ceil(h / options.StrideH())
            ow = math.ceil(w / options.StrideW())
            assert outs[0] == (n, oh, ow, oc)
            expected.append(n * oh * ow * oc * kh * kw * ic)
        elif name == "FULLY_CONNECTED":
            expected.append(ins[0][0] * ins[1][0] * ins[1][1])
        elif name == "MEAN":
            expected.append(math.prod(ins[0]))
        else:
            expected.append(0)
    # 16x16x16 outputs x 27 + 8x8x32 x 144 + 4x4x64 x 288 + 4x4x64 + 64x10
    assert expected == [110592, 294912, 294912, 1024, 640, 0]
    info = parsed(path)
    assert [op.macs for op in info.subgraphs[0].operators] == expected
    assert info.macs == sum(expected) == 702080


@needs_seed
def test_depthwise_model_macs_by_hand() -> None:
    """Micro_Speech_Yes_No_1: depthwise 10x8, multiplier 8, stride 2 on 49x40, then dense."""
    path = seed_model("Micro_Speech_Yes_No_1")
    info = parsed(path)
    ops = info.subgraphs[0].operators
    dw = next(op for op in ops if op.opcode == "DEPTHWISE_CONV_2D")
    assert dw.options["depth_multiplier"] == 8
    assert (dw.options["stride_h"], dw.options["stride_w"]) == (2, 2)
    # 25 x 20 x 8 outputs, 10 x 8 window each; the dense layer maps 4000 values to 4.
    assert dw.macs == 25 * 20 * 8 * 10 * 8
    assert info.macs == 25 * 20 * 8 * 10 * 8 + 4000 * 4


@needs_seed
def test_pooling_counts_window_elements() -> None:
    info = parsed(seed_model("ARM_DS_CNN_Small_"))
    pool = next(op for op in info.subgraphs[0].operators if op.opcode == "AVERAGE_POOL_2D")
    assert (pool.options["filter_height"], pool.options["filter_width"]) == (25, 5)
    assert pool.macs == 64 * 25 * 5


# --------------------------------------------------------------------------- summaries


@needs_seed
@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("Hello_World", "int8"),
        ("ARM_MicroNet_VWW_3", "int8"),
        ("Motion_Trainer_Left_Right", "int8"),  # float input/output around an int8 core
        ("Magic_Wand_1", "float32"),
        ("Mapping_Dance", "float32"),
        ("Person_Detection", "uint8"),  # legacy asymmetric uint8 weights and activations
    ],
)
def test_quantization_summary(stem: str, expected: str) -> None:
    assert parsed(seed_model(stem)).quantization == expected


@needs_seed
def test_per_channel_quantization_and_operator_codes() -> None:
    info = parsed(seed_model("ARM_DS_CNN_Small_"))
    conv = next(op for op in info.subgraphs[0].operators if op.opcode == "CONV_2D")
    weights = info.subgraphs[0].tensors[conv.inputs[1]]
    assert weights.is_constant and weights.dtype == "int8"
    assert weights.quantization is not None
    assert weights.quantization.scheme == "per-channel"
    assert len(weights.quantization.scales) == weights.shape[0]
    assert weights.quantization.quantized_dimension == 0
    names = {code.name for code in info.operator_codes}
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "SOFTMAX"} <= names
    assert not any(code.is_custom for code in info.operator_codes)
    inp = info.inputs[0]
    assert inp.quantization is not None and inp.quantization.scheme == "per-tensor"
    assert inp.size_bytes == 490 and inp.dtype == "int8"


# --------------------------------------------------------------------------- malformed files


def _refused(path: Path) -> ModelFileError:
    with pytest.raises(ModelFileError) as caught:
        parse_tflite_file(path)
    assert caught.value.path == str(path)
    return caught.value


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.tflite"
    path.write_bytes(b"")
    assert _refused(path).detail == "file is empty"


def test_text_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "readme.tflite"
    path.write_text("# Model card\n\nThis is not a model, just notes.\n", encoding="utf-8")
    detail = _refused(path).detail
    assert "missing TFL3 file identifier" in detail
    assert "looks like text" in detail


def test_random_bytes_are_refused(tmp_path: Path) -> None:
    rng = random.Random(1234)
    for size in (1, 7, 8, 100, 5000):
        path = tmp_path / f"random{size}.tflite"
        path.write_bytes(rng.randbytes(size))
        _refused(path)


def test_random_bytes_with_the_identifier_are_refused(tmp_path: Path) -> None:
    """Random data that passes the identifier check must still fail cleanly."""
    rng = random.Random(99)
    for i in range(300):
        data = bytearray(rng.randbytes(rng.randrange(8, 3000)))
        data[4:8] = b"TFL3"
        with pytest.raises(ModelFileError):
            parse_tflite(bytes(data), f"random{i}")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    assert "cannot read" in _refused(tmp_path / "absent.tflite").detail


@needs_seed
def test_wrong_identifier_is_refused(tmp_path: Path) -> None:
    data = bytearray(seed_model("Hello_World").read_bytes())
    data[4:8] = b"TFL2"
    path = tmp_path / "renamed.tflite"
    path.write_bytes(bytes(data))
    assert "missing TFL3 file identifier" in _refused(path).detail


def _repack(model: fb.ModelT, identifier: bytes | None = b"TFL3") -> bytes:
    builder = flatbuffers.Builder(1024)
    root = model.Pack(builder)
    if identifier is None:
        builder.Finish(root)
    else:
        builder.Finish(root, file_identifier=identifier)
    return bytes(builder.Output())


def _hello_model() -> fb.ModelT:
    return fb.ModelT.InitFromPackedBuf(bytearray(seed_model("Hello_World").read_bytes()), 0)


@needs_seed
def test_valid_flatbuffer_without_identifier_is_refused(tmp_path: Path) -> None:
    """A well-formed Model flatbuffer finished without the TFL3 identifier."""
    data = _repack(_hello_model(), identifier=None)
    path = tmp_path / "no_identifier.tflite"
    path.write_bytes(data)
    assert "missing TFL3 file identifier" in _refused(path).detail
    # The same model with the identifier is fine.
    assert parse_tflite(_repack(_hello_model())).macs == 288


@needs_seed
@pytest.mark.parametrize(
    ("stem", "cut"),
    [
        ("Hello_World", 1),
        ("Hello_World", 4),
        ("Hello_World", 8),
        ("Hello_World", 12),
        ("Hello_World", 64),
        ("Hello_World", 1000),
        ("Hello_World", -100),
        ("Hello_World", -1),
        ("Magic_Wand_2", 0.5),
        ("ARM_MicroNet_VWW_3", 0.25),
        ("ARM_MicroNet_VWW_3", 0.9),
        ("ARM_MicroNet_VWW_3", -1),
    ],
)
def test_truncated_file_is_refused(tmp_path: Path, stem: str, cut: float) -> None:
    data = seed_model(stem).read_bytes()
    if isinstance(cut, float):
        length = int(len(data) * cut)
    elif cut < 0:
        length = len(data) + cut
    else:
        length = cut
    path = tmp_path / f"{stem}_{length}.tflite"
    path.write_bytes(data[:length])
    detail = _refused(path).detail
    assert "truncated" in detail


@needs_seed
@pytest.mark.parametrize("field", ["shape", "scale", "zero_point"])
@pytest.mark.parametrize("length", [3, 1 << 20, 0xFFFFFFFF])
def test_a_vector_that_reaches_past_the_data_is_refused(field: str, length: int) -> None:
    """A tensor's shape or quantization vector whose length word was raised is refused.

    Three more numbers than the data holds after the vector (3 is added to what is left,
    in elements), a mebi-element one, and the largest length the word can hold: each is
    a :class:`ModelFileError` saying the vector ends past the data, never another exception.
    """
    data = bytearray(seed_model("Hello_World").read_bytes())
    tensor = fb.Model.GetRootAs(data, 0).Subgraphs(0).Tensors(0)
    table = tensor if field == "shape" else tensor.Quantization()
    slot = {"shape": 4, "scale": 8, "zero_point": 10}[field]
    start = table._tab.Vector(table._tab.Offset(slot))
    size = 8 if field == "zero_point" else 4
    if length == 3:
        length = (len(data) - start) // size + 3
    data[start - 4 : start] = length.to_bytes(4, "little")
    with pytest.raises(ModelFileError) as refused:
        parse_tflite(bytes(data))
    assert f"ends past the {len(data)} bytes" in str(refused.value)


@needs_seed
def test_every_truncation_of_a_small_model_is_refused() -> None:
    data = seed_model("Hello_World").read_bytes()
    for length in range(len(data)):
        with pytest.raises(ModelFileError):
            parse_tflite(data[:length])


@needs_seed
def test_corrupted_models_never_raise_anything_else() -> None:
    """Random byte flips either still parse or raise ModelFileError."""
    for mutated in _mangled(random.Random(7), (1, 4, 16)):
        with contextlib.suppress(ModelFileError):
            parse_tflite(mutated)


@needs_seed
@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: setattr(m.subgraphs[0].operators[0], "inputs", [999, 1, 2]), "out of range"),
        (lambda m: setattr(m.subgraphs[0].operators[0], "opcodeIndex", 50), "operator code 50"),
        (lambda m: setattr(m.subgraphs[0].tensors[0], "buffer", 500), "buffer 500"),
        (lambda m: setattr(m.subgraphs[0], "inputs", [77]), "out of range"),
        (lambda m: setattr(m, "subgraphs", []), "no subgraphs"),
    ],
    ids=["tensor-index", "opcode-index", "buffer-index", "subgraph-input", "no-subgraph"],
)
def test_out_of_range_indices_are_refused(mutate, message: str) -> None:
    model = _hello_model()
    mutate(model)
    with pytest.raises(ModelFileError) as caught:
        parse_tflite(_repack(model))
    assert message in caught.value.detail


def _with_external_buffer(offset_past_end: int = 0) -> tuple[bytes, int]:
    """Hello_World with its largest buffer moved behind the flatbuffer (offset/size fields)."""
    model = _hello_model()
    sizes = [len(b.data) if b.data is not None else 0 for b in model.buffers]
    index = max(range(len(sizes)), key=sizes.__getitem__)
    payload = bytes(model.buffers[index].data.tobytes())
    model.buffers[index].data = None
    model.buffers[index].size = len(payload)
    model.buffers[index].offset = 1 << 40  # placeholder of the same encoded width
    length = len(_repack(model))
    start = -(-length // 16) * 16
    model.buffers[index].offset = start + offset_past_end
    flat = _repack(model)
    assert len(flat) == length
    return flat + bytes(start - length) + payload, len(payload)


@needs_seed
def test_buffer_data_outside_the_flatbuffer() -> None:
    data, size = _with_external_buffer()
    info = parse_tflite(data)
    original = parsed(seed_model("Hello_World"))
    assert info.macs == original.macs == 288
    assert info.parameter_count == original.parameter_count
    assert info.parameter_bytes == original.parameter_bytes
    assert any(t.buffer_bytes == size and t.is_constant for t in info.subgraphs[0].tensors)


@needs_seed
def test_buffer_data_outside_the_file_is_refused() -> None:
    data, _ = _with_external_buffer(offset_past_end=10_000)
    with pytest.raises(ModelFileError) as caught:
        parse_tflite(data, "external.tflite")
    assert "beyond the end of the file" in caught.value.detail
    assert caught.value.path == "external.tflite"


# --------------------------------------------------------------------------- synthetic models

_DTYPES = {"float32": 0, "int32": 2, "uint8": 3, "int16": 7, "int8": 9, "float16": 1}


def build_model(
    tensors: list[tuple[tuple[int, ...], str, bool]],
    ops: list[tuple[str, list[int], list[int], object]],
    inputs: list[int],
    outputs: list[int],
) -> bytes:
    """Build a one-subgraph model.

    Tensors are (shape, dtype, constant); operators are (name or ``custom:<code>``,
    inputs, outputs, builtin options object or None).
    """
    model = fb.ModelT()
    model.version = 3
    model.buffers = [fb.BufferT()]
    graph = fb.SubGraphT()
    graph.tensors = []
    for i, (shape, dtype, constant) in enumerate(tensors):
        t = fb.TensorT()
        t.shape, t.type, t.name = list(shape), _DTYPES[dtype], f"t{i}"
        if constant:
            buffer = fb.BufferT()
            width = {"float32": 4, "int32": 4, "int16": 2, "float16": 2}.get(dtype, 1)
            buffer.data = [1] * max(math.prod(shape), 1) * width
            model.buffers.append(buffer)
            t.buffer = len(model.buffers) - 1
        graph.tensors.append(t)
    codes: list[str] = []
    graph.operators = []
    for name, ins, outs, options in ops:
        if name not in codes:
            codes.append(name)
        op = fb.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = codes.index(name), ins, outs
        if options is not None:
            op.builtinOptionsType = getattr(fb.BuiltinOptions, type(options).__name__[:-1])
            op.builtinOptions = options
        graph.operators.append(op)
    model.operatorCodes = []
    for name in codes:
        code = fb.OperatorCodeT()
        if name.startswith("custom:"):
            code.builtinCode = code.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
            code.customCode = name.split(":", 1)[1]
        else:
            code.builtinCode = getattr(fb.BuiltinOperator, name)
            code.deprecatedBuiltinCode = min(code.builtinCode, 127)
        model.operatorCodes.append(code)
    graph.inputs, graph.outputs = inputs, outputs
    model.subgraphs = [graph]
    return _repack(model)


def test_transpose_conv_macs() -> None:
    options = fb.TransposeConvOptionsT()
    options.strideH = options.strideW = 2
    data = build_model(
        [
            ((4,), "int32", True),
            ((8, 3, 3, 4), "int8", True),
            ((1, 5, 5, 4), "int8", False),
            ((1, 10, 10, 8), "int8", False),
        ],
        [("TRANSPOSE_CONV", [0, 1, 2], [3], options)],
        [2],
        [3],
    )
    info = parse_tflite(data)
    # Every one of the 5x5x4 inputs is scattered over a 3x3 window of all 8 output channels.
    assert info.macs == 5 * 5 * 4 * 3 * 3 * 8
    assert info.quantization == "int8"


@pytest.mark.parametrize(("adj_x", "lhs"), [(False, (2, 3, 4)), (True, (2, 4, 3))])
def test_batch_matmul_macs(adj_x: bool, lhs: tuple[int, ...]) -> None:
    options = fb.BatchMatMulOptionsT()
    options.adjX = adj_x
    data = build_model(
        [(lhs, "float32", False), ((2, 4, 5), "float32", False), ((2, 3, 5), "float32", False)],
        [("BATCH_MATMUL", [0, 1], [2], options)],
        [0, 1],
        [2],
    )
    assert parse_tflite(data).macs == 2 * 3 * 5 * 4


def test_elementwise_pooling_activation_and_custom_ops() -> None:
    pool = fb.Pool2DOptionsT()
    pool.filterHeight = pool.filterWidth = pool.strideH = pool.strideW = 2
    data = build_model(
        [
            ((1, 8, 8, 3), "int8", False),
            ((1, 8, 8, 3), "int8", False),
            ((1, 8, 8, 3), "int8", False),
            ((1, 4, 4, 3), "int8", False),
            ((1, 4, 4, 3), "int8", False),
            ((1, 4, 4, 3), "int8", False),
        ],
        [
            ("ADD", [0, 1], [2], None),
            ("MAX_POOL_2D", [2], [3], pool),
            ("LOGISTIC", [3], [4], None),
            ("custom:MyFancyOp", [4], [5], None),
        ],
        [0, 1],
        [5],
    )
    info = parse_tflite(data)
    assert [op.macs for op in info.subgraphs[0].operators] == [192, 4 * 4 * 3 * 2 * 2, 0, 0]
    assert info.operator_counts == {"ADD": 1, "MAX_POOL_2D": 1, "LOGISTIC": 1, "MyFancyOp": 1}
    custom = info.operator_codes[3]
    assert custom.is_custom and custom.name == "CUSTOM" and custom.custom_code == "MyFancyOp"
    assert info.subgraphs[0].operators[1].options["filter_height"] == 2


def test_conv_macs_from_options_when_the_output_has_no_shape() -> None:
    options = fb.Conv2DOptionsT()
    options.strideH = options.strideW = 2  # padding SAME (0)
    data = build_model(
        [
            ((1, 10, 10, 3), "float32", False),
            ((8, 3, 3, 3), "float32", True),
            ((), "float32", False),
        ],
        [("CONV_2D", [0, 1, -1], [2], options)],
        [0],
        [2],
    )
    # 5x5x8 outputs of a 3x3x3 window.
    assert parse_tflite(data).macs == 5 * 5 * 8 * 27


@pytest.mark.parametrize(
    ("activation", "weights", "expected"),
    [
        ("float32", "int8", "hybrid"),
        ("int16", "int8", "int16x8"),
        ("uint8", "uint8", "uint8"),
        ("float32", "float32", "float32"),
        ("int8", "int16", "mixed"),
    ],
)
def test_quantization_classes(activation: str, weights: str, expected: str) -> None:
    data = build_model(
        [((1, 4), activation, False), ((2, 4), weights, True), ((1, 2), activation, False)],
        [("FULLY_CONNECTED", [0, 1, -1], [2], None)],
        [0],
        [2],
    )
    info = parse_tflite(data)
    assert info.quantization == expected
    assert info.macs == 8


def test_float16_weights_and_mixed_models() -> None:
    f16 = build_model(
        [
            ((1, 4), "float32", False),
            ((2, 4), "float16", True),
            ((2, 4), "float32", False),
            ((1, 2), "float32", False),
        ],
        [("DEQUANTIZE", [1], [2], None), ("FULLY_CONNECTED", [0, 2, -1], [3], None)],
        [0],
        [3],
    )
    assert parse_tflite(f16).quantization == "float16"
    mixed = build_model(
        [
            ((1, 4), "int8", False),
            ((2, 4), "int8", True),
            ((1, 2), "int8", False),
            ((1, 2), "float32", False),
            ((2, 2), "float32", True),
            ((1, 2), "float32", False),
        ],
        [
            ("FULLY_CONNECTED", [0, 1, -1], [2], None),
            ("DEQUANTIZE", [2], [3], None),
            ("FULLY_CONNECTED", [3, 4, -1], [5], None),
        ],
        [0],
        [5],
    )
    assert parse_tflite(mixed).quantization == "mixed"


# --------------------------------------------------------------------------- module examples


def test_docstring_examples() -> None:
    result = doctest.testmod(tflite, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------ declared shapes are checked


@needs_seed
def test_a_constant_declaring_more_elements_than_its_buffer_holds_is_refused() -> None:
    """A 2.4 KB model whose weights declare 2^31 elements: never registered as runnable."""
    model = _hello_model()
    weights = next(
        t
        for t in model.subgraphs[0].tensors
        if t.buffer
        and model.buffers[t.buffer].data is not None
        and len(model.buffers[t.buffer].data) > 4
    )
    weights.shape = [65536, 32768]  # 2^31 elements
    data = _repack(model)
    with pytest.raises(ModelFileError) as info:
        parse_tflite(data)
    assert "declares shape [65536, 32768]" in info.value.detail
    assert "but its buffer" in info.value.detail


def test_a_tensor_larger_than_a_32_bit_core_can_address_is_refused() -> None:
    data = build_model(
        [((1, 65536, 65536, 1), "int8", False), ((1, 65536, 65536, 1), "int8", False)],
        [("RELU", [0], [1], None)],
        [0],
        [1],
    )
    with pytest.raises(ModelFileError) as info:
        parse_tflite(data)
    assert "more than a 32-bit microcontroller can address" in info.value.detail


def test_declared_shapes_whose_macs_exceed_the_bound_are_refused() -> None:
    # every tensor under 2 GiB, but 2^30 outputs x a 1024x1024x1024 kernel: 2^60 MACs
    data = build_model(
        [
            ((1, 32, 32, 1024), "int8", False),
            ((1, 1024, 1024, 1024), "int8", False),
            ((1, 32768, 32768, 1), "int8", False),
        ],
        [("CONV_2D", [0, 1], [2], None)],
        [0, 1],
        [2],
    )
    with pytest.raises(ModelFileError) as info:
        parse_tflite(data)
    assert "multiply-accumulates per inference" in info.value.detail
    assert tflite.MAX_MACS < 2**63


def test_a_negative_dimension_other_than_dynamic_is_refused() -> None:
    data = build_model(
        [((1, -5), "int8", False), ((1, 4), "int8", False)], [("RELU", [0], [1], None)], [0], [1]
    )
    with pytest.raises(ModelFileError, match="negative dimension"):
        parse_tflite(data)
