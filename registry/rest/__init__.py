"""The REST service of tinyreg: ``create_app(settings)`` and its :class:`Settings`.

A W3C WoT Thing Description Directory (``/things``, ``/search/sparql``, ``/events``,
``/.well-known/wot``) plus tinyreg's models and matchmaking (``/models``, ``/match``),
a thin shell over :class:`tinyreg.registry.Registry`. ``tinyreg serve`` runs it with
uvicorn.
"""

from tinyreg.registry.rest.app import create_app
from tinyreg.registry.rest.settings import Settings, default_td_schema_path

__all__ = ["Settings", "create_app", "default_td_schema_path"]
