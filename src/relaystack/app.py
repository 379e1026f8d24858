"""The one place that reads the configuration and wires the pieces together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from relaystack import __version__
from relaystack.accounting.limits import limit_gate
from relaystack.api.body import documented_models
from relaystack.api.context import Authentication
from relaystack.api.errors import install_error_handlers
from relaystack.api.limits import BodyLimits
from relaystack.api.routes import (
    background_api,
    chat_api,
    conversations_api,
    docs_api,
    files_api,
    health_api,
    models_api,
    operations_api,
    prompts_api,
    responses_api,
    responses_ws,
    vector_stores_api,
)
from relaystack.config import (
    Config,
    ConfigError,
    RecordingConfig,
    StorageConfig,
    sqlite_path,
    without_password,
)
from relaystack.conversations.service import ConversationsService
from relaystack.errors import ApiError
from relaystack.ids import Clock, IdSource
from relaystack.inference.base import InferenceProvider
from relaystack.inference.openai_compatible import connection_pool
from relaystack.inference.provider_type import ProviderContext
from relaystack.inference.providers import provider_type
from relaystack.inference.registry import ModelRegistry
from relaystack.observability.middleware import RequestMiddleware
from relaystack.observability.setup import attach_store, build_recorder, detach_store
from relaystack.responses.background import BackgroundWorkers
from relaystack.responses.chain_cache import ChainCache
from relaystack.responses.prompts_service import PromptsService
from relaystack.responses.service import ResponsesService
from relaystack.retrieval.wiring import Retrieval, build_retrieval
from relaystack.sealing import KEY_BYTES, Sealer
from relaystack.search import SearchConfigError
from relaystack.search.backends import SearchBackends, build_backends
from relaystack.search.config import WebSearchConfig
from relaystack.store.jobs import SqlJobStore
from relaystack.store.runners import PostgresSettings
from relaystack.store.sql import SqlStore, open_failure
from relaystack.tools.kind import HttpClientFactory

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The server cannot start; one line says which setting and why."""


def upstream_transport(
    recording: RecordingConfig,
) -> Callable[[str], httpx.AsyncBaseTransport | None]:
    """The transport each provider's upstream HTTP goes through, by its base URL."""

    def transport(base_url: str) -> httpx.AsyncBaseTransport | None:
        if recording.mode == "live":
            return None  # no wrapper at all: live traffic pays nothing for the feature
        from relaystack.recording.transport import RecordingTransport

        assert recording.directory is not None  # the config guarantees it outside live mode
        return RecordingTransport(
            connection_pool(),
            mode=recording.mode,
            directory=Path(recording.directory),
            base_url=base_url,
            pacing=recording.pacing,
        )

    return transport


def _tool_http(recording: RecordingConfig) -> HttpClientFactory:
    """The HTTP of server-side tools (MCP servers, search backends): recorded like
    upstream calls."""
    # One transport (one pool, one SSL context) under every tool client: a transport of
    # its own per client built an SSL context each time, 40-90 ms per MCP session
    # measured on the 2-core bench machine. No cap on connections (each open MCP
    # session on the SSE transport holds its GET stream, and calls can be slow), as when
    # every client had its own pool. Event streams are read to their end (``_KeptOpen``).
    transport: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport(
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=100)
    )
    if recording.mode != "live":
        from relaystack.recording.transport import RecordingTransport

        assert recording.directory is not None
        # Shared, so identical calls in one test are counted (and found) in order.
        transport = RecordingTransport(
            transport,
            mode=recording.mode,
            directory=Path(recording.directory),
            base_url="",
            pacing=recording.pacing,
        )
    # The clients come and go, the transport stays open.
    shared = _KeptOpen(transport)

    def client(
        headers: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
        auth: httpx.Auth | None = None,
    ) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=shared, headers=headers, timeout=timeout, auth=auth)

    return client


def _search_backends(config: WebSearchConfig, client: httpx.AsyncClient) -> SearchBackends | None:
    """Web search's backends; None when neither a backend nor a corpus is configured."""
    if config.backend is None and config.offline is None:
        return None
    try:
        return build_backends(config, client)
    except SearchConfigError as exc:
        raise StartupError(f"tools.web_search: {exc}") from exc


