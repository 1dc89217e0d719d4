"""``/reports/latest``: the registry's report, as HTML, JSON figures or Markdown."""

from email.utils import format_datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from tinyreg.registry.rest.shared import Reader, call, ok, readable, token_ok

__all__ = ["router"]

router = APIRouter(tags=["reports"])


@readable(router, "/reports/latest", responses=ok("text/html", "application/json", "text/markdown"))
async def latest_report(request: Request, s: Reader, refresh: bool = False) -> Response:
    """The report of the graph: HTML, or by ``Accept`` its figures (JSON) or Markdown.

    The report is written again after a write, after ``report_max_age_s``, or on
    ``refresh``.
    """
    refresh = refresh and token_ok(s.settings, request)  # anonymous: the cached report
    report = await call(s.reports.latest, s.report_generation(), refresh=refresh)
    accept = request.headers.get("accept", "")
    headers = {"Last-Modified": format_datetime(report.generated_at, usegmt=True)}
    headers["ETag"] = f'"{report.etag}"'
    if "text/html" not in accept and "application/json" in accept:
        return Response(report.json, media_type="application/json", headers=headers)
    if "text/html" not in accept and "text/markdown" in accept:
        return Response(report.markdown, media_type="text/markdown", headers=headers)
    return Response(report.html, media_type="text/html; charset=utf-8", headers=headers)
