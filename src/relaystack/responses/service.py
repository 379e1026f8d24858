"""Create, read, list and delete responses: the engine behind ``/v1/responses``.

``prepare`` does every check that can fail before the first byte is sent (so bad
requests are clear 4xx answers), ``events`` runs the turn, and a non-streaming
request is just the last snapshot of the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from relaystack.catalog import ITEM_KINDS, TOOL_KINDS, offered_names
from relaystack.errors import ApiError, InvalidRequest, NotFound, not_found
from relaystack.ids import Clock, IdSource
from relaystack.inference.base import ChunkStream, ModelContext
from relaystack.inference.registry import ModelRegistry, ResolvedModel
from relaystack.items.convert import normalize_items, to_chat_messages
from relaystack.items.events import Event
from relaystack.items.file_inputs import FileReader, resolve_file_inputs
from relaystack.items.kind import ChatMessage, Item
from relaystack.items.message import user_text
from relaystack.items.reference import resolve_references
from relaystack.items.unique import check_unique
from relaystack.responses import context_plan
from relaystack.responses.chain_cache import ChainCache
from relaystack.responses.compact_request import CompactRequest
from relaystack.responses.compact_service import compact_conversation, compact_input
from relaystack.responses.compaction import compacted_view
from relaystack.responses.context_plan import ContextPlan
from relaystack.responses.context_window import item_tokens
from relaystack.responses.conversation import conversation_context, joining
from relaystack.responses.logprobs import wants_logprobs
from relaystack.responses.loop import LoopState, OpenCall, run_rounds
from relaystack.responses.prompt_templates import apply_prompt
from relaystack.responses.prompts_service import PromptsService
from relaystack.responses.reasoning_seal import open_sealed, sealer_for
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.resource import ResponseObject, new_response
from relaystack.responses.stream import TurnStream
from relaystack.responses.toolset import ToolSet, required_without_tools
from relaystack.responses.upstream_request import (
    Offer,
    build_chat_body,
    chosen_names,
    static_names,
)
from relaystack.sealing import Sealer
from relaystack.search.backends import SearchBackends
from relaystack.store.base import Chain, Order, Page, Store
from relaystack.telemetry import UpstreamCall, telemetry
from relaystack.tool_settings import ToolsConfig
from relaystack.tools.file_search_types import FileSearcher
from relaystack.tools.kind import HttpClientFactory, ToolContext, plain_http_client

log = logging.getLogger(__name__)


@dataclass
class Turn:
    """Everything one response needs once the request has been accepted."""

    request: CreateResponseRequest
    owner: str
    # The first upstream call, opened by ``prepare`` (None when server-side tools must
    # run their opening items first); the tool loop opens the later ones.
    chunks: ChunkStream | None
    open_call: OpenCall
    tools: ToolSet
    history: list[Item]  # what the turn sees before its output: context, then input
    input_items: list[Item]
    response: ResponseObject
    # What previous_response_id brought in (not a conversation's items): with this
    # turn's input and output it is what a response chained to this one will see.
    chain: Chain = field(default_factory=lambda: Chain(response_ids=[], items=[]))
    failure: ApiError | None = None
    # A background turn stores its end through its job (given the conversation it joins).
    finish: Callable[[Turn, str | None], Awaitable[None]] | None = None
    ending: list[Event] = field(default_factory=list)  # the last events, once known
    # What the upstream reads (compactions opened, truncated to the window).
    context: ContextPlan | None = None
    model: ResolvedModel | None = None

    async def close(self) -> None:
        """Stop the upstream call if it is still open (idempotent). The event stream
        closes it itself; this covers a turn whose events never ran."""
        if self.chunks is not None:
            await self.chunks.aclose()

    def chain_after(self) -> Chain:
        """What a response chained to this one sees: the chain, this input, this output."""
        return Chain(
            response_ids=[*self.chain.response_ids, self.response["id"]],
            items=[*self.chain.items, *self.input_items, *self.response["output"]],
        )


@dataclass(frozen=True)
class Resumed:
    """A background job's response as stored at submission, and its input items."""

    response: dict[str, Any]
    input_items: list[Item]


