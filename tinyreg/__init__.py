"""tinyreg: a semantic registry of TinyML models and microcontroller devices.

The package's modules live in the project's top-level folders (``core/``, ``registry/``,
``matchmaker/``, ``firmware/``, ``ontology/``, ``kg_data/``); this folder links them under
the one import name ``tinyreg``, so the interpreter, the type checker and doctests all see
each module under one name. The public Python API is :mod:`tinyreg.registry`.

>>> import tinyreg
>>> tinyreg.__version__
'0.1.0'
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
