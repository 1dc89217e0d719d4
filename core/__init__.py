"""The bottom layer every other package builds on.

Errors (:mod:`~tinyreg.core.errors`), vocabulary and literal forms
(:mod:`~tinyreg.core.namespaces`, :mod:`~tinyreg.core.vocabulary`,
:mod:`~tinyreg.core.literals`), the packaged-query loader (:mod:`~tinyreg.core.queries`),
graph stores (:mod:`~tinyreg.core.stores`), the .tflite parser (:mod:`~tinyreg.core.tflite`),
the TensorFlow Lite Micro wrapper (:mod:`~tinyreg.core.arena`) and the over-the-air
protocol shared by the deployer and devices (:mod:`~tinyreg.core.protocol`,
:mod:`~tinyreg.core.mqtt`). Nothing here imports another tinyreg package but the
ontology's data.

Each module's public names are in its own ``__all__``; this package exports none itself.
"""

__all__: list[str] = []
