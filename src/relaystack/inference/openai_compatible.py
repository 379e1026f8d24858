"""A provider for any OpenAI-compatible chat-completions endpoint, over httpx."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from relaystack import jsonutil
from relaystack.config import OpenAICompatibleProviderConfig
from relaystack.inference.base import ModelInfo, UpstreamError, UpstreamFailure
from relaystack.telemetry import telemetry


def connection_pool() -> httpx.AsyncBaseTransport:
    """The transport under every upstream client: aiohttp's connection pool.

    httpcore's pool scans every connection on each request; at 32 concurrent turns
    that scan was half of relaystack's CPU time. aiohttp's pool keeps the same
    keep-alive connections at a fraction of the cost, behind the same httpx API.
    """
    return AiohttpTransport(limits=httpx.Limits(max_connections=1024, keepalive_expiry=60))


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
            transport=transport or connection_pool(),
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
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
        _note_request_id(response)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise self._status_error(response)
            if response.headers.get("content-type", "").startswith("application/json"):
                # Some servers ignore stream=true and answer with one completion.
                await response.aread()
                for chunk in completion_as_chunks(_parse_json(response.content, self.id)):
                    yield chunk
                return
            async for chunk in _sse_chunks(response, self.id):
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
        _note_request_id(response)
        if response.status_code >= 400:
            raise self._status_error(response)
        return _parse_json(response.content, self.id)

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
        kind = _failure_kind(exc)
        if kind == "timeout":
            return UpstreamError(
                f"timed out {where} upstream {self.id} at {self._base_url}", kind="timeout"
            )
        if kind == "connect":
            return UpstreamError(
                f"cannot connect to upstream {self.id} at {self._base_url}: {exc}",
                kind="connect",
            )
        detail = str(exc) or type(exc).__name__
        return UpstreamError(
            f"connection to upstream {self.id} failed {where} it: {detail}", kind="protocol"
        )


def _note_request_id(response: httpx.Response) -> None:
    """The upstream's own id for its answer goes in our request's log line."""
    upstream_id = response.headers.get("x-request-id")
    if upstream_id:
        telemetry().upstream_request_id(upstream_id)


def _failure_kind(exc: httpx.HTTPError) -> UpstreamFailure:
    # The aiohttp transport maps its errors onto httpx's coarsely (a dropped
    # connection arrives as ConnectTimeout), so classify by the original error.
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return "connect"
    if isinstance(cause, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if cause is not None:
        return "protocol"
    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect"
    return "protocol"


async def _sse_chunks(response: httpx.Response, provider_id: str) -> AsyncIterator[dict[str, Any]]:
    """Parse the ``data:`` lines of a chat-completions SSE stream into chunk dicts.

    Splits raw bytes itself: httpx's text line iterator decodes and re-scans every
    line, which costs more than the rest of a chunk's journey through relaystack.
    """
    pending = b""
    async for data in response.aiter_bytes():
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                return
            yield _checked_chunk(payload, provider_id)
    payload = pending.strip()
    if payload.startswith(b"data:") and payload[5:].strip() not in (b"", b"[DONE]"):
        yield _checked_chunk(payload[5:].strip(), provider_id)


def _parse_json(payload: bytes, provider_id: str) -> dict[str, Any]:
    try:
        value = jsonutil.loads(payload)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise UpstreamError(
            f"upstream {provider_id} sent data that is not a JSON object: {payload[:200]!r}",
            kind="protocol",
        )
    return value


def _checked_chunk(payload: bytes, provider_id: str) -> dict[str, Any]:
    chunk = _parse_json(payload, provider_id)
    if "error" in chunk and "choices" not in chunk:
        error = chunk["error"] if isinstance(chunk["error"], dict) else {}
        code = error.get("code")
        raise UpstreamError(
            f"upstream {provider_id} failed mid-stream: {error.get('message') or chunk['error']}",
            kind="protocol",
            code=code if isinstance(code, str) else None,
        )
    return chunk


def completion_as_chunks(completion: dict[str, Any]) -> list[dict[str, Any]]:
    """A whole chat completion as the chunks a stream of it would have carried."""
    envelope = {key: completion[key] for key in ("id", "created", "model") if key in completion}
    envelope["object"] = "chat.completion.chunk"
    chunks = []
    for choice in completion.get("choices") or ():
        message = choice.get("message") or {}
        delta = {
            key: message[key]
            for key in ("role", "content", "refusal", "reasoning_content")
            if message.get(key) is not None
        }
        if message.get("tool_calls"):
            delta["tool_calls"] = [
                {"index": index, **call} for index, call in enumerate(message["tool_calls"])
            ]
        chunks.append(
            {
                **envelope,
                "choices": [
                    {
                        "index": choice.get("index", 0),
                        "delta": delta,
                        "finish_reason": choice.get("finish_reason"),
                    }
                ],
            }
        )
    if completion.get("usage"):
        chunks.append({**envelope, "choices": [], "usage": completion["usage"]})
    return chunks


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