class _KeptOpen(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            response.stream = _ReadToEnd(response.stream)  # type: ignore[arg-type]
        return response


class _ReadToEnd(httpx.AsyncByteStream):
    """An event stream closed before its end (an MCP client closes a POST's stream once
    its answer came) is read to its end first, for at most ``_END_WAIT`` seconds: ended,
    its connection goes back to the pool instead of being closed. An MCP server ends the
    stream right after the answer: a session on bench/mcp_server.py (list, call, end)
    now opens one TCP connection instead of four, 5% fewer client instructions (21.5 M
    to 20.5 M under callgrind), and the server accepts three connections fewer."""

    def __init__(self, inner: httpx.AsyncByteStream) -> None:
        self._inner = inner
        self._ended = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk
        self._ended = True

    async def aclose(self) -> None:
        try:
            if not self._ended:
                # Not awaited by whoever read the answer: the SDK closes it in the task
                # that sent the request, after handing the answer over.
                with contextlib.suppress(Exception):
                    async with asyncio.timeout(_END_WAIT):
                        async for _ in self._inner:
                            pass
        finally:
            await self._inner.aclose()


_END_WAIT = 0.1  # seconds an unfinished event stream is read on before it is closed


def _check_recordings(recording: RecordingConfig) -> None:
    """Replay answers only from the directory: without it every request would miss."""
    if recording.mode == "replay" and not Path(str(recording.directory)).is_dir():
        raise StartupError(
            f"recording.directory: {recording.directory} is not a directory "
            "(replay mode answers only from the recordings in it)"
        )


def build_sealer(config: Config) -> Sealer:
    """The key that seals ``encrypted_content``: ``server.sealing_key`` when set; else a
    key file beside the SQLite database (made once, readable by its owner only), so
    blobs survive restarts; on PostgreSQL without a key, one per process, said loudly,
    because another replica could not open its blobs."""
    if config.server.sealing_key:
        return Sealer.from_secret(config.server.sealing_key)
    database = sqlite_path(config.storage.url)
    if database is None:
        log.warning(
            "server.sealing_key is not set: encrypted_content made by this replica "
            "opens only here, and not after a restart"
        )
        return Sealer.random()
    key_file = database.with_name(database.name + ".sealing-key")
    try:
        return Sealer(key_file.read_bytes())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(KEY_BYTES)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process sharing the database made it first
        return Sealer(key_file.read_bytes())
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return Sealer(key)


def postgres_settings(storage: StorageConfig) -> PostgresSettings:
    return PostgresSettings(
        pool_size=storage.pool_size,
        max_overflow=storage.max_overflow,
        statement_timeout=storage.statement_timeout,
    )


def build_app(
    config: Config,
    *,
    ids: IdSource | None = None,
    clock: Clock | None = None,
    announce: Callable[[list[str]], None] | None = None,
    span_exporter: Any = None,
) -> FastAPI:
    """The ASGI app. ``announce`` hears the public model ids once they are known;
    ``span_exporter`` (OpenTelemetry) receives the spans instead of OTLP (tests)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _check_recordings(config.recording)
        try:
            store = await SqlStore.open(config.storage.url, postgres_settings(config.storage))
        except Exception as exc:
            url = without_password(config.storage.url)
            raise StartupError(f"storage.url: cannot open {url}: {open_failure(exc)}") from exc
        attach_store(store, app.state.recorder)
        app.state.owner_limits = limit_gate(config.operations.limits, store)
        registry = ModelRegistry()
        context = ProviderContext(
            ids=ids or IdSource(),
            clock=clock or Clock(),
            upstream_transport=upstream_transport(config.recording),
        )
        stack = contextlib.AsyncExitStack()
        try:
            for index, provider_config in enumerate(config.providers):
                build = provider_type(provider_config.type).build
                try:
                    await registry.add_provider(build(provider_config, context))
                except (ApiError, ConfigError) as exc:
                    message = exc.message if isinstance(exc, ApiError) else str(exc)
                    raise StartupError(
                        f"providers.{index} ({provider_config.id}): {message}"
                    ) from exc
            retrieval = build_retrieval(config, store.runner, registry, context.ids, context.clock)
            await retrieval.start(stack)
            _serve_retrieval(app, retrieval)
            tool_http = _tool_http(config.recording)
            search_client = tool_http()
            stack.push_async_callback(search_client.aclose)
            service = ResponsesService(
                store=store,
                models=registry,
                ids=context.ids,
                clock=context.clock,
                http=tool_http,
                tool_settings=config.tools,
                search=_search_backends(config.tools.web_search, search_client),
                sealer=build_sealer(config),
                file_search=retrieval.retriever,
                files=retrieval.store,
                _chains=ChainCache(config.server.chain_cache_bytes),
            )
            app.state.models = registry
            app.state.responses = service
            app.state.conversations = ConversationsService(
                store=store, ids=service.ids, clock=service.clock
            )
            background = BackgroundWorkers(
                service, SqlJobStore(store.runner, config.storage.url), config.background
            )
            app.state.background = background
            await background.start()
            app.state.prompts = PromptsService(store=store, ids=service.ids, clock=service.clock)
            if announce is not None:
                announce([model.public_id for model in registry.all()])
            try:
                yield
            finally:
                await background.stop(_grace_left(app, config.server.shutdown_grace))
            await service.drain()
        finally:
            await stack.aclose()
            await registry.aclose()
            if app.state.owner_limits is not None:
                await app.state.owner_limits.aclose()
            await detach_store(app.state.recorder)
            await store.close()

    app = FastAPI(
        title="relaystack",
        version=__version__,
        description="An OpenAI-compatible Responses API server.",
        lifespan=lifespan,
        # Served by docs_api instead, where the API key can guard them.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.max_body_bytes = config.server.max_body_bytes
    app.state.limits = BodyLimits(
        max_input_items=config.server.max_input_items,
        max_tools=config.server.max_tools,
        max_content_parts=config.server.max_content_parts,
        max_depth=config.server.max_json_depth,
        offload_bytes=config.server.offload_body_bytes,
        body_timeout=config.server.body_timeout,
    )
    app.state.api_keys = (
        {entry.key: entry.owner for entry in config.auth.keys} if config.auth else None
    )
    install_error_handlers(app)
    app.state.operations = config.operations
    app.state.recorder = build_recorder(
        config.operations, lambda: _providers(app), span_exporter=span_exporter
    )
    # Authentication inside the request middleware: a refused request has its id too.
    app.add_middleware(Authentication, keys=app.state.api_keys, open_paths=open_paths(config))
    app.add_middleware(RequestMiddleware, recorder=app.state.recorder)
    include_routes(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def begin_shutdown(app: FastAPI) -> None:
    """A stop signal came (called in the signal handler: it only sets a flag): no new
    background jobs are taken or accepted from now on."""
    background: BackgroundWorkers | None = getattr(app.state, "background", None)
    if background is not None:
        background.draining = True


def _grace_left(app: FastAPI, grace: float) -> float:
    """What is left of the shutdown grace since the signal (all of it without one)."""
    deadline: float | None = getattr(app.state, "shutdown_deadline", None)
    return grace if deadline is None else max(0.0, deadline - time.monotonic())


def include_routes(app: FastAPI) -> None:
    """Every route, the two that call models first: the router tries routes in order,
    and each route passed over costs a regex match (~40 of them per chat completion
    when it came after the Responses, background and Conversations routes)."""
    for api in (
        responses_api,
        chat_api,
        background_api,
        conversations_api,
        models_api,
        prompts_api,
        responses_ws,  # WebSocket mode
        files_api,
        vector_stores_api,
        docs_api,
        health_api,
        operations_api,
    ):
        app.include_router(api.router)


def open_paths(config: Config) -> set[str]:
    """What answers without an API key: the health and readiness checks, the docs
    when ``server.open_docs`` says so, ``/metrics`` when ``metrics.public`` does.
    The operators' routes check for an admin key themselves."""
    paths = {health_api.HEALTH_PATH, operations_api.READY_PATH}
    if config.server.open_docs:
        paths |= docs_api.PATHS
    if config.operations.metrics.public:
        paths.add(operations_api.METRICS_PATH)
    return paths


def _serve_retrieval(app: FastAPI, retrieval: Retrieval) -> None:
    app.state.files = retrieval.files
    app.state.vector_stores = retrieval.vector_stores


def _providers(app: FastAPI) -> list[InferenceProvider]:
    registry: ModelRegistry | None = getattr(app.state, "models", None)
    return registry.providers if registry is not None else []


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the request bodies the routes validate themselves."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    models = documented_models()
    for path in schema["paths"].values():
        for operation in path.values():
            name = operation.pop("x-request-model", None)
            if name is None:
                continue
            model_schema = models[name].model_json_schema(
                ref_template="#/components/schemas/{model}"
            )
            components.update(model_schema.pop("$defs", {}))
            components[name] = model_schema
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                },
            }
    app.openapi_schema = schema
    return schema