@dataclass
class ResponsesService:
    store: Store
    models: ModelRegistry
    ids: IdSource = field(default_factory=IdSource)
    clock: Clock = field(default_factory=Clock)
    # Server-side tools: their HTTP (through the recording transport) and settings.
    http: HttpClientFactory = plain_http_client
    tool_settings: ToolsConfig = field(default_factory=lambda: ToolsConfig.model_validate({}))
    search: SearchBackends | None = None  # web search's backends, when configured
    file_search: FileSearcher | None = None  # the vector stores' search (file_search)
    files: FileReader | None = None  # the Files store (input parts given by file_id)
    # Seals what clients keep for the server (compaction, encrypted reasoning).
    sealer: Sealer = field(default_factory=Sealer.random)
    _chains: ChainCache = field(default_factory=ChainCache)
    # Saves started while a client disconnected; kept so they are not garbage-collected.
    _pending_saves: set[asyncio.Task[None]] = field(default_factory=set)

    async def prepare(
        self,
        request: CreateResponseRequest,
        owner: str,
        previous: Chain | None = None,
        resume: Resumed | None = None,
    ) -> Turn:
        """``previous``: the chain ``previous_response_id`` names, when the caller holds
        it already (a WebSocket connection's last response). ``resume``: a background
        job's stored response and input, run now."""
        model = self.models.resolve(request.model)
        request = _with_model_defaults(await self._with_prompt(request, owner), model.info.context)
        _check_tool_choice(request)
        _check_supported(request)
        conversation_id = request.conversation_id
        if conversation_id is not None and request.previous_response_id is not None:
            raise InvalidRequest(
                "Mutually exclusive parameters: Ensure you are only providing one of: "
                "'previous_response_id' or 'conversation'.",
                param="conversation",
                code="mutually_exclusive_parameters",
            )
        # A conversation may already hold the turn's input (appended as items first).
        if request.input is None and request.previous_response_id is None and not conversation_id:
            raise InvalidRequest(
                "Missing required parameter: 'input'.",
                param="input",
                code="missing_required_parameter",
            )
        context: list[Item] = []
        chain = Chain(response_ids=[], items=[])
        if request.previous_response_id is not None:
            if previous is None:
                previous = await self._chain(request.previous_response_id, owner)
            chain = previous
            context = chain.items
        if conversation_id is not None:
            context = await conversation_context(self.store, conversation_id, owner)
        if resume is not None:
            input_items = resume.input_items
        else:
            input_items = await resolve_references(
                _input_items(request, self.ids), self.store, owner
            )
        await resolve_file_inputs(input_items, self.files, owner, self.clock.seconds())
        open_sealed(input_items, self.sealer)
        if conversation_id is not None:
            # Items added to the conversation directly may name files by id too.
            await resolve_file_inputs(
                context, self.files, owner, self.clock.seconds(), "conversation"
            )
            check_unique(input_items, context, param="input")
        history = context_plan.open_history(
            context, _context_param(request), input_items, self.sealer, owner
        )
        tools = ToolSet(
            request,
            ToolContext(
                owner,
                self.ids,
                self.http,
                self.tool_settings,
                history,
                self.search,
                request.include or (),
                file_search=self.file_search,
            ),
        )
        response = new_response(
            request, self.ids("resp"), self.clock.seconds(), model.info.sampling_defaults
        )
        if resume is not None:
            response["id"] = resume.response["id"]
            response["created_at"] = resume.response["created_at"]

        def open_call(messages: list[ChatMessage], offer: Offer) -> ChunkStream:
            body = build_chat_body(
                request, model.upstream_id, messages, offer, model.info.forwarded
            )
            return model.provider.stream_chat_completion(body)

        first_offer = tools.offer(first_round=True)
        planned = context_plan.plan(
            request, model, history, input_items, first_offer.tools, response["id"]
        )
        chunks = None
        # A background turn opens its call when a worker runs it (the loop does).
        if (
            not tools.opening_items()
            and not request.background
            and not planned.compact_first
            and not planned.failure
        ):
            # Opened once nothing else can fail (so it is never left open), and before
            # anything is answered: a provider that refuses at once (the local model's
            # full queue) refuses here, and the client gets a plain 503.
            messages = planned.messages or to_chat_messages(
                planned.view, request.instructions, ITEM_KINDS
            )
            chunks = open_call(messages, first_offer)
        return Turn(
            request=request,
            owner=owner,
            chunks=chunks,
            open_call=open_call,
            tools=tools,
            history=history,
            input_items=input_items,
            response=response,
            chain=chain,
            context=planned,
            model=model,
        )

    async def _chain(self, previous_id: str, owner: str) -> Chain:
        cached = self._chains.get(owner, previous_id)
        # The walk over the links is cheap (ids only, by primary key); it is what
        # decoding every item of every turn again would cost that the cache saves.
        if cached is not None and await self.store.chain_ids(previous_id, owner) == (
            cached.response_ids
        ):
            return cached
        chain = await self.store.chain(previous_id, owner)
        if chain is None:
            self._chains.discard(owner, previous_id)
            raise not_found(
                "Previous response",
                previous_id,
                "previous_response_id",
                code="previous_response_not_found",
            )
        return chain

    async def events(self, turn: Turn) -> AsyncIterator[Event]:
        machine = TurnStream(
            turn.response, self.ids, self.clock, turn.tools.handlers(), turn.tools.runs
        )
        machine.annotate = turn.tools.annotations
        machine.reasoning_summary = turn.response["reasoning"]["summary"] is not None
        machine.keep_logprobs = wants_logprobs(turn.request)
        machine.finish_reasoning = sealer_for(turn.request.include, self.sealer)
        call = telemetry().upstream_call(turn.response["model"], input_items=turn.input_items)
        for event in machine.start():
            yield event
        state = LoopState()
        try:
            async for event in self._manage_context(turn, machine):
                yield event
            # The rounds close each upstream call as they go (aclosing): when the client
            # goes away the call (or local generation) stops now.
            rounds = run_rounds(
                machine,
                turn.request,
                turn.tools,
                turn.context.view if turn.context else turn.history,
                turn.chunks,
                turn.open_call,
                self.tool_settings,
                state,
            )
            generating = False
            async with contextlib.aclosing(rounds):
                async for event in rounds:
                    if not generating and event["type"].endswith(".delta"):
                        generating = True  # one flag test per event: nothing else
                        call.first_token()
                    yield event
            final = machine.finish(state.incomplete_reason)
        except ApiError as error:
            turn.failure = error
            final = machine.fail(error)
        except (asyncio.CancelledError, GeneratorExit):
            # The client went away: the generation stops, and the store keeps what
            # happened rather than nothing.
            machine.cancel()
            _report(call, turn, machine, "cancelled")
            self._save_in_background(turn)
            raise
        except Exception:  # a bug or an unexpected upstream failure
            log.exception("response %s failed", turn.response["id"])
            turn.failure = ApiError(
                "The server had an error while processing this response.",
                code="server_error",
                status_code=500,
                error_type="server_error",
            )
            final = machine.fail(turn.failure)
        finally:
            turn.tools.close()  # e.g. MCP's server sessions: nothing after this uses them
        _report(call, turn, machine, turn.failure.code if turn.failure else None)
        turn.ending = final
        try:
            # Its own task, shielded: a client leaving now must not undo the save (on
            # PostgreSQL the cancellation would roll its transaction back).
            await asyncio.shield(self._save_in_background(turn))
        except ApiError as error:
            # Nothing was stored (e.g. the conversation was deleted meanwhile): the
            # client hears it as the stream's ending, not as a broken connection.
            turn.failure = error
            final = machine.refail(final, error)
        except Exception:  # the database failed (logged by the task): the stream ends failed
            turn.failure = ApiError(
                "The server had an error while storing this response.",
                code="server_error",
                status_code=500,
                error_type="server_error",
            )
            final = machine.refail(final, turn.failure)
        for event in final:
            yield event

    async def _manage_context(self, turn: Turn, machine: TurnStream) -> AsyncIterator[Event]:
        """A stream's deferred context error, or the compaction the turn starts with."""
        planned = turn.context
        if planned is None or turn.model is None:
            return
        if planned.failure is not None:
            raise planned.failure
        if planned.compact_first:
            done = await context_plan.compact(
                turn.request, turn.model, planned, self.sealer, turn.owner, self.ids
            )
            if done is None:
                return
            if done.usage is not None:
                machine.count_usage(done.usage)
            index, events = machine.add_item(dict(done.item))
            for event in events:
                yield event
            yield machine.item_done(index)

    async def _with_prompt(
        self, request: CreateResponseRequest, owner: str
    ) -> CreateResponseRequest:
        if request.prompt is None:
            return request
        version = await PromptsService(self.store).resolve(request.prompt, owner)
        return apply_prompt(request, version, request.prompt.variables or {})

    async def count_input_tokens(self, request: CreateResponseRequest, owner: str) -> int:
        """What the turn's first upstream call would read, in the model's tokens."""
        model = self.models.resolve(request.model)
        request = await self._with_prompt(request, owner)
        conversation_id = request.conversation_id
        context: list[Item] = []
        if request.previous_response_id is not None:
            context = (await self._chain(request.previous_response_id, owner)).items
        if conversation_id is not None:
            context = await conversation_context(self.store, conversation_id, owner)
        input_items = await resolve_references(_input_items(request, self.ids), self.store, owner)
        history = context_plan.open_history(
            context, _context_param(request), input_items, self.sealer, owner
        )
        tools = ToolSet(
            request,
            ToolContext(owner, self.ids, self.http, self.tool_settings, history, self.search, ()),
        )
        view = compacted_view(history)
        offer = tools.offer(first_round=True)
        return item_tokens(model.info.context, view, request.instructions, offer.tools)

    async def compact(self, request: CompactRequest, owner: str) -> dict[str, Any]:
        model = self.models.resolve(request.model)
        context: list[Item] = []
        if request.previous_response_id is not None:
            context = (await self._chain(request.previous_response_id, owner)).items
        input_items = await resolve_references(compact_input(request, self.ids), self.store, owner)
        return await compact_conversation(
            request,
            model,
            context,
            input_items,
            sealer=self.sealer,
            owner=owner,
            ids=self.ids,
            clock=self.clock,
        )

    async def create(self, turn: Turn) -> ResponseObject:
        async for event in self.events(turn):
            if event["type"] == "response.failed" and turn.failure is not None:
                raise turn.failure
        return turn.response

    async def _save(self, turn: Turn) -> None:
        conversation_id = _appends_to(turn)
        with joining(conversation_id):
            if turn.finish is not None:
                await turn.finish(turn, conversation_id)
            elif turn.response["store"]:
                await self.store.save_response(
                    dict(turn.response),
                    turn.input_items,
                    turn.owner,
                    conversation_id=conversation_id,
                )
                if turn.response["status"] not in ("completed", "incomplete"):
                    return  # failed or cancelled: rarely chained, never worth the memory
                self._chains.put(turn.owner, turn.response["id"], turn.chain_after())
            elif conversation_id is not None:
                # Not stored as a response, but the conversation still gets the turn.
                await self.store.append_conversation_items(
                    conversation_id, turn.owner, [*turn.input_items, *turn.response["output"]]
                )

    def _save_in_background(self, turn: Turn) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(self._save(turn))
        self._pending_saves.add(task)
        task.add_done_callback(self._pending_saves.discard)
        task.add_done_callback(lambda done: _log_failed_save(done, turn.response["id"]))
        return task

    async def get(self, response_id: str, owner: str) -> dict[str, Any]:
        response = await self.store.get_response(response_id, owner)
        if response is None:
            raise _response_not_found(response_id)
        return response

    async def delete(self, response_id: str, owner: str) -> dict[str, Any]:
        self._chains.discard(owner, response_id)
        if not await self.store.delete_response(response_id, owner):
            raise _response_not_found(response_id)
        return {"id": response_id, "object": "response.deleted", "deleted": True}

    async def list(
        self, owner: str, *, after: str | None, limit: int, order: Order, model: str | None
    ) -> Page:
        return await self.store.list_responses(
            owner, after=after, limit=limit, order=order, model=model
        )

    async def input_items(
        self,
        response_id: str,
        owner: str,
        *,
        after: str | None,
        before: str | None,
        limit: int,
        order: Order,
    ) -> Page:
        page = await self.store.list_input_items(
            response_id, owner, after=after, before=before, limit=limit, order=order
        )
        if page is None:
            raise _response_not_found(response_id)
        return page

    async def drain(self) -> None:
        """Wait for saves started by disconnected clients (at shutdown)."""
        if self._pending_saves:
            await asyncio.gather(*self._pending_saves, return_exceptions=True)


