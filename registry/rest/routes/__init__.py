"""The REST app's routes, one :class:`fastapi.APIRouter` per resource.

``things`` (the TD directory), ``wot`` (the directory's own TD), ``events`` (Server-Sent
Events), ``search`` (SPARQL), ``models``, ``match``, ``deployments``, ``reports``,
``graph`` (export, check, reindex, bench), ``loop`` (telemetry, drift, retraining, rollouts)
and ``health`` (``/healthz``, ``/readyz``, ``/metrics``).
"""

from tinyreg.registry.rest.routes import (
    deployments,
    events,
    graph,
    health,
    loop,
    match,
    models,
    reports,
    search,
    things,
    wot,
)

__all__ = ["ROUTERS"]

ROUTERS = (
    wot.router,
    things.router,
    events.router,
    search.router,
    models.router,
    match.router,
    deployments.router,
    reports.router,
    graph.router,
    loop.router,
    health.router,
)
"""Every router, in the order of the OpenAPI document."""
