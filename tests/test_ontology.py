"""The vocabulary is defined once: the namespace class and the ontology agree."""

from rdflib import OWL, RDF, RDFS, URIRef

from tinyreg.core.namespaces import SOSA, TR, TR_IRI
from tinyreg.ontology import context_document, ontology_graph, shapes_graph
from tinyreg.registry.cards import SENSOR_TYPES


def _declared() -> set[str]:
    graph = ontology_graph()
    names = set()
    for subject in graph.subjects():
        if isinstance(subject, URIRef) and str(subject).startswith(TR_IRI):
            names.add(str(subject)[len(TR_IRI) :])
    return names


def test_every_namespace_term_is_declared_in_the_ontology_and_back():
    in_code = set(TR.__annotations__)
    in_ontology = _declared()
    assert in_code - in_ontology == set()
    assert in_ontology - in_code == set()


def test_sensor_types_of_cards_are_the_ontology_sensor_classes():
    graph = ontology_graph()
    sensor_classes = {
        str(c)[len(TR_IRI) :]
        for c in graph.transitive_subjects(RDFS.subClassOf, SOSA.Sensor)
        if str(c).startswith(TR_IRI)
    }
    assert sensor_classes == set(SENSOR_TYPES)


def test_imu_provides_accelerometer_and_gyroscope():
    graph = ontology_graph()
    assert set(graph.objects(TR.IMU, TR.provides)) == {TR.Accelerometer, TR.Gyroscope}
    assert (TR.PDMMicrophone, RDFS.subClassOf, TR.Microphone) in graph


def test_single_namespace_iri_across_ontology_shapes_and_context():
    assert (URIRef("https://w3id.org/tinyreg"), RDF.type, OWL.Ontology) in ontology_graph()
    shapes_terms = {str(o) for o in shapes_graph().objects() if isinstance(o, URIRef)}
    ours = {t for t in shapes_terms if "tinyreg" in t and not t.startswith(TR_IRI)}
    assert all(t.startswith("https://w3id.org/tinyreg/shapes#") for t in ours), ours
    context = context_document("https://w3id.org/tinyreg/td/v1")
    assert context is not None and context["@context"]["tr"] == TR_IRI
    # every tr: term the shapes use exists in the ontology
    declared = _declared()
    used = {t[len(TR_IRI) :] for t in shapes_terms if t.startswith(TR_IRI)}
    assert used <= declared, used - declared
