"""The one place that reads the configuration and wires the pieces together."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from relaystack import __version__
from relaystack.accounting.limits import limit_gate
from relaystack.api.body import documented_models
from relaystack.api.errors import install_error_handlers
from relaystack.api.routes import chat, conversations, models, operations, responses
from relaystack.config import (
    Config,
    ConfigError,
    OpenAICompatibleProviderConfig,
    ProviderConfig,
    RecordingConfig,
)
from relaystack.conversations.service import ConversationsService
from relaystack.errors import ApiError
from relaystack.ids import Clock, IdSource
from relaystack.inference.base import InferenceProvider
from relaystack.inference.openai_compatible import OpenAICompatibleProvider, connection_pool
from relaystack.inference.registry import ModelRegistry
from relaystack.observability.middleware import RequestMiddleware
from relaystack.observability.setup import attach_store, build_recorder, detach_store
from relaystack.responses.service import ResponsesService
from relaystack.store.sql import SqlStore

log = logging.getLogger(__name__)


class StartupError(Exception):
    """The server cannot start; one line says which setting and why."""


def build_provider(config: ProviderConfig, recording: RecordingConfig) -> InferenceProvider:
    if isinstance(config, OpenAICompatibleProviderConfig):
        return OpenAICompatibleProvider(config, transport=_transport(config, recording))
    from relaystack.inference.local import LocalProvider  # llama.cpp loads only when used

    return LocalProvider(config)


def _transport(
    config: OpenAICompatibleProviderConfig, recording: RecordingConfig
) -> httpx.AsyncBaseTransport | None:
    if recording.mode == "live":
        return None  # no wrapper at all: live traffic pays nothing for the feature
    from relaystack.recording.transport import RecordingTransport

    assert recording.directory is not None  # the config guarantees it outside live mode
    return RecordingTransport(
        connection_pool(),
        mode=recording.mode,
        directory=Path(recording.directory),
        base_url=config.base_url,
        pacing=recording.pacing,
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
        try:
            store = await SqlStore.open(config.storage.url)
        except Exception as exc:
            raise StartupError(f"storage.url: cannot open {config.storage.url}: {exc}") from exc
        attach_store(store, app.state.recorder)
        app.state.limits = limit_gate(config.operations.limits, store)
        registry = ModelRegistry()
        try:
            for index, provider_config in enumerate(config.providers):
                try:
                    await registry.add_provider(build_provider(provider_config, config.recording))
                except (ApiError, ConfigError) as exc:
                    message = exc.message if isinstance(exc, ApiError) else str(exc)
                    raise StartupError(
                        f"providers.{index} ({provider_config.id}): {message}"
                    ) from exc
            service = ResponsesService(
                store=store, models=registry, ids=ids or IdSource(), clock=clock or Clock()
            )
            app.state.models = registry
            app.state.responses = service
            app.state.conversations = ConversationsService(
                store=store, ids=service.ids, clock=service.clock
            )
            if announce is not None:
                announce([model.public_id for model in registry.all()])
            yield
            await service.drain()
        finally:
            await registry.aclose()
            await detach_store(app.state.recorder)
            await store.close()

    app = FastAPI(
        title="relaystack",
        version=__version__,
        description="An OpenAI-compatible Responses API server.",
        lifespan=lifespan,
    )
    app.state.max_body_bytes = config.server.max_body_bytes
    app.state.api_keys = (
        {entry.key: entry.owner for entry in config.auth.keys} if config.auth else None
    )
    install_error_handlers(app)
    app.state.operations = config.operations
    app.state.recorder = build_recorder(
        config.operations, lambda: _providers(app), span_exporter=span_exporter
    )
    app.add_middleware(RequestMiddleware, recorder=app.state.recorder)
    app.include_router(responses.router)
    app.include_router(conversations.router)
    app.include_router(chat.router)
    app.include_router(models.router)
    app.include_router(operations.router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


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
