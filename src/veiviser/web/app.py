"""The FastAPI application: public API, chat page, API docs."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from veiviser import __version__
from veiviser.dialogue import Texts
from veiviser.service import Assistant
from veiviser.settings import Settings, SettingsError
from veiviser.web.admin import ADMIN_TOO_LARGE_PATH, ADMIN_UPLOAD_PATH, install_admin
from veiviser.web.api import router
from veiviser.web.errors import install_error_handlers
from veiviser.web.handover_api import router as handover_router
from veiviser.web.member_portal import router as member_portal_router
from veiviser.web.middleware import BodyLimit, SecurityHeaders
from veiviser.web.ops import RATE_LIMITED, install_ops
from veiviser.web.ratelimit import RateLimit, parse_networks
from veiviser.web.widget import router as widget_router

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
STATIC_URL = "/static"
_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
)


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """Build the app.

    Args:
        settings: the process's settings.
        assistant: an assistant that is already prepared (tests, ``serve``);
            without one, the app opens and prepares its own on start-up and
            closes it on shutdown.
    """
    app = FastAPI(
        title="Veiviser API",
        version=__version__,
        description="Member-service chat assistant. Errors share one JSON shape.",
        lifespan=_lifespan(settings, assistant),
        docs_url=None,
        redoc_url=None,
    )
    app.state.assistant = assistant
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(router)
    app.include_router(widget_router)
    if settings.demo_mode:
        # The demo portal signs anyone in without a password: demo only.
        app.include_router(member_portal_router)
    app.include_router(handover_router)
    install_admin(app)
    _add_pages(app, settings)
    app.mount(STATIC_URL, StaticFiles(directory=HERE / "static"), name="static")
    _mount_docs_assets(app)

    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        larger={ADMIN_UPLOAD_PATH: settings.admin_upload_bytes},
        page=("/admin", ADMIN_TOO_LARGE_PATH),
    )
    _add_rate_limit(app, settings)
    if settings.allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Member-Token",
                "X-Visitor-Id",
            ],
            allow_credentials=False,
            max_age=600,
        )
    app.add_middleware(SecurityHeaders)
    # Outermost: every response, 413 and 429 included, is logged and counted.
    install_ops(app)
    return app


def _add_rate_limit(app: FastAPI, settings: Settings) -> None:
    if settings.rate_limit_per_minute <= 0:
        return
    try:
        trusted = parse_networks(settings.trusted_proxies)
    except ValueError as error:
        raise SettingsError(
            f"VEIVISER_TRUSTED_PROXIES holds a value that is not an address or "
            f"network: {error}"
        ) from error
    app.add_middleware(
        RateLimit,
        per_minute=settings.rate_limit_per_minute,
        trusted_proxies=trusted,
        on_refused=RATE_LIMITED.inc,
    )


def _lifespan(
    settings: Settings, given: Assistant | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assistant = given
        if assistant is None:
            assistant = await run_in_threadpool(_open_assistant, settings)
            app.state.assistant = assistant
        assistant.watcher.start()
        try:
            yield
        finally:
            assistant.watcher.stop()
            if given is None:
                assistant.close()

    return lifespan


def _open_assistant(settings: Settings) -> Assistant:
    assistant = Assistant.open(settings)
    assistant.prepare()
    return assistant


def _page_texts(request: Request) -> Texts:
    assistant: Assistant | None = request.app.state.assistant
    runtime = assistant.models.current if assistant is not None else None
    return runtime.view.texts if runtime is not None else Texts()


def _add_pages(app: FastAPI, settings: Settings) -> None:
    # HEAD too: uptime monitors and link checkers ask with HEAD.
    @app.api_route(
        "/",
        methods=["GET", "HEAD"],
        response_class=HTMLResponse,
        include_in_schema=False,
    )
    def chat_page(request: Request) -> HTMLResponse:
        texts = _page_texts(request)
        html = _templates.get_template("index.html").render(
            title=texts.get("page_title"),
            organisation=texts.organisation.name,
            static_url=STATIC_URL,
            max_chars=settings.max_message_chars,
            texts={
                "input_label": texts.get("page_input_label"),
                "send": texts.get("page_send"),
                "helpful": texts.get("page_helpful"),
                "yes": texts.get("page_yes"),
                "no": texts.get("page_no"),
                "thanks": texts.get("page_thanks_feedback"),
                "connection_error": texts.get("page_connection_error"),
            },
        )
        return HTMLResponse(html)

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    def favicon() -> FileResponse:
        # Browsers ask for /favicon.ico on every site; an SVG answers them all.
        return FileResponse(
            HERE / "static" / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs() -> HTMLResponse:
        html = _templates.get_template("docs.html").render(
            title="Veiviser API", static_url=STATIC_URL
        )
        return HTMLResponse(html)


def _mount_docs_assets(app: FastAPI) -> None:
    # Swagger UI ships inside a PyPI package, so the docs work offline.
    try:
        import swagger_ui_bundle
    except ImportError:  # pragma: no cover - a declared dependency
        log.warning("swagger-ui-bundle is missing; /docs will have no UI")
        return
    app.mount(
        "/docs/assets",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="docs-assets",
    )
