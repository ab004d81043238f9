"""Serving the portal with uvicorn: in the foreground (`rentmeter portal serve`) or on a thread of this
process (`rentmeter demo`, tests)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette

from portal.app import create_app
from portal.errors import SettingsError
from portal.settings import PortalSettings, host_and_port

logger = logging.getLogger(__name__)


def _config(app: Starlette, settings: PortalSettings, log_level: str) -> uvicorn.Config:
    host, port = host_and_port(settings.listen)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_level=log_level,
        server_header=False,
        # X-Forwarded-For / -Proto only from the proxies named; the client address is then the real one
        # (the sign-in limit counts per client address).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies) or None,
    )


def serve(settings: PortalSettings) -> None:
    """Serve until interrupted (SIGINT, SIGTERM)."""
    logger.info(
        "portal serving on %s for %s, collector %s", settings.listen, settings.base_url, settings.collector
    )
    uvicorn.Server(_config(create_app(settings), settings, "info")).run()


@dataclass(frozen=True)
class RunningPortal:
    app: Starlette
    url: str  # http://127.0.0.1:PORT


@contextmanager
def running_portal(settings: PortalSettings, start_timeout_s: float = 15.0) -> Iterator[RunningPortal]:
    """The portal on a thread (its own event loop); `settings.listen` may have port 0 (any free port)."""
    app = create_app(settings)
    server = uvicorn.Server(_config(app, settings, "warning"))
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise SettingsError(f"the portal could not start on {settings.listen}")
        time.sleep(0.02)
    host, port = server.servers[0].sockets[0].getsockname()[:2]
    try:
        yield RunningPortal(app, f"http://{host}:{port}")
    finally:
        server.should_exit = True
        thread.join(timeout=15)
