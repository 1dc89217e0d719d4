"""``/models``: list, show, register (upload) and delete models."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.responses import Response

from tinyreg.registry.rest.inputs import location
from tinyreg.registry.rest.shared import Reader, Writer, call, json_response, readable

__all__ = ["router"]

router = APIRouter(tags=["models"])


@readable(router, "/models")
async def list_models(
    s: Reader,
    task: str | None = None,
    runnable: bool | None = None,
    q: Annotated[str | None, Query(description="text in id, name or dataset")] = None,
) -> Response:
    """The models (as ``tinyreg list models --format json``), optionally filtered."""
    records = await call(s.registry.find_models, task=task, runnable=runnable, text=q)
    return json_response([r.to_dict() for r in records])


@readable(router, "/models/{ident}")
async def get_model(ident: str, s: Reader) -> Response:
    """One model, as ``tinyreg show`` gives it (with its input and output tensors)."""
    return json_response(await call(s.registry.details, ident, "model"))


@router.post("/models", status_code=201)
async def add_model(
    s: Writer,
    file: Annotated[UploadFile, File(description="the .tflite model")],
    card: Annotated[UploadFile | None, File(description="its card, YAML or JSON")] = None,
    ident: Annotated[str | None, Form(alias="id")] = None,
    replace: bool = False,
    infer: bool = False,
) -> Response:
    """Register a .tflite with its card: parsed, arena measured by TFLM, validated.

    An id already registered is refused (409) unless ``replace=true``. With
    ``infer=true`` the runtime also runs one inference with all-zero inputs.
    """
    data = await file.read()
    record = await call(
        s.registry.add_model,
        data,
        await card.read() if card is not None else None,
        ident=ident or None,
        filename=file.filename or "model.tflite",
        card_label=(card.filename if card is not None else None) or "<card>",
        replace=replace,
        infer=infer,
    )
    return json_response(record.to_dict(), 201, Location=location("/models/", record.id))


@router.delete("/models/{ident}", status_code=204)
async def delete_model(ident: str, s: Writer) -> Response:
    """Delete a model."""
    await call(s.registry.delete_model, ident)
    return Response(status_code=204)
