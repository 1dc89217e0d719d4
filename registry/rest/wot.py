"""The directory's own Thing Description (served at ``/.well-known/wot``)."""

from __future__ import annotations

from typing import Any

__all__ = ["directory_td"]

TD_TYPE = "application/td+json"


def _form(href: str, op: str, method: str, *, write: bool = False, **extra: Any) -> dict[str, Any]:
    form: dict[str, Any] = {"href": href, "op": op, "htv:methodName": method, **extra}
    if write:
        form["security"] = ["bearer_sc"]
    return form


def directory_td(base: str, *, reads_need_token: bool = False) -> dict[str, Any]:
    """The TD of a tinyreg directory whose API is at ``base`` (no trailing slash).

    It follows the Thing Description Directory Thing Model of W3C WoT Discovery: the
    ``things`` property, the create/retrieve/update/delete actions, the SPARQL search
    action and the three events over Server-Sent Events.

    >>> td = directory_td("http://127.0.0.1:8000")
    >>> td["@type"], td["properties"]["things"]["forms"][0]["href"]
    ('ThingDirectory', 'http://127.0.0.1:8000/things')
    """
    td_body = {"contentType": TD_TYPE}
    return {
        "@context": [
            "https://www.w3.org/2022/wot/td/v1.1",
            "https://www.w3.org/2022/wot/discovery",
            {"htv": "http://www.w3.org/2011/http#"},
        ],
        "@type": "ThingDirectory",
        "id": f"{base}/.well-known/wot",
        "title": "tinyreg Thing Description Directory",
        "description": "Thing Descriptions of TinyML boards and other Things, models, matching.",
        "version": {"instance": "1.0.0"},
        "securityDefinitions": {
            "nosec_sc": {"scheme": "nosec"},
            "bearer_sc": {"scheme": "bearer", "in": "header", "name": "Authorization"},
        },
        "security": ["bearer_sc"] if reads_need_token else ["nosec_sc"],
        "properties": {
            "things": {
                "description": "The Thing Descriptions, in id order, a page at a time.",
                "type": "array",
                "items": {"type": "object"},
                "readOnly": True,
                "uriVariables": {
                    "offset": {"type": "integer", "minimum": 0},
                    "limit": {"type": "integer", "minimum": 1},
                },
                "forms": [
                    _form(f"{base}/things", "readproperty", "GET", contentType="application/json")
                ],
            }
        },
        "actions": {
            "createThing": {
                "description": "Create or replace a TD under its id.",
                "uriVariables": {"id": {"type": "string", "format": "iri-reference"}},
                "input": td_body,
                "forms": [_form(f"{base}/things/{{id}}", "invokeaction", "PUT", write=True)],
            },
            "createAnonymousThing": {
                "description": "Register a TD without an id; the directory gives it one.",
                "input": td_body,
                "forms": [_form(f"{base}/things", "invokeaction", "POST", write=True)],
            },
            "retrieveThing": {
                "uriVariables": {"id": {"type": "string", "format": "iri-reference"}},
                "output": td_body,
                "safe": True,
                "idempotent": True,
                "forms": [_form(f"{base}/things/{{id}}", "invokeaction", "GET")],
            },
            "updatePartialThing": {
                "uriVariables": {"id": {"type": "string", "format": "iri-reference"}},
                "input": {"contentType": "application/merge-patch+json"},
                "forms": [
                    _form(
                        f"{base}/things/{{id}}",
                        "invokeaction",
                        "PATCH",
                        write=True,
                        contentType="application/merge-patch+json",
                    )
                ],
            },
            "deleteThing": {
                "uriVariables": {"id": {"type": "string", "format": "iri-reference"}},
                "idempotent": True,
                "forms": [_form(f"{base}/things/{{id}}", "invokeaction", "DELETE", write=True)],
            },
            "searchSPARQL": {
                "description": "SPARQL 1.1 query over the directory's knowledge graph.",
                "uriVariables": {"query": {"type": "string"}},
                "safe": True,
                "idempotent": True,
                "forms": [
                    _form(
                        f"{base}/search/sparql?query={{query}}",
                        "invokeaction",
                        "GET",
                        contentType="application/sparql-results+json",
                    )
                ],
            },
        },
        "events": {
            name: {
                "data": {"type": "object"},
                "forms": [
                    {
                        "href": f"{base}/events/{kind}",
                        "op": "subscribeevent",
                        "subprotocol": "sse",
                        "contentType": "text/event-stream",
                    }
                ],
            }
            for name, kind in (
                ("thingCreated", "thing_created"),
                ("thingUpdated", "thing_updated"),
                ("thingDeleted", "thing_deleted"),
            )
        },
    }
