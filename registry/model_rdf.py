"""Map a parsed .tflite model, its arena measurement and its card to RDF.

Every node of a model's description gets an IRI under the model's own
(``<model>#sg0-t5`` for tensor 5 of subgraph 0), so a model's graph has no blank nodes
and re-registering replaces it exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import RDFS
from rdflib.term import Node

from tinyreg.core.arena import ArenaMeasurement
from tinyreg.core.errors import InputError
from tinyreg.core.namespaces import OP, SCHEMA, TR, model_iri, runtime_iri
from tinyreg.core.stores.base import to_oxigraph
from tinyreg.core.tflite import ModelInfo, OperatorInfo, SubgraphInfo, TensorInfo
from tinyreg.core.vocabulary import MODALITY_IRIS, TASK_IRIS
from tinyreg.registry.cards import ModelCard

__all__ = [
    "ModelDescription",
    "describe_model",
    "model_to_graph",
    "nt_term",
    "runtime_to_graph",
]


def runtime_to_graph(name: str, version: str) -> tuple[URIRef, Graph]:
    """A small description of a runtime release (its own graph in the store)."""
    iri = runtime_iri(name, version)
    graph = Graph()
    graph.add((iri, RDF.type, TR.Runtime))
    graph.add((iri, TR.runtimeName, Literal(name)))
    graph.add((iri, TR.runtimeVersion, Literal(version)))
    graph.add((iri, RDFS.label, Literal(f"{name} {version}")))
    return iri, graph


@functools.lru_cache(maxsize=256, typed=True)
def _plain(value: str | bool) -> Literal:
    """A plain or boolean literal (a dtype, a scheme, ``true``), built once."""
    return Literal(value)


@functools.lru_cache(maxsize=8192)
def _int(value: int) -> Literal:
    # cached: a model repeats the same small integers (indices, ranks, sizes) hundreds of
    # times, and building an rdflib Literal is a good part of describing a tensor
    return Literal(int(value), datatype=XSD.integer)


def _tensor(graph: Graph, node: URIRef, tensor: TensorInfo) -> None:
    graph.add((node, RDF.type, TR.Tensor))
    graph.add((node, TR.index, _int(tensor.index)))
    if tensor.name:
        graph.add((node, SCHEMA.name, Literal(tensor.name)))
    graph.add((node, TR.shape, Literal(",".join(str(d) for d in tensor.shape))))
    graph.add((node, TR.rank, _int(len(tensor.shape))))
    graph.add((node, TR.dtype, _plain(tensor.dtype)))
    graph.add((node, TR.sizeBytes, _int(tensor.size_bytes)))
    graph.add((node, TR.isConstant, _plain(bool(tensor.is_constant))))
    quant = tensor.quantization
    if quant is not None:
        qnode = URIRef(f"{node}-q")
        graph.add((node, TR.hasQuantization, qnode))
        graph.add((qnode, RDF.type, TR.Quantization))
        graph.add((qnode, TR.quantizationScheme, _plain(quant.scheme)))
        graph.add((qnode, TR.channelCount, _int(len(quant.scales))))
        if quant.scheme == "per-tensor" and quant.scales:
            graph.add((qnode, TR.scale, Literal(float(quant.scales[0]), datatype=XSD.double)))
            if quant.zero_points:
                graph.add((qnode, TR.zeroPoint, _int(quant.zero_points[0])))
        else:
            graph.add((qnode, TR.quantizedDimension, _int(quant.quantized_dimension)))


def model_to_graph(
    ident: str, info: ModelInfo, arena: ArenaMeasurement, card: ModelCard
) -> tuple[URIRef, Graph]:
    """Describe one model in the tinyreg ontology.

    Args:
        ident: The model id (slug); the IRI is :func:`model_iri` of it.
        info: The parsed flatbuffer.
        arena: What the TFLM runtime said of it.
        card: The human metadata.

    Returns:
        The model IRI and its graph.

    """
    model = model_iri(ident)
    g = Graph()
    g.add((model, RDF.type, TR.Model))
    _card(g, model, card, info)
    _figures(g, model, info)
    opcodes = _operator_codes(g, model, info)
    for index, subgraph in enumerate(info.subgraphs):
        _subgraph(g, model, index, subgraph, opcodes)
    _assessment(g, model, arena)
    return model, g


def _card(g: Graph, model: URIRef, card: ModelCard, info: ModelInfo) -> None:
    """The human metadata of the model card: names, task, sensors, labels, metric."""
    g.add((model, SCHEMA.name, Literal(card.name)))
    for predicate, value in (
        (SCHEMA.description, card.description or info.description or None),
        (SCHEMA.creator, card.creator),
        (SCHEMA.license, card.license),
        (SCHEMA.version, card.version),
        (TR.dataset, card.dataset),
        (TR.framework, card.framework),
    ):
        if value:
            g.add((model, predicate, Literal(value)))
    if card.source_url:
        g.add((model, TR.sourceUrl, Literal(card.source_url, datatype=XSD.anyURI)))
    if card.task:
        g.add((model, TR.task, TASK_IRIS[card.task]))
    if card.input_modality:
        g.add((model, TR.inputModality, MODALITY_IRIS[card.input_modality]))
    for sensor in card.required_sensors:
        g.add((model, TR.requiresSensorType, TR[sensor]))
    for label in card.labels:
        g.add((model, TR.label, Literal(label)))
    if card.metric is not None:
        metric = URIRef(f"{model}#metric")
        g.add((model, TR.hasMetric, metric))
        g.add((metric, RDF.type, TR.Metric))
        g.add((metric, TR.metricName, Literal(card.metric.name)))
        g.add((metric, TR.metricValue, Literal(card.metric.value, datatype=XSD.double)))


def _figures(g: Graph, model: URIRef, info: ModelInfo) -> None:
    """What the flatbuffer says of the whole model: bytes, digest, MACs, parameters."""
    g.add((model, TR.modelBytes, _int(info.size_bytes)))
    g.add((model, TR.flashBytes, _int(info.size_bytes)))
    g.add((model, TR.sha256, Literal(info.sha256)))
    g.add((model, TR.schemaVersion, _int(info.version)))
    g.add((model, TR.macs, _int(info.macs)))
    g.add((model, TR.parameterCount, _int(info.parameter_count)))
    g.add((model, TR.parameterBytes, _int(info.parameter_bytes)))
    g.add((model, TR.quantizationType, Literal(info.quantization)))


def _operator_codes(g: Graph, model: URIRef, info: ModelInfo) -> list[URIRef]:
    """The operator code table (``<model>#opcodeN``) and the operator types it uses."""
    nodes = []
    for index, code in enumerate(info.operator_codes):
        node = URIRef(f"{model}#opcode{index}")
        nodes.append(node)
        name = code.label
        g.add((model, TR.hasOperatorCode, node))
        g.add((node, RDF.type, TR.OperatorCode))
        g.add((node, TR.opcodeName, Literal(name)))
        g.add((node, TR.builtinCode, _int(code.code)))
        g.add((node, TR.operatorVersion, _int(code.version)))
        g.add((node, TR.isCustom, Literal(bool(code.is_custom))))
        g.add((node, TR.useCount, _int(info.operator_counts.get(code.name, 0))))
        g.add((node, TR.operatorType, OP[name]))
        g.add((model, TR.usesOperatorType, OP[name]))
        g.add((OP[name], RDF.type, TR.OperatorType))
        g.add((OP[name], RDFS.label, Literal(name)))
    return nodes


def _subgraph(
    g: Graph, model: URIRef, index: int, subgraph: SubgraphInfo, opcodes: list[URIRef]
) -> None:
    """One subgraph (``<model>#sgN``) with its tensors and operators.

    The first subgraph's inputs and outputs are the model's.
    """
    sg = URIRef(f"{model}#sg{index}")
    g.add((model, TR.hasSubgraph, sg))
    g.add((sg, RDF.type, TR.Subgraph))
    g.add((sg, TR.index, _int(index)))
    if subgraph.name:
        g.add((sg, SCHEMA.name, Literal(subgraph.name)))
    tensors = {}
    for tensor in subgraph.tensors:
        node = URIRef(f"{sg}-t{tensor.index}")
        tensors[tensor.index] = node
        g.add((sg, TR.hasTensor, node))
        _tensor(g, node, tensor)
    for op in subgraph.operators:
        _operator(g, sg, op, opcodes, tensors)
    if index == 0:
        for t in subgraph.inputs:
            g.add((model, TR.hasInput, tensors[t]))
        for t in subgraph.outputs:
            g.add((model, TR.hasOutput, tensors[t]))


def _operator(
    g: Graph,
    sg: URIRef,
    op: OperatorInfo,
    opcodes: list[URIRef],
    tensors: dict[int, URIRef],
) -> None:
    """One operator node of a subgraph (``<sg>-opN``), its code, MACs and tensors."""
    node = URIRef(f"{sg}-op{op.index}")
    g.add((sg, TR.hasOperator, node))
    g.add((node, RDF.type, TR.Operator))
    g.add((node, TR.index, _int(op.index)))
    g.add((node, TR.opcode, opcodes[op.opcode_index]))
    g.add((node, TR.macs, _int(op.macs)))
    for t in op.inputs:
        if t in tensors:
            g.add((node, TR.hasInput, tensors[t]))
    for t in op.outputs:
        if t in tensors:
            g.add((node, TR.hasOutput, tensors[t]))


def _assessment(g: Graph, model: URIRef, arena: ArenaMeasurement) -> None:
    """What the runtime said of the model (``<model>#runtime-NAME``): runnable, arena."""
    assessment = URIRef(f"{model}#runtime-{arena.runtime_name}")
    g.add((model, TR.hasRuntimeAssessment, assessment))
    g.add((assessment, RDF.type, TR.RuntimeAssessment))
    g.add((assessment, TR.assessedRuntime, runtime_iri(arena.runtime_name, arena.runtime_version)))
    g.add((assessment, TR.runnable, Literal(bool(arena.runnable))))
    g.add((assessment, TR.inferenceChecked, Literal(bool(arena.inferred))))
    g.add((assessment, TR.pointerBits, _int(arena.pointer_bits)))
    for predicate, value in (
        (TR.arenaBytes, arena.arena_bytes),
        (TR.recordedArenaBytes, arena.recorded_bytes),
        (TR.arenaBytes32bitEstimate, arena.arena_bytes_32bit_estimate),
    ):
        if value is not None:
            g.add((assessment, predicate, _int(value)))
    if arena.reason:
        g.add((assessment, TR.refusalReason, Literal(arena.reason)))


# --------------------------------------------------------------------------- as N-Triples


class ModelDescription:
    """A model's description as N-Triples terms, written without rdflib.

    :func:`describe_model` writes the triples :func:`model_to_graph` gives, as
    ``(subject, predicate, object)`` tuples of N-Triples terms (``<iri>``,
    ``"lexical"^^<datatype>``): describing a model this way costs a small part of
    building rdflib terms and graphs, and the text goes to the store as it is
    (:meth:`tinyreg.core.stores.GraphStore.replace_graphs_text`). The description has no
    blank nodes. ``tests/test_model_nt.py`` checks that it is isomorphic to
    :func:`model_to_graph`'s graph for every seed and ``kg_data`` model.

    Attributes:
        iri: The model's IRI.
        triples: The triples, as N-Triples terms.

    """

    __slots__ = ("iri", "triples")

    def __init__(self, iri: str, triples: list[tuple[str, str, str]]) -> None:
        self.iri = iri
        self.triples = triples

    def __len__(self) -> int:
        return len(self.triples)

    def text(self) -> str:
        """The description as N-Triples (one triple per line, each ending in `` .``)."""
        return "".join([f"{s} {p} {o} .\n" for s, p, o in self.triples])

    def add_graph(self, graph: Iterable[tuple[Node, Node, Node]]) -> None:
        """Add rdflib triples: a small graph, or a list of them (derived requirements, say)."""
        for s, p, o in graph:
            self.triples.append((nt_term(s), nt_term(p), nt_term(o)))

    def to_graph(self) -> Graph:
        """The description as an rdflib graph (parsed from its N-Triples)."""
        return Graph().parse(data=self.text(), format="nt")


_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_XSD_INTEGER = f"<{XSD.integer}>"
_XSD_DOUBLE = f"<{XSD.double}>"
_XSD_BOOLEAN = f"<{XSD.boolean}>"
_XSD_ANYURI = f"<{XSD.anyURI}>"
_TRUE = f'"true"^^{_XSD_BOOLEAN}'
_FALSE = f'"false"^^{_XSD_BOOLEAN}'


def _lit(text: str) -> str:
    """A plain (``xsd:string``) literal."""
    return f'"{text.translate(_ESCAPES)}"'


def _bool(value: bool) -> str:
    return _TRUE if value else _FALSE


def _iri(text: str) -> str:
    """An IRI term; one that is not a valid IRI is refused as the rdflib path refuses it."""
    try:
        ox.NamedNode(text)
    except (ValueError, TypeError, UnicodeError):
        to_oxigraph(URIRef(text))  # raises InputError with the reason
    return f"<{text}>"


def nt_term(term: Node) -> str:
    """An rdflib IRI or literal as an N-Triples term.

    >>> nt_term(Literal(3))
    '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'
    """
    if isinstance(term, URIRef):
        return _iri(str(term))
    if isinstance(term, Literal):
        text = _lit(str(term))
        if term.language:
            return f"{text}@{term.language}"
        return f"{text}^^<{term.datatype}>" if term.datatype else text
    raise InputError(f"{term!r} cannot be written in a model description (no blank nodes)")


def _t(name: str) -> str:
    return f"<{TR[name]}>"


_A = f"<{RDF.type}>"
_LABEL = f"<{RDFS.label}>"
_NAME = f"<{SCHEMA.name}>"
_P = {
    name: _t(name)
    for name in [
        "index",
        "shape",
        "rank",
        "dtype",
        "sizeBytes",
        "isConstant",
        "hasQuantization",
        "quantizationScheme",
        "channelCount",
        "scale",
        "zeroPoint",
        "quantizedDimension",
        "dataset",
        "framework",
        "sourceUrl",
        "task",
        "inputModality",
        "requiresSensorType",
        "label",
        "hasMetric",
        "metricName",
        "metricValue",
        "modelBytes",
        "flashBytes",
        "sha256",
        "schemaVersion",
        "macs",
        "parameterCount",
        "parameterBytes",
        "quantizationType",
        "hasOperatorCode",
        "opcodeName",
        "builtinCode",
        "operatorVersion",
        "isCustom",
        "useCount",
        "operatorType",
        "usesOperatorType",
        "hasSubgraph",
        "hasTensor",
        "hasInput",
        "hasOutput",
        "hasOperator",
        "opcode",
        "hasRuntimeAssessment",
        "assessedRuntime",
        "runnable",
        "inferenceChecked",
        "pointerBits",
        "arenaBytes",
        "recordedArenaBytes",
        "arenaBytes32bitEstimate",
        "refusalReason",
    ]
}
_C = {
    name: _t(name)
    for name in [
        "Model",
        "Tensor",
        "Quantization",
        "Metric",
        "OperatorCode",
        "OperatorType",
        "Subgraph",
        "Operator",
        "RuntimeAssessment",
    ]
}


@functools.lru_cache(maxsize=8192)
def _n(value: int) -> str:
    return f'"{int(value)}"^^{_XSD_INTEGER}'


def describe_model(
    ident: str, info: ModelInfo, arena: ArenaMeasurement, card: ModelCard
) -> ModelDescription:
    """Describe one model, as :func:`model_to_graph` does, in N-Triples terms.

    Args:
        ident: The model id (slug); the IRI is :func:`model_iri` of it.
        info: The parsed flatbuffer.
        arena: What the TFLM runtime said of it.
        card: The human metadata.

    Returns:
        The description.

    Raises:
        InputError: A custom operator's name makes an invalid IRI.

    """
    iri = str(model_iri(ident))
    m = f"<{iri}>"
    out: list[tuple[str, str, str]] = [(m, _A, _C["Model"])]
    add = out.append
    p = _P
    # the card
    add((m, _NAME, _lit(card.name)))
    for predicate, value in (
        (f"<{SCHEMA.description}>", card.description or info.description or None),
        (f"<{SCHEMA.creator}>", card.creator),
        (f"<{SCHEMA.license}>", card.license),
        (f"<{SCHEMA.version}>", card.version),
        (p["dataset"], card.dataset),
        (p["framework"], card.framework),
    ):
        if value:
            add((m, predicate, _lit(str(value))))
    if card.source_url:
        add((m, p["sourceUrl"], f"{_lit(card.source_url)}^^{_XSD_ANYURI}"))
    if card.task:
        add((m, p["task"], f"<{TASK_IRIS[card.task]}>"))
    if card.input_modality:
        add((m, p["inputModality"], f"<{MODALITY_IRIS[card.input_modality]}>"))
    for sensor in card.required_sensors:
        add((m, p["requiresSensorType"], _iri(str(TR[sensor]))))
    for label in card.labels:
        add((m, p["label"], _lit(label)))
    if card.metric is not None:
        metric = f"<{iri}#metric>"
        add((m, p["hasMetric"], metric))
        add((metric, _A, _C["Metric"]))
        add((metric, p["metricName"], _lit(card.metric.name)))
        value = str(Literal(card.metric.value, datatype=XSD.double))
        add((metric, p["metricValue"], f"{_lit(value)}^^{_XSD_DOUBLE}"))
    # the figures
    add((m, p["modelBytes"], _n(info.size_bytes)))
    add((m, p["flashBytes"], _n(info.size_bytes)))
    add((m, p["sha256"], _lit(info.sha256)))
    add((m, p["schemaVersion"], _n(info.version)))
    add((m, p["macs"], _n(info.macs)))
    add((m, p["parameterCount"], _n(info.parameter_count)))
    add((m, p["parameterBytes"], _n(info.parameter_bytes)))
    add((m, p["quantizationType"], _lit(info.quantization)))
    # the operator codes
    opcodes = []
    for index, code in enumerate(info.operator_codes):
        node = f"<{iri}#opcode{index}>"
        opcodes.append(node)
        name = code.label
        op = _iri(f"{OP}{name}")
        add((m, p["hasOperatorCode"], node))
        add((node, _A, _C["OperatorCode"]))
        add((node, p["opcodeName"], _lit(name)))
        add((node, p["builtinCode"], _n(code.code)))
        add((node, p["operatorVersion"], _n(code.version)))
        add((node, p["isCustom"], _bool(bool(code.is_custom))))
        add((node, p["useCount"], _n(info.operator_counts.get(code.name, 0))))
        add((node, p["operatorType"], op))
        add((m, p["usesOperatorType"], op))
        add((op, _A, _C["OperatorType"]))
        add((op, _LABEL, _lit(name)))
    # the subgraphs
    for index, subgraph in enumerate(info.subgraphs):
        _nt_subgraph(out, m, iri, index, subgraph, opcodes)
    # the runtime's assessment
    assessment = f"<{iri}#runtime-{arena.runtime_name}>"
    add((m, p["hasRuntimeAssessment"], assessment))
    add((assessment, _A, _C["RuntimeAssessment"]))
    runtime = runtime_iri(arena.runtime_name, arena.runtime_version)
    add((assessment, p["assessedRuntime"], _iri(str(runtime))))
    add((assessment, p["runnable"], _bool(bool(arena.runnable))))
    add((assessment, p["inferenceChecked"], _bool(bool(arena.inferred))))
    add((assessment, p["pointerBits"], _n(arena.pointer_bits)))
    for key, number in (
        ("arenaBytes", arena.arena_bytes),
        ("recordedArenaBytes", arena.recorded_bytes),
        ("arenaBytes32bitEstimate", arena.arena_bytes_32bit_estimate),
    ):
        if number is not None:
            add((assessment, p[key], _n(number)))
    if arena.reason:
        add((assessment, p["refusalReason"], _lit(arena.reason)))
    return ModelDescription(iri, out)


def _nt_subgraph(
    out: list[tuple[str, str, str]],
    m: str,
    iri: str,
    index: int,
    subgraph: SubgraphInfo,
    opcodes: list[str],
) -> None:
    """One subgraph with its tensors and operators (see :func:`_subgraph`)."""
    add = out.append
    p = _P
    base = f"{iri}#sg{index}"
    sg = f"<{base}>"
    add((m, p["hasSubgraph"], sg))
    add((sg, _A, _C["Subgraph"]))
    add((sg, p["index"], _n(index)))
    if subgraph.name:
        add((sg, _NAME, _lit(subgraph.name)))
    tensors: dict[int, str] = {}
    has_tensor, tensor_class = p["hasTensor"], _C["Tensor"]
    for tensor in subgraph.tensors:
        t = f"<{base}-t{tensor.index}>"
        tensors[tensor.index] = t
        add((sg, has_tensor, t))
        add((t, _A, tensor_class))
        add((t, p["index"], _n(tensor.index)))
        if tensor.name:
            add((t, _NAME, _lit(tensor.name)))
        add((t, p["shape"], _lit(",".join(map(str, tensor.shape)))))
        add((t, p["rank"], _n(len(tensor.shape))))
        add((t, p["dtype"], _lit(tensor.dtype)))
        add((t, p["sizeBytes"], _n(tensor.size_bytes)))
        add((t, p["isConstant"], _bool(bool(tensor.is_constant))))
        quant = tensor.quantization
        if quant is not None:
            q = f"<{base}-t{tensor.index}-q>"
            add((t, p["hasQuantization"], q))
            add((q, _A, _C["Quantization"]))
            add((q, p["quantizationScheme"], _lit(quant.scheme)))
            add((q, p["channelCount"], _n(len(quant.scales))))
            if quant.scheme == "per-tensor" and quant.scales:
                add((q, p["scale"], f'"{float(quant.scales[0])!r}"^^{_XSD_DOUBLE}'))
                if quant.zero_points:
                    add((q, p["zeroPoint"], _n(quant.zero_points[0])))
            else:
                add((q, p["quantizedDimension"], _n(quant.quantized_dimension)))
    operator_class, has_operator = _C["Operator"], p["hasOperator"]
    has_input, has_output = p["hasInput"], p["hasOutput"]
    for op in subgraph.operators:
        node = f"<{base}-op{op.index}>"
        add((sg, has_operator, node))
        add((node, _A, operator_class))
        add((node, p["index"], _n(op.index)))
        add((node, p["opcode"], opcodes[op.opcode_index]))
        add((node, p["macs"], _n(op.macs)))
        for t_index in op.inputs:
            if t_index in tensors:
                add((node, has_input, tensors[t_index]))
        for t_index in op.outputs:
            if t_index in tensors:
                add((node, has_output, tensors[t_index]))
    if index == 0:
        for t_index in subgraph.inputs:
            add((m, has_input, tensors[t_index]))
        for t_index in subgraph.outputs:
            add((m, has_output, tensors[t_index]))
