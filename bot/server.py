"""HTTP mode: a Starlette app served by uvicorn.

POST /slack/events   events, slash commands, interactivity and shortcuts (one URL, like Slack)
GET  /healthz        liveness + database check (+ whatever `health` adds, e.g. the scheduler)
GET  /metrics        Prometheus text format
GET  /portal/...     the compliance portal (bot/portal/)
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from bot.portal.app import portal_routes
from bot.request_guard import RequestGuard, quiet_framework_loggers
from commands.deps import Deps

log = logging.getLogger(__name__)

# Slack gives up after 3 s; the buckets show how far inside that window acks land.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5)


class HttpMetrics:
    """Request counters and ack latency of /slack/events."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "slabot_slack_requests", "Requests received from Slack", ["kind", "status"],
            registry=registry,
        )
        self.ack_seconds = Histogram(
            "slabot_slack_ack_seconds", "Time to answer a Slack request", ["kind"],
            buckets=_ACK_BUCKETS, registry=registry,
        )


def _kind(body: bytes, content_type: str) -> str:
    """Coarse request kind for metrics, without parsing the whole payload."""
    if b"command=%2F" in body:
        return "command"
    if body.startswith(b"payload="):
        return "interactive"
    if "json" in content_type:
        return "event"
    return "other"


def create_server(
    app: App,
    deps: Deps,
    *,
    registry: CollectorRegistry | None = None,
    health: Callable[[], dict[str, Any]] | None = None,
) -> Starlette:
    """The ASGI app for `app`; `health` adds fields to /healthz (a False "ok" turns it 503)."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = HttpMetrics(registry)

    async def slack_events(request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        # Bolt's App is synchronous: dispatch off the event loop so slow acks never block it.
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        kind = _kind(body, request.headers.get("content-type", ""))
        metrics.requests.labels(kind=kind, status=str(bolt_response.status)).inc()
        metrics.ack_seconds.labels(kind=kind).observe(time.perf_counter() - started)
        return to_starlette_response(bolt_response)

    def check_database() -> str:
        with deps.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return "ok"

    async def healthz(request: Request) -> Response:
        payload: dict[str, Any] = {"status": "ok"}
        try:
            payload["database"] = await run_in_threadpool(check_database)
        except Exception as exc:
            log.warning("health check: database unavailable: %s", exc.__class__.__name__)
            payload["database"] = "unavailable"
            payload["status"] = "degraded"
        if health is not None:
            try:
                extra = await run_in_threadpool(health)
                payload.update(extra)
                if extra.get("ok") is False:
                    payload["status"] = "degraded"
            except Exception:
                log.exception("health check extension failed")
                payload["status"] = "degraded"
        return JSONResponse(payload, status_code=200 if payload["status"] == "ok" else 503)

    async def prometheus(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    quiet_framework_loggers()
    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
            *portal_routes(deps),  # /portal: compliance pages, Sign in with Slack
        ],
        middleware=[Middleware(RequestGuard)],  # size cap and shape check of /slack/events
    )


class BackgroundServer:
    """uvicorn serving an ASGI app in a thread: tests, Socket Mode's /healthz, the demo's
    servers (`serve` runs the bot in the foreground).

    It binds `host`:`port` (0: a free port) unless given a bound `sock`; `on_stop` runs
    before uvicorn is asked to exit (e.g. to end streaming responses it would wait for).
    """

    def __init__(self, asgi: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 sock: socket.socket | None = None,
                 on_stop: Callable[[], None] | None = None,
                 graceful_seconds: int | None = None) -> None:
        self._socket = sock or bind_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        self._on_stop = on_stop
        config = uvicorn.Config(asgi, log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=graceful_seconds)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        """Start serving and wait until the socket accepts requests."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise OSError(f"could not serve on {self.host}:{self.port}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit and wait for the thread."""
        if self._on_stop is not None:
            self._on_stop()
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


def bind_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (0: any free port), ready for uvicorn to listen on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve(asgi: ASGIApp, port: int, *, host: str = "0.0.0.0", log_level: str = "info") -> None:
    """Serve in the foreground until SIGINT/SIGTERM (what `slabot run` does in HTTP mode)."""
    uvicorn.run(asgi, host=host, port=port, log_level=log_level.lower(), access_log=False)
