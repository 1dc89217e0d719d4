"""The directory's own Thing Description (served at ``/.well-known/wot``).

It is an instance of the Thing Description Directory Thing Model of W3C WoT Discovery
(``directory.tm.json``): the affordance names, URI templates and status codes are the
model's, so a generic WoT client can page through ``things``, retrieve, create, update and
delete TDs, search with SPARQL and subscribe to the three events.
"""

from __future__ import annotations

from typing import Any

__all__ = ["directory_td"]

TD_TYPE = "application/td+json"
PROBLEM = "application/problem+json"
SPARQL_RESULTS = "application/sparql-results+json"
_ID_VARIABLE = {
    "id": {
        "@type": "ThingID",
        "title": "Thing Description ID",
        "type": "string",
        "format": "iri-reference",
    }
}


def _problem(status: int, description: str) -> dict[str, Any]:
    return {"description": description, "contentType": PROBLEM, "htv:statusCodeValue": status}


def _form(
    href: str,
    op: str,
    method: str,
    *,
    write: bool = False,
    response: dict[str, Any] | None = None,
    errors: tuple[tuple[int, str], ...] = (),
    **extra: Any,
) -> dict[str, Any]:
    form: dict[str, Any] = {"href": href, "op": op, "htv:methodName": method, **extra}
    if response is not None:
        form["response"] = response
    problems = [_problem(status, text) for status, text in errors]
    if write:
        form["security"] = ["bearer_sc"]
        problems += [_problem(401, "No or a wrong token"), _problem(403, "Writes are off")]
    if problems:
        form["additionalResponses"] = problems
    return form


