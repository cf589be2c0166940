"""ApiFunction: the FastAPI app behind API Gateway, through Mangum; Powertools logs and metrics
as in every function (the X-Ray tracer aside: see kidstory.observability)."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from mangum import Mangum

from api.app import create_app
from kidstory.config.load import get_settings
from kidstory.observability import logger, metrics

# The deployed app: the settings read once, at cold start (the local stack serves it too).
app = create_app(get_settings())

# API Gateway's own domain serves the API under its stage (`/dev/...`) but passes paths without it.
EXECUTE_API = ".execute-api."


async def staged_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    """The app, told the stage path it is served under on API Gateway's own domain (so /docs
    loads /dev/openapi.json, not /openapi.json); behind a custom domain there is none."""
    context = scope.get("aws.event", {}).get("requestContext", {})
    stage = context.get("stage")
    if (
        scope["type"] == "http"
        and stage
        and stage != "$default"
        and EXECUTE_API in str(context.get("domainName", ""))
    ):
        scope = {**scope, "root_path": f"/{stage}"}
    await app(scope, receive, send)


asgi_handler = Mangum(staged_app, lifespan="off")


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Each request, with its metrics (StoriesRequested, moderation throttles) flushed."""
    return asgi_handler(event, context)
