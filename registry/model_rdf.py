"""Map a parsed .tflite model, its arena measurement and its card to RDF.

Every node of a model's description gets an IRI under the model's own
(``<model>#sg0-t5`` for tensor 5 of subgraph 0), so a model's graph has no blank nodes
and re-registering replaces it exactly.
"""

from __future__ import annotations

import functools

from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import RDFS

from tinyreg.core.arena import ArenaMeasurement
from tinyreg.core.namespaces import OP, SCHEMA, TR, model_iri, runtime_iri
from tinyreg.core.tflite import ModelInfo, OperatorInfo, SubgraphInfo, TensorInfo
from tinyreg.core.vocabulary import MODALITY_IRIS, TASK_IRIS
from tinyreg.registry.cards import ModelCard

__all__ = ["model_to_graph", "runtime_to_graph"]


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
        name = code.custom_code if code.is_custom and code.custom_code else code.name
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
