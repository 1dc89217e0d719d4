"""Code bytes per operator kernel, read from the GNU ld map of a linked agent.

Each input section kept in the image (``.text*`` and ``.rodata*`` with a non-zero address) is
attributed by the object file it comes from: the TFLM kernel objects
(``kernels/cmsis_nn/*.cc``, ``kernels/*_common.cc``) and the CMSIS-NN functions they call
(``arm_convolve_*`` and the matrix kernels to CONV_2D, ``arm_depthwise_*`` to
DEPTHWISE_CONV_2D, ``arm_fully_connected_*``/``arm_nn_vec_mat_mult_*`` to FULLY_CONNECTED, ...);
the rest of CMSIS-NN is ``CMSIS-NN support``, the rest of ``libtflm.a`` ``TFLM framework``,
the agent's own objects ``agent`` and everything else (newlib, libm, libstdc++)
``libc/libm/libstdc++``. AVERAGE_POOL_2D and MAX_POOL_2D share one TFLM object and are
reported together as ``AVERAGE_POOL_2D + MAX_POOL_2D``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

__all__ = ["POOLS", "code_by_operator", "operator_of"]

#: The one entry the two pooling operators share (one TFLM object file implements both).
POOLS = "AVERAGE_POOL_2D + MAX_POOL_2D"

# Object files (TFLM kernels and CMSIS-NN functions) by the operator they implement.
_KERNEL_OBJECTS = {
    "conv": "CONV_2D",
    "conv_common": "CONV_2D",
    "depthwise_conv": "DEPTHWISE_CONV_2D",
    "depthwise_conv_common": "DEPTHWISE_CONV_2D",
    "fully_connected": "FULLY_CONNECTED",
    "fully_connected_common": "FULLY_CONNECTED",
    "pooling": POOLS,
    "pooling_common": POOLS,
    "softmax": "SOFTMAX",
    "softmax_common": "SOFTMAX",
    "add": "ADD",
    "add_common": "ADD",
    "reshape": "RESHAPE",
    "reshape_common": "RESHAPE",
    "quantize": "QUANTIZE",
    "quantize_common": "QUANTIZE",
    "dequantize": "DEQUANTIZE",
    "dequantize_common": "DEQUANTIZE",
    "logistic": "LOGISTIC",
    "logistic_common": "LOGISTIC",
    "reduce": "MEAN",
    "reduce_common": "MEAN",
    "pad": "PAD",
    "pad_common": "PAD",
    "resize_nearest_neighbor": "RESIZE_NEAREST_NEIGHBOR",
}
_CMSIS_PREFIXES = (
    ("arm_depthwise", "DEPTHWISE_CONV_2D"),
    ("arm_convolve", "CONV_2D"),
    ("arm_nn_mat_mult_kernel", "CONV_2D"),
    ("arm_nn_mat_mul_core", "CONV_2D"),
    ("arm_fully_connected", "FULLY_CONNECTED"),
    ("arm_nn_vec_mat_mult", "FULLY_CONNECTED"),
    ("arm_avgpool", POOLS),
    ("arm_max_pool", POOLS),
    ("arm_softmax", "SOFTMAX"),
    ("arm_nn_softmax", "SOFTMAX"),
    ("arm_elementwise_add", "ADD"),
)
_SECTION = re.compile(
    r"^ (\.text|\.rodata)(\.\S*)?\s*\n?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)", re.M
)


def operator_of(obj: str) -> str:
    """The operator (or framework, CMSIS-NN support, agent, libc) an object file belongs to.

    Args:
        obj: The object file as the map names it (``.../libtflm.a(conv.o)``).

    Returns:
        An operator name, ``AVERAGE_POOL_2D + MAX_POOL_2D``, ``CMSIS-NN support``,
        ``TFLM framework``, ``agent`` or ``libc/libm/libstdc++``.

    """
    member = re.search(r"\(([^)]+)\)$", obj)
    name = Path(member.group(1) if member else obj).name
    stem = name.removesuffix(".o").removesuffix(".cc").removesuffix(".c")
    if "libtflm.a" in obj:
        if stem in _KERNEL_OBJECTS:
            return _KERNEL_OBJECTS[stem]
        for prefix, op in _CMSIS_PREFIXES:
            if stem.startswith(prefix):
                return op
        if stem.startswith("arm_"):
            return "CMSIS-NN support"
        return "TFLM framework"
    if "/obj/" in obj:
        return "agent"
    return "libc/libm/libstdc++"


def code_by_operator(map_path: Path) -> dict[str, int]:
    """Bytes of code and read-only data kept in the image, by operator, from a GNU ld map.

    Args:
        map_path: The linker map (``agent.map`` beside the agent's ELF).

    Returns:
        Bytes keyed as :func:`operator_of` names them, sorted by key.

    """
    text = map_path.read_text()
    memory_map = text[text.index("Linker script and memory map") :]
    sizes: dict[str, int] = defaultdict(int)
    for match in _SECTION.finditer(memory_map):
        address, size, obj = int(match.group(3), 16), int(match.group(4), 16), match.group(5)
        if size and address:
            sizes[operator_of(obj)] += size
    return dict(sorted(sizes.items()))
