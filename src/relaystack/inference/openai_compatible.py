"""A provider for any OpenAI-compatible chat-completions endpoint, over httpx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any, cast

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from relaystack.inference.base import ModelInfo, UpstreamError, UpstreamFailure
from relaystack.inference.chunk_shape import chunk_problem
from relaystack.inference.error_codes import map_upstream_error
from relaystack.inference.openai_compatible_config import OpenAICompatibleProviderConfig
from relaystack.inference.retry import RETRYABLE_STATUSES, RetrySchedule
from relaystack.telemetry import telemetry
from relaystack.wire.json import dumps, loads, loads_lenient
from relaystack.wire.sse import PayloadDecoder

log = logging.getLogger(__name__)

# The upstream refused relaystack's own key: not the client's fault, so not its 401.
_CREDENTIAL_STATUSES = (401, 403)
# The upstream paths relaystack calls, below the provider's base_url.
_PATHS = ("/chat/completions", "/embeddings", "/models")


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

        # Parsed once: httpx parses a path string against base_url on every request,
        # in pure Python, which was more than half of build_request (callgrind: 382k
        # instructions a call with the path, 163k with the parsed URL).
        self._urls = {path: httpx.URL(self._base_url + path) for path in _PATHS}

    async def aclose(self) -> None:
        await self._client.aclose()

    async def list_models(self) -> list[ModelInfo]:
        forwarded = frozenset(self.config.forward)
        if self.config.models is not None:
            return [
                ModelInfo(
                    id=model,
                    owned_by=self.id,
                    forwarded=forwarded,
                    context=self.config.model_context(model),
                )
                for model in self.config.models
            ]
        # Only at start-up, which reports a failure in one line of its own.
        body = await self._request_json("GET", "/models", None, quiet=True)
        return [
            ModelInfo(
                id=model["id"],
                owned_by=model.get("owned_by") or self.id,
                created=model.get("created") or 0,
                forwarded=forwarded,
                context=self.config.model_context(model["id"]),
            )
            for model in body.get("data", [])
        ]

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request_json("POST", "/chat/completions", body)

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request_json("POST", "/embeddings", body)

    async def stream_chat_completion(self, body: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        url = self._urls["/chat/completions"]
        request = self._client.build_request("POST", url, content=dumps(body))
        deadline = asyncio.get_running_loop().time() + self.config.deadline
        response = await self._send(request, deadline, stream=True)
        try:
            async with asyncio.timeout_at(deadline):
                if response.status_code >= 400:
                    await response.aread()
                    raise self._status_error(response)
                is_json = response.headers.get("content-type", "").startswith("application/json")
                if is_json:
                    # Some servers ignore stream=true and answer with one completion.
                    await response.aread()
            if is_json:
                completion = _parse_json(response.content, self.id)
                for chunk in _completion_chunks(completion, self.id):
                    yield _well_shaped(chunk, self.id)
                return
            # The SSE chunks, read here rather than by a generator of their own: each
            # layer of async generators costs every chunk a resumption.
            # The deadline is checked once per network read, not enforced by a timer
            # around each wait: a timer per chunk (``asyncio.timeout``) cost a third of
            # a streamed chat's throughput in the bench. A stream that stalls outright
            # is ended by the read timeout; one that trickles on is ended at its next read.
            clock = asyncio.get_running_loop().time
            decoder = PayloadDecoder()
            async for data in _body_pieces(response):
                if clock() > deadline:
                    raise TimeoutError
                for payload in decoder.feed(data):
                    yield _checked_chunk(payload, self.id)
                if decoder.done:
                    return
            for payload in decoder.close():
                yield _checked_chunk(payload, self.id)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, mid_stream=True) from exc
        except TimeoutError:
            raise self._deadline_error() from None
        finally:
            await response.aclose()

    async def _request_json(
        self, method: str, path: str, body: Any, quiet: bool = False
    ) -> dict[str, Any]:
        content = dumps(body) if body is not None else None
        request = self._client.build_request(method, self._urls.get(path, path), content=content)
        deadline = asyncio.get_running_loop().time() + self.config.deadline
        response = await self._send(request, deadline, stream=False, quiet=quiet)
        if response.status_code >= 400:
            raise self._status_error(response, quiet=quiet)
        return _parse_json(response.content, self.id)

    async def _send(
        self, request: httpx.Request, deadline: float, *, stream: bool, quiet: bool = False
    ) -> httpx.Response:
        """The upstream's answer to ``request``, its head only when ``stream``.

        A 429 or 503 is an answer that came before any output, so the request is sent
        again after a wait (``retry.py``) while the retries and the call's deadline
        allow; the last answer is returned whatever its status.
        """
        clock = asyncio.get_running_loop().time
        schedule: RetrySchedule | None = None  # made at the first retryable answer
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    response = await self._client.send(request, stream=stream)
            except httpx.HTTPError as exc:
                raise self._transport_error(exc, quiet=quiet) from exc
            except TimeoutError:
                raise self._deadline_error() from None
            _note_request_id(response)
            status = response.status_code
            if status not in RETRYABLE_STATUSES:
                return response
            schedule = schedule or RetrySchedule(self.config.retry)
            wait = schedule.next_wait(status, response.headers.get("retry-after"))
            if wait is None or clock() + wait >= deadline:
                return response
            await response.aclose()
            log.info("upstream %s answered %s; calling again in %.2f s", self.id, status, wait)
            await asyncio.sleep(wait)

    def _status_error(self, response: httpx.Response, quiet: bool = False) -> UpstreamError:
        message, code, _param, body = _error_details(response)
        if response.status_code in _CREDENTIAL_STATUSES:
            return self._credentials_error(response.status_code, message, quiet)
        mapped = map_upstream_error(response.status_code, code, message)
        return UpstreamError(
            f"upstream {self.id} answered {response.status_code}: {message}",
            kind="http",
            upstream_status=response.status_code,
            code=mapped.code,
            param=mapped.param,
            body=body,
        )

    def _credentials_error(self, status: int, message: str, quiet: bool) -> UpstreamError:
        # The upstream's words may quote (part of) our key: they stay in the server log.
        if not quiet:
            log.warning(
                "upstream %s (%s) answered %s: %s", self.id, self._base_url, status, message
            )
        return UpstreamError(
            f"upstream {self.id} refused relaystack's credentials ({status}); "
            "the provider's API key in relaystack's configuration needs fixing",
            kind="credentials",
            upstream_status=status,
        )

    def _deadline_error(self) -> UpstreamError:
        log.warning("upstream %s (%s) passed its deadline", self.id, self._base_url)
        return UpstreamError(
            f"upstream {self.id} did not finish within its deadline of "
            f"{self.config.deadline:g} seconds",
            kind="timeout",
        )

    def _transport_error(
        self, exc: httpx.HTTPError, mid_stream: bool = False, quiet: bool = False
    ) -> UpstreamError:
        # Clients hear the provider id; the address (internal, often) is for the log.
        where = "while streaming from" if mid_stream else "calling"
        kind = _failure_kind(exc)
        if not quiet:
            log.warning("upstream %s (%s) failed: %r", self.id, self._base_url, exc)
        if kind == "timeout":
            return UpstreamError(f"timed out {where} upstream {self.id}", kind="timeout")
        if kind == "connect":
            return UpstreamError(f"cannot connect to upstream {self.id}", kind="connect")
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


def _body_pieces(response: httpx.Response) -> AsyncIterable[bytes]:
    """A streamed body as it arrives. Unencoded (as event streams are), it is read
    from the transport's stream itself: httpx's ``aiter_bytes`` would add two layers of
    generators and a decoder pass to every chunk of every stream."""
    if response.headers.get("content-encoding", "identity") == "identity":
        return cast(httpx.AsyncByteStream, response.stream)
    return response.aiter_bytes()


def _parse_json(payload: bytes, provider_id: str) -> dict[str, Any]:
    try:
        value = loads(payload)
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
        message = str(error.get("message") or chunk["error"])
        mapped = map_upstream_error(None, code if isinstance(code, str) else None, message)
        # A refusal OpenAI has a code for is the request's fault (or a rate limit),
        # as if the upstream had answered it with a 4xx; anything else is its failure.
        refused = 429 if mapped.code == "rate_limit_exceeded" else 400
        raise UpstreamError(
            f"upstream {provider_id} failed mid-stream: {message}",
            kind="http" if mapped.code else "protocol",
            upstream_status=refused if mapped.code else None,
            code=mapped.code,
            param=mapped.param,
        )
    return _well_shaped(chunk, provider_id)


def _well_shaped(chunk: dict[str, Any], provider_id: str) -> dict[str, Any]:
    problem = chunk_problem(chunk)
    if problem is not None:
        raise UpstreamError(
            f"upstream {provider_id} sent a chunk relaystack cannot read: {problem}",
            kind="protocol",
        )
    return chunk


def _completion_chunks(completion: dict[str, Any], provider_id: str) -> list[dict[str, Any]]:
    try:
        return completion_as_chunks(completion)
    except (AttributeError, TypeError) as exc:  # choices or a message of the wrong type
        raise UpstreamError(
            f"upstream {provider_id} sent a completion relaystack cannot read: {exc}",
            kind="protocol",
        ) from None


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
        body = loads_lenient(response.content)
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
