"""``propdesk serve``: run the web application (uvicorn, in this process)."""

from __future__ import annotations

import click
import uvicorn

from propdesk.cli.common import run
from propdesk.logs import configure_logging
from propdesk.runtime import Runtime
from propdesk.settings import get_settings


@click.command()
@click.option("--host", default=None, help="Interface to listen on [PROPDESK_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port to listen on [PROPDESK_PORT, 8000].")
def serve(host: str | None, port: int | None) -> None:
    """Serve the API (OpenAPI at /schema, /health and /ready) until interrupted."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    bind_host = host or settings.host
    bind_port = port if port is not None else settings.port

    async def action(runtime: Runtime) -> None:
        await web_server(runtime, bind_host, bind_port).serve()

    run(action)


def web_server(runtime: Runtime, host: str, port: int) -> uvicorn.Server:
    """uvicorn serving the app of ``runtime`` in this process."""
    from propdesk.http.app import create_app

    config = uvicorn.Config(
        create_app(runtime),
        host=host,
        port=port,
        # Our logging is already configured, and the app writes its own access lines.
        log_config=None,
        access_log=False,
        lifespan="on",
        proxy_headers=False,
    )
    return uvicorn.Server(config)


def register(cli: click.Group) -> None:
    cli.add_command(serve)