def _report(call: UpstreamCall, turn: Turn, machine: TurnStream, error: str | None) -> None:
    call.finished(
        usage=turn.response["usage"],
        finish_reason=machine.finish_reason,
        error=error,
        response_id=turn.response["id"],
        output=turn.response["output"],
    )


def _input_items(request: CreateResponseRequest, ids: IdSource) -> list[Item]:
    if request.input is None:
        return []
    if isinstance(request.input, str):
        return [dict(user_text(request.input, ids))]
    return normalize_items(request.input, ITEM_KINDS, ids)


def _with_model_defaults(
    request: CreateResponseRequest, context: ModelContext
) -> CreateResponseRequest:
    """The model's default output cap and truncation where the request sets none."""
    update: dict[str, Any] = {}
    if request.max_output_tokens is None and context.max_output_tokens is not None:
        update["max_output_tokens"] = context.max_output_tokens
    if request.truncation is None and context.truncation != "disabled":
        update["truncation"] = context.truncation
    return request.model_copy(update=update) if update else request


def _context_param(request: CreateResponseRequest) -> str:
    return "previous_response_id" if request.previous_response_id else "conversation"


def _check_tool_choice(request: CreateResponseRequest) -> None:
    names = set(offered_names(request.tools or []))
    choice = request.tool_choice
    for name in chosen_names(choice, static_names):
        if name not in names:
            raise InvalidRequest(
                f"Tool choice '{name}' not found in 'tools' parameter.",
                param="tool_choice",
                code="invalid_value",
            )
    server_side = any(TOOL_KINDS[tool.type].runs_on_server for tool in request.tools or [])
    # Server-side tools offer theirs once listed: ToolSet.check_choice checks then.
    if choice == "required" and not names and not server_side:
        raise required_without_tools()


def _check_supported(request: CreateResponseRequest) -> None:
    if request.background and request.store is False:
        raise InvalidRequest(
            "Background mode requires a stored response: set store=true (the default).",
            param="background",
            code="invalid_value",
        )


def _log_failed_save(task: asyncio.Task[None], response_id: str) -> None:
    """Logged here, as the save's caller may have gone (a client that left)."""
    error = None if task.cancelled() else task.exception()
    if error is not None and not isinstance(error, ApiError):
        log.error("response %s could not be stored", response_id, exc_info=error)


def _appends_to(turn: Turn) -> str | None:
    """The conversation this turn's items join: only a turn that ran to its end
    (completed, or cut short by a limit) adds to it; failed and cancelled ones add nothing."""
    if turn.response["status"] not in ("completed", "incomplete"):
        return None
    return turn.request.conversation_id


def _response_not_found(response_id: str) -> NotFound:
    return not_found("Response", response_id, "response_id")
