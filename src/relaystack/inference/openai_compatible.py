"""A provider for any OpenAI-compatible chat-completions endpoint, over httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx

from relaystack import jsonutil
from relaystack.config import OpenAICompatibleProviderConfig
from relaystack.inference.base import ModelInfo, UpstreamError


class OpenAICompatibleProvider:
    def __init__(
        self,
        config: OpenAICompatibleProviderConfig,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.id = config.id
        self.config = config
        headers = {"Content-Type": "application/json"}
        api_key = config.resolved_api_key()
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._base_url = config.base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self._base_url,
            headers=headers,
            transport=transport,
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            # Keep connections to the upstream warm: a new TCP (and TLS) handshake per
            # turn would cost more than everything else relaystack does.
            limits=httpx.Limits(max_connections=512, max_keepalive_connections=128),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def list_models(self) -> list[ModelInfo]:
        if self.config.models is not None:
            return [ModelInfo(id=model, owned_by=self.id) for model in self.config.models]
        body = await self._request_json("GET", "/models", None)
        return [
            ModelInfo(
                id=model["id"],
                owned_by=model.get("owned_by") or self.id,
                created=model.get("created") or 0,
            )
            for model in body.get("data", [])
        ]

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request_json("POST", "/chat/completions", body)

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request_json("POST", "/embeddings", body)

    async def stream_chat_completion(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        request = self._client.build_request(
            "POST", "/chat/completions", content=jsonutil.dumps(body)
        )
        try:
            response = await self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        try:
            if response.status_code >= 400:
                await response.aread()
                raise self._status_error(response)
            async for chunk in _sse_chunks(response):
                yield chunk
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, mid_stream=True) from exc
        finally:
            await response.aclose()

    async def _request_json(self, method: str, path: str, body: Any) -> dict[str, Any]:
        content = jsonutil.dumps(body) if body is not None else None
        try:
            response = await self._client.request(method, path, content=content)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from exc
        if response.status_code >= 400:
            raise self._status_error(response)
        try:
            return jsonutil.loads(response.content)
        except ValueError as exc:
            raise UpstreamError(
                f"upstream {self.id} answered {path} with a body that is not JSON",
                kind="protocol",
            ) from exc

    def _status_error(self, response: httpx.Response) -> UpstreamError:
        message, code, param, body = _error_details(response)
        return UpstreamError(
            f"upstream {self.id} answered {response.status_code}: {message}",
            kind="http",
            upstream_status=response.status_code,
            code=code,
            param=param,
            body=body,
        )

    def _transport_error(self, exc: httpx.HTTPError, mid_stream: bool = False) -> UpstreamError:
        where = "while streaming from" if mid_stream else "calling"
        if isinstance(exc, httpx.TimeoutException):
            return UpstreamError(
                f"timed out {where} upstream {self.id} at {self._base_url}", kind="timeout"
            )
        if isinstance(exc, httpx.ConnectError):
            return UpstreamError(
                f"cannot connect to upstream {self.id} at {self._base_url}: {exc}",
                kind="connect",
            )
        detail = str(exc) or type(exc).__name__
        return UpstreamError(
            f"connection to upstream {self.id} failed {where} it: {detail}", kind="protocol"
        )


async def _sse_chunks(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse ``data:`` lines of a chat-completions SSE stream into chunk dicts."""
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            return
        chunk = jsonutil.loads(data)
        if isinstance(chunk, dict) and "error" in chunk and "choices" not in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {}
            raise UpstreamError(
                f"upstream error mid-stream: {error.get('message') or chunk['error']}",
                kind="protocol",
                code=error.get("code") if isinstance(error.get("code"), str) else None,
            )
        yield chunk


def _error_details(response: httpx.Response) -> tuple[str, str | None, str | None, Any]:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] or response.reason_phrase), None, None, None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = error.get("code")
        return (
            str(error.get("message") or response.reason_phrase),
            code if isinstance(code, str) else None,
            error.get("param"),
            body,
        )
    if isinstance(error, str):
        return error, None, None, body
    detail = body.get("detail") if isinstance(body, dict) else None
    return str(detail or body)[:500], None, None, body
