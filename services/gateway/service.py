"""The gateway's nameko entrypoints: one HTTP entrypoint per route of the route table (routes.py), the web
interface's paths handed to services.gateway.web.app, and RPC health like every service.

Thin: each entrypoint builds the request's Context (who is asking) and hands over to dispatch.handle_http or to
the web interface. The services are reached through nameko RPC proxies, with a time limit.
"""
from __future__ import annotations

import importlib
import logging
import os
import time

import eventlet
from kombu import Connection
from nameko.dependency_providers import Config
from nameko.exceptions import RemoteError, UnknownService
from nameko.extensions import DependencyProvider
from nameko.timer import timer
from nameko.web.handlers import http
from sqlalchemy import text
from werkzeug.wrappers import Response

from services.gateway import dispatch
from services.gateway.context import Context, unavailable
from services.gateway.errors import ApiError, UpstreamFailed
from services.gateway.routes import all_routes
from services.gateway.runtime import Gateway
from services.gateway.settings import Settings
from shared import config
from shared.db import engine_for
from shared.messaging.health import write_heartbeat
from shared.messaging.rpc import RpcProxy, rpc
from shared.migrations import upgrade

log = logging.getLogger(__name__)
# eventlet's access log (through nameko's web server logger) writes every request's path, and paths carry opaque
# ids and acknowledgement links' tokens: silenced here whatever the logging configuration says; _api logs each
# request by its route's name instead.
logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
SERVICES = config.SERVICES   # every service the gateway may call


class GatewayRuntime(DependencyProvider):
    """The gateway's database (migrated at start, as every service's) and settings, shared by all workers."""

    def setup(self):
        url = self.container.config.get("DATABASE_URL") or config.database_url("gateway")
        if os.environ.get("AQ_MIGRATE_ON_START", "1") != "0":
            upgrade("gateway", url)
        self.gateway = Gateway(engine_for("gateway", url), Settings.from_env(),
                               amqp_uri=self.container.config.get("AMQP_URI"))

    def get_dependency(self, worker_ctx):
        return self.gateway


class ServiceCaller:
    """ctx.rpc's backend: a nameko RPC proxy per service, a time limit, and clear errors."""

    def __init__(self, proxies: dict, timeout: float):
        self.proxies, self.timeout = proxies, timeout

    def __call__(self, service: str, method: str, kwargs: dict):
        proxy = self.proxies.get(service)
        if proxy is None:
            raise unavailable(service, "is not one the gateway knows")
        try:
            with eventlet.Timeout(self.timeout):
                return getattr(proxy, method)(**kwargs)
        except eventlet.Timeout:
            raise unavailable(service, f"did not answer within {self.timeout:.0f}s") from None
        except UnknownService:
            raise unavailable(service, "is not running") from None
        except RemoteError as error:
            log.error("%s.%s raised %s", service, method, error.exc_type)   # the type only: no personal data
            raise UpstreamFailed(f"the {service} service failed ({error.exc_type})") from None


def _web_app():
    """The web interface (services/gateway/web/app.py), or None while it does not exist."""
    try:
        return importlib.import_module("services.gateway.web.app")
    except ModuleNotFoundError as error:
        if error.name in ("services.gateway.web.app", "services.gateway.web"):
            return None
        raise


class GatewayService:
    name = "gateway"
    config = Config()
    gateway = GatewayRuntime()
    roster = RpcProxy("roster")
    grades = RpcProxy("grades")
    warnings = RpcProxy("warnings")
    notification = RpcProxy("notification")
    advising = RpcProxy("advising")
    assessment = RpcProxy("assessment")

    def _context(self, request) -> Context:
        caller = ServiceCaller({s: getattr(self, s) for s in SERVICES}, self.gateway.settings.rpc_timeout)
        request.max_content_length = self.gateway.settings.max_upload_bytes
        return Context.for_request(self.gateway, caller, request)

    def _api(self, route, request, path_values):
        started = time.monotonic()
        try:
            ctx = self._context(request)
        except ApiError as error:       # a token whose staff member the roster could not be asked about
            return dispatch.json_response(error.body(), error.status)
        response = dispatch.handle_http(ctx, route, request, path_values)
        # The access log names the route, never the path: paths may carry opaque ids and links' tokens.
        log.info("%s %s -> %s (%.0f ms)", route.method, route.name, response.status_code,
                 (time.monotonic() - started) * 1000)
        return response

    # --- the web interface (services/gateway/web) -------------------------------------------------------------

    def _web(self, request):
        app = _web_app()
        if app is None:
            return Response("not found", status=404, content_type="text/plain; charset=utf-8")
        ctx = self._context(request)
        try:
            response = app.handle(request, ctx)
        except ApiError as error:
            response = dispatch.json_response(error.body(), error.status)
        ctx.set_cookies(response)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @http("GET,POST", "/")
    def web_root(self, request):
        return self._web(request)

    @http("GET,POST", "/ui")
    def web_ui_root(self, request):
        return self._web(request)

    @http("GET,POST", "/ui/<path:rest>")
    def web_ui(self, request, rest):
        return self._web(request)

    @http("GET,POST", "/login")
    def web_login(self, request):
        return self._web(request)

    @http("GET,POST", "/logout")
    def web_logout(self, request):
        return self._web(request)

    @http("GET,POST", "/ack/<token>")
    def web_ack(self, request, token):
        """The acknowledgement page a guardian or student opens from their notice's signed link."""
        return self._web(request)

    # --- health ------------------------------------------------------------------------------------------------

    @rpc
    def health(self) -> dict:
        return {"service": self.name, **self._verdict()}

    @timer(interval=float(os.environ.get("AQ_HEARTBEAT_SECONDS", "5")), eager=True)
    def heartbeat(self):
        write_heartbeat(self.name, self._verdict())

    def _verdict(self) -> dict:
        problems = []
        try:
            with Connection(self.config["AMQP_URI"], connect_timeout=3) as conn:
                conn.ensure_connection(max_retries=1)
        except Exception as exc:    # the finding, not an error of ours
            problems.append(f"broker unreachable: {exc}")
        try:
            with self.gateway.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            problems.append(f"database unreachable: {exc}")
        return {"healthy": not problems, "problems": problems, "outbox": None}


def _api_entrypoint(route):
    def entrypoint(self, request, **path_values):
        return self._api(route, request, path_values)
    entrypoint.__name__ = "api_" + route.name.replace(".", "_").replace("-", "_")
    entrypoint.__doc__ = route.summary
    return http(route.method, route.path)(entrypoint)


for _route in all_routes():
    _method = _api_entrypoint(_route)
    setattr(GatewayService, _method.__name__, _method)
