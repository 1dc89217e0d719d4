"""Vocabulary terms, defined once.

``TR`` is tinyreg's own namespace as a closed :class:`rdflib.namespace.DefinedNamespace`:
a typo such as ``TR.arenaByte`` raises ``AttributeError`` at once instead of writing a
wrong IRI into the graph. ``tests/test_ontology.py`` checks that every term here is
declared in ``ontology/tinyreg.ttl`` and the other way round.

>>> str(TR.arenaBytes)
'https://w3id.org/tinyreg#arenaBytes'
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DefinedNamespace
from rdflib.term import URIRef

from tinyreg.core.iris import DEVICE_PREFIX, MODEL_PREFIX, TR_IRI

__all__ = [
    "BENCHMARK_PREFIX",
    "DEVICE_PREFIX",
    "DISCOVERY",
    "MODEL_PREFIX",
    "OP",
    "PREFIXES",
    "RUNTIME",
    "S3N",
    "SCHEMA",
    "SOSA",
    "SSN",
    "TARGET_BENCHMARK_PREFIX",
    "TD",
    "TR",
    "TR_IRI",
    "model_iri",
    "runtime_iri",
]


class TR(DefinedNamespace):
    """The tinyreg ontology namespace (``https://w3id.org/tinyreg#``)."""

    _NS = Namespace(TR_IRI)
    _fail = True

    # models
    Model: URIRef
    Subgraph: URIRef
    OperatorCode: URIRef
    OperatorType: URIRef
    Operator: URIRef
    Tensor: URIRef
    Quantization: URIRef
    RuntimeAssessment: URIRef
    Task: URIRef
    Classification: URIRef
    ObjectDetection: URIRef
    FeatureExtraction: URIRef
    AnomalyDetection: URIRef
    Regression: URIRef
    Unsupervised: URIRef
    OtherTask: URIRef
    Modality: URIRef
    Audio: URIRef
    Image: URIRef
    Motion: URIRef
    Vibration: URIRef
    Environmental: URIRef
    TimeSeries: URIRef
    OtherModality: URIRef
    Metric: URIRef
    hasSubgraph: URIRef
    hasOperatorCode: URIRef
    usesOperatorType: URIRef
    operatorType: URIRef
    opcodeName: URIRef
    builtinCode: URIRef
    operatorVersion: URIRef
    isCustom: URIRef
    useCount: URIRef
    hasOperator: URIRef
    opcode: URIRef
    index: URIRef
    hasTensor: URIRef
    hasInput: URIRef
    hasOutput: URIRef
    shape: URIRef
    rank: URIRef
    dtype: URIRef
    sizeBytes: URIRef
    isConstant: URIRef
    hasQuantization: URIRef
    quantizationScheme: URIRef
    scale: URIRef
    zeroPoint: URIRef
    quantizedDimension: URIRef
    channelCount: URIRef
    macs: URIRef
    parameterCount: URIRef
    parameterBytes: URIRef
    modelBytes: URIRef
    flashBytes: URIRef
    arenaBytes: URIRef
    recordedArenaBytes: URIRef
    arenaBytes32bitEstimate: URIRef
    pointerBits: URIRef
    quantizationType: URIRef
    sha256: URIRef
    schemaVersion: URIRef
    hasRuntimeAssessment: URIRef
    assessedRuntime: URIRef
    runnable: URIRef
    inferenceChecked: URIRef
    refusalReason: URIRef
    task: URIRef
    inputModality: URIRef
    requiresSensorType: URIRef
    label: URIRef
    dataset: URIRef
    hasMetric: URIRef
    metricName: URIRef
    metricValue: URIRef
    framework: URIRef
    sourceUrl: URIRef
    # devices
    Device: URIRef
    MCU: URIRef
    RAM: URIRef
    Flash: URIRef
    hasMCU: URIRef
    hasMemory: URIRef
    hasRAM: URIRef
    hasFlash: URIRef
    hasSensor: URIRef
    core: URIRef
    coreFamily: URIRef
    partNumber: URIRef
    clockHz: URIRef
    hasFPU: URIRef
    hasDSP: URIRef
    simdExtension: URIRef
    capacityBytes: URIRef
    reservedBytes: URIRef
    Runtime: URIRef
    RuntimeInstallation: URIRef
    hasRuntime: URIRef
    runtimeName: URIRef
    runtimeVersion: URIRef
    supportsOperator: URIRef
    maxVersion: URIRef
    tdDocument: URIRef
    registersOperator: URIRef
    ramOverheadBytes: URIRef
    CodeSize: URIRef
    hasCodeSize: URIRef
    hasCoreCodeSize: URIRef
    codeBytes: URIRef
    CoreFamily: URIRef
    cyclesPerMacInt8: URIRef
    cyclesPerMacInt8Simd: URIRef
    cyclesPerMacFloat: URIRef
    cyclesPerMacFloatSoft: URIRef
    figureSource: URIRef
    latencyErrorBand: URIRef
    # matchmaking profiles
    DeviceProfile: URIRef
    hasProfile: URIRef
    ramCapacityBytes: URIRef
    flashCapacityBytes: URIRef
    reservedRamBytes: URIRef
    reservedFlashBytes: URIRef
    sensorType: URIRef
    providesSensorType: URIRef
    operatorsOfferedBy: URIRef
    customOperator: URIRef
    kernelCodeTable: URIRef
    fitsProfile: URIRef
    indexedModel: URIRef
    indexedProfile: URIRef
    runtime: URIRef
    runtimeRelease: URIRef
    # deployments
    Deployment: URIRef
    targetDevice: URIRef
    modelVersion: URIRef
    outcome: URIRef
    outcomeReason: URIRef
    deployLatencyMs: URIRef
    loadLatencyMs: URIRef
    inferenceLatencyMs: URIRef
    arenaUsedBytes: URIRef
    # host and target benchmarks
    Benchmark: URIRef
    HostBenchmark: URIRef
    benchmarkOf: URIRef
    loadMs: URIRef
    invokeMedianMs: URIRef
    invokeMinMs: URIRef
    invokeMaxMs: URIRef
    runs: URIRef
    measuredAt: URIRef
    hostMachine: URIRef
    inputSeed: URIRef
    TargetBenchmark: URIRef
    target: URIRef
    initInstructions: URIRef
    inferenceInstructions: URIRef
    firmwareBytes: URIRef
    outputSha256: URIRef
    tflmCommit: URIRef
    toolchain: URIRef
    # sensor types
    provides: URIRef
    Accelerometer: URIRef
    Gyroscope: URIRef
    Magnetometer: URIRef
    IMU: URIRef
    IMU9DoF: URIRef
    Microphone: URIRef
    PDMMicrophone: URIRef
    I2SMicrophone: URIRef
    AnalogMicrophone: URIRef
    Camera: URIRef
    Thermometer: URIRef
    HumiditySensor: URIRef
    Barometer: URIRef
    GasSensor: URIRef
    LightSensor: URIRef
    ColorSensor: URIRef
    ProximitySensor: URIRef
    GestureSensor: URIRef
    OtherSensor: URIRef

    # the loop: telemetry, drift, retraining, versions, gate
    TelemetryAggregate: URIRef
    DriftAssessment: URIRef
    TrainingActivity: URIRef
    DataSnapshot: URIRef
    GateAssessment: URIRef
    assessedDevice: URIRef
    assessedModel: URIRef
    baselineModel: URIRef
    bucketStart: URIRef
    bucketEnd: URIRef
    windowCount: URIRef
    alarmCount: URIRef
    errorCount: URIRef
    meanScore: URIRef
    maxScore: URIRef
    medianInferenceMs: URIRef
    meanRms: URIRef
    meanKurtosis: URIRef
    meanEnvelopeDefect: URIRef
    modelFamily: URIRef
    versionNumber: URIRef
    anomalyThreshold: URIRef
    trainingReference: URIRef
    driftKind: URIRef
    driftReason: URIRef
    psi: URIRef
    ksStatistic: URIRef
    rocAuc: URIRef
    falseAlarmRate: URIRef
    baselineRocAuc: URIRef
    baselineFalseAlarmRate: URIRef
    gatePassed: URIRef
    hyperparameters: URIRef
    trainLoss: URIRef


TD = Namespace("https://www.w3.org/2019/wot/td#")
SOSA = Namespace("http://www.w3.org/ns/sosa/")
SSN = Namespace("http://www.w3.org/ns/ssn/")
S3N = Namespace("http://w3id.org/s3n/")
SCHEMA = Namespace("https://schema.org/")
OP = Namespace("https://w3id.org/tinyreg/op/")
RUNTIME = Namespace("https://w3id.org/tinyreg/runtime/")


class DISCOVERY(DefinedNamespace):
    """W3C WoT Discovery terms for a TD's registration information in a directory."""

    _NS = Namespace("https://www.w3.org/2021/wot/discovery#")
    _fail = True

    hasRegistrationInformation: URIRef
    RegistrationInformation: URIRef
    dateCreated: URIRef
    dateModified: URIRef
    expires: URIRef
    ttl: URIRef


BENCHMARK_PREFIX = "https://w3id.org/tinyreg/benchmark/host/"
TARGET_BENCHMARK_PREFIX = "https://w3id.org/tinyreg/benchmark/target/"


PREFIXES: dict[str, str] = {
    "tr": TR_IRI,
    "td": str(TD),
    "sosa": str(SOSA),
    "ssn": str(SSN),
    "s3n": str(S3N),
    "schema": str(SCHEMA),
    "op": str(OP),
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcterms": "http://purl.org/dc/terms/",
}


def model_iri(ident: str) -> URIRef:
    """The IRI of the model with this id.

    >>> str(model_iri("hello-world"))
    'https://w3id.org/tinyreg/model/hello-world'
    """
    return URIRef(MODEL_PREFIX + ident)


def runtime_iri(name: str, version: str) -> URIRef:
    """The IRI of a runtime release, e.g. ``.../runtime/tflite-micro/0.dev2026``."""
    return URIRef(f"{RUNTIME}{name}/{version}")