def _ok(status: int, content_type: str | None = None, header: str | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": "Success", "htv:statusCodeValue": status}
    if content_type is not None:
        response["contentType"] = content_type
    if header is not None:
        response["htv:headers"] = [{"htv:fieldName": header}]
    return response


def directory_td(base: str, *, reads_need_token: bool = False) -> dict[str, Any]:
    """The TD of a tinyreg directory whose API is at ``base`` (no trailing slash).

    It follows the Thing Description Directory Thing Model of W3C WoT Discovery: the
    ``things`` property (paged through its ``{?offset,limit,format}`` URI template), the
    create/retrieve/update/delete actions, the SPARQL search action and the three events
    over Server-Sent Events.

    >>> td = directory_td("http://127.0.0.1:8000")
    >>> td["@type"], td["properties"]["things"]["forms"][0]["href"]
    ('ThingDirectory', 'http://127.0.0.1:8000/things{?offset,limit,format}')
    """
    td_object = {"description": "A Thing Description", "type": "object"}
    one = f"{base}/things/{{id}}"
    not_found = (404, "No TD with this id")
    invalid = (400, "Invalid serialization or TD (validationErrors name the fields)")
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
        "version": {"instance": "1.1.0"},
        "links": [
            {
                "rel": "type",
                "href": "https://w3c.github.io/wot-discovery/directory.tm.json",
                "type": "application/tm+json",
            }
        ],
        "securityDefinitions": {
            "nosec_sc": {"scheme": "nosec"},
            "bearer_sc": {"scheme": "bearer", "in": "header", "name": "Authorization"},
        },
        "security": ["bearer_sc"] if reads_need_token else ["nosec_sc"],
        "properties": {
            "things": {
                "description": (
                    "The Thing Descriptions in id order, a page at a time: a JSON array, or a "
                    "ThingCollection (total, members, next) with format=collection; "
                    "the Link header names the next page and the collection's ETag."
                ),
                "type": "array",
                "items": td_object,
                "readOnly": True,
                "uriVariables": {
                    "offset": {
                        "title": "Number of TDs to skip before the page",
                        "type": "integer",
                        "minimum": 0,
                        "default": 0,
                    },
                    "limit": {
                        "title": "Number of TDs in a page",
                        "type": "integer",
                        "minimum": 1,
                        "maximum": 10_000,
                    },
                    "format": {
                        "title": "Payload format",
                        "type": "string",
                        "enum": ["array", "collection"],
                        "default": "array",
                    },
                },
                "forms": [
                    _form(
                        f"{base}/things{{?offset,limit,format}}",
                        "readproperty",
                        "GET",
                        contentType="application/ld+json",
                        response=_ok(200, "application/ld+json", header="Link"),
                        errors=((400, "Invalid query arguments"),),
                    )
                ],
            }
        },
        "actions": {
            "createThing": {
                "description": "Create a TD under its id (201); an existing id is updated.",
                "uriVariables": _ID_VARIABLE,
                "input": td_object,
                "forms": [
                    _form(
                        one,
                        "invokeaction",
                        "PUT",
                        write=True,
                        contentType=TD_TYPE,
                        response=_ok(201),
                        errors=(invalid,),
                    )
                ],
            },
            "createAnonymousThing": {
                "description": (
                    "Register a TD without an id; the directory gives it one (Location header). "
                    "A TD that has an id is refused: use createThing."
                ),
                "input": td_object,
                "forms": [
                    _form(
                        f"{base}/things",
                        "invokeaction",
                        "POST",
                        write=True,
                        contentType=TD_TYPE,
                        response=_ok(201, header="Location"),
                        errors=(invalid,),
                    )
                ],
            },
            "retrieveThing": {
                "description": "One TD with its registration information.",
                "uriVariables": _ID_VARIABLE,
                "output": td_object,
                "safe": True,
                "idempotent": True,
                "forms": [
                    _form(
                        one,
                        "invokeaction",
                        "GET",
                        response=_ok(200, TD_TYPE),
                        errors=(not_found,),
                    )
                ],
            },
            "updateThing": {
                "description": "Replace the TD under its id (204).",
                "uriVariables": _ID_VARIABLE,
                "input": td_object,
                "idempotent": True,
                "forms": [
                    _form(
                        one,
                        "invokeaction",
                        "PUT",
                        write=True,
                        contentType=TD_TYPE,
                        response=_ok(204),
                        errors=(invalid,),
                    )
                ],
            },
            "partiallyUpdateThing": {
                "description": "Apply a JSON Merge Patch (RFC 7396) to a TD.",
                "uriVariables": _ID_VARIABLE,
                "input": {"description": "A JSON Merge Patch", "type": "object"},
                "forms": [
                    _form(
                        one,
                        "invokeaction",
                        "PATCH",
                        write=True,
                        contentType="application/merge-patch+json",
                        response=_ok(204),
                        errors=(invalid, not_found),
                    )
                ],
            },
            "deleteThing": {
                "description": "Delete a TD.",
                "uriVariables": _ID_VARIABLE,
                "idempotent": True,
                "forms": [
                    _form(
                        one,
                        "invokeaction",
                        "DELETE",
                        write=True,
                        response=_ok(204),
                        errors=(not_found,),
                    )
                ],
            },
            "searchSPARQL": {
                "description": (
                    "SPARQL 1.1 query (read only) over the directory's knowledge graph; "
                    "SELECT and ASK answer SPARQL JSON results (CSV, TSV or XML through "
                    "Accept), CONSTRUCT and DESCRIBE answer RDF."
                ),
                "uriVariables": {"query": {"title": "A valid SPARQL 1.1 query", "type": "string"}},
                "input": {"description": "The query (POST)", "type": "string"},
                "output": {
                    "description": "SPARQL 1.1 Query Results JSON (head, results or boolean)",
                    "type": "object",
                    "properties": {
                        "head": {"type": "object"},
                        "results": {"type": "object"},
                        "boolean": {"type": "boolean"},
                    },
                },
                "safe": True,
                "idempotent": True,
                "forms": [
                    _form(
                        f"{base}/search/sparql?query={{query}}",
                        "invokeaction",
                        "GET",
                        response=_ok(200, SPARQL_RESULTS),
                        errors=((400, "No query, a syntax error or an update"),),
                    ),
                    _form(
                        f"{base}/search/sparql",
                        "invokeaction",
                        "POST",
                        contentType="application/sparql-query",
                        response=_ok(200, SPARQL_RESULTS),
                        errors=((400, "No query, a syntax error or an update"),),
                    ),
                ],
            },
        },
        "events": {
            name: {
                "description": description,
                "uriVariables": {
                    "diff": {"description": "Include the TD (or its changes)", "type": "boolean"}
                },
                "data": {"type": "object"},
                "forms": [
                    {
                        "href": f"{base}/events/{kind}{{?diff}}",
                        "op": "subscribeevent",
                        "subprotocol": "sse",
                        "contentType": "text/event-stream",
                        "htv:headers": [{"htv:fieldName": "Last-Event-ID"}],
                    }
                ],
            }
            for name, kind, description in (
                ("thingCreated", "thing_created", "A TD was registered"),
                ("thingUpdated", "thing_updated", "A TD was updated"),
                ("thingDeleted", "thing_deleted", "A TD was deleted"),
            )
        },
    }
