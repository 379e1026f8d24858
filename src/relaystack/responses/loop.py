"""The tool loop: the model rounds of one response.

Before the first model call, the server-side tools' opening items run (an MCP server's
tool listing). Then each round streams one upstream call; the server-side calls it made
run (concurrently with ``parallel_tool_calls``) and the next round sees their results,
until the model answers without one. A client-side call (``function``, an approval
request) ends the turn after the round's server-side calls ran. Limits end the response
``incomplete`` with a reason: ``max_tool_rounds`` (model calls per response, from
config) and ``repeated_tool_call`` (the same server-side call made too often);
``max_tool_calls`` stops offering server-side tools once used up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from relaystack.catalog import ITEM_KINDS
from relaystack.errors import ApiError
from relaystack.inference.base import ChunkStream, UpstreamError
from relaystack.items.convert import to_chat_messages
from relaystack.items.events import Event
from relaystack.items.kind import ChatMessage, Item
from relaystack.responses.request import CreateResponseRequest
from relaystack.responses.stream import ClosedCall, TurnStream
from relaystack.responses.toolset import ToolSet
from relaystack.responses.upstream_request import Offer
from relaystack.telemetry import telemetry
from relaystack.tool_settings import ToolsConfig
from relaystack.tools.kind import ToolSession

# Opens one upstream call: the messages so far and what the round is offered.
OpenCall = Callable[[list[ChatMessage], Offer], ChunkStream]


@dataclass
class LoopState:
    """What the loop decided, for the engine that ends the response."""

    incomplete_reason: str | None = None


async def run_rounds(
    machine: TurnStream,
    request: CreateResponseRequest,
    tools: ToolSet,
    history: Sequence[Item],
    first_call: ChunkStream | None,
    open_call: OpenCall,
    limits: ToolsConfig,
    state: LoopState,
) -> AsyncGenerator[Event, None]:
    """The events of every round; ``first_call`` is the upstream call ``prepare`` opened
    (None when opening items had to run first)."""
    opening = tools.opening_items()
    if opening:
        async for event in _run_items(machine, opening, parallel=True):
            yield event
        tools.check_choice()
        machine.tools_by_name = tools.handlers()
    used = 0  # server-side calls so far (max_tool_calls)
    repeats: Counter[tuple[str, str]] = Counter()
    parallel = request.parallel_tool_calls is not False
    chunks = first_call
    for round_number in range(limits.max_rounds):
        if chunks is None:
            messages = to_chat_messages(
                [*history, *machine.response["output"]], request.instructions, ITEM_KINDS
            )
            budget_left = request.max_tool_calls is None or used < request.max_tool_calls
            chunks = open_call(messages, tools.offer(round_number == 0, budget_left))
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                for event in machine.feed(chunk):
                    yield event
        if not machine.finished:
            raise UpstreamError(
                "the upstream stream ended before the model finished its answer",
                kind="protocol",
            )
        for event in machine.end_round():
            yield event
        calls = machine.server_calls
        if machine.cut_short or not calls:
            return
        runnable, skipped = _within_budget(calls, request.max_tool_calls, used)
        used += len(runnable)
        for call in skipped:
            session = _session(tools, call.item)
            session.not_run(call.item, f"this response reached max_tool_calls ({used})")
            for event in session.ended(machine.seq, call.item, call.output_index):
                yield event
            yield machine.item_done(call.output_index)
        pairs = [(_session(tools, call.item), call.item) for call in runnable]
        async for event in _run_items(machine, pairs, parallel, [c.output_index for c in runnable]):
            yield event
        if len(machine.calls) > len(calls):
            return  # a client-side call: the client answers it on the next turn
        repeats.update((call.name, call.arguments) for call in runnable)
        if repeats and max(repeats.values()) >= limits.max_repeated_calls:
            state.incomplete_reason = "repeated_tool_call"
            return
        machine.next_round()
        chunks = None
    state.incomplete_reason = "max_tool_rounds"


def _within_budget(
    calls: list[ClosedCall], max_tool_calls: int | None, used: int
) -> tuple[list[ClosedCall], list[ClosedCall]]:
    if max_tool_calls is None:
        return calls, []
    left = max(max_tool_calls - used, 0)
    return calls[:left], calls[left:]


def _session(tools: ToolSet, item: Item) -> ToolSession:
    session = tools.session_running(item)
    assert session is not None  # the machine kept only calls a session runs
    return session


async def _reported_run(session: ToolSession, item: Item) -> None:
    """Run one server item (a call, or MCP's listing), reported with its outcome
    (the tool-call metric and span)."""
    tool_type = item["type"].removesuffix("_call").removesuffix("_list_tools")
    call = telemetry().tool_call(tool_type, str(item.get("name") or item["type"]), item["id"])
    outcome = "cancelled"
    try:
        await session.run(item)
        outcome = "failed" if item.get("status") == "failed" or item.get("error") else "completed"
    except ApiError:
        outcome = "failed"
        raise
    finally:
        call.finished(outcome)


async def _run_items(
    machine: TurnStream,
    pairs: Sequence[tuple[ToolSession, Item]],
    parallel: bool,
    indexes: Sequence[int] | None = None,
) -> AsyncIterator[Event]:
    """Run server items: their start events in order, the runs (concurrently when
    ``parallel``), then their end events in order. ``indexes``: where the items already
    are in the output (calls); otherwise they join it now (opening items)."""
    if indexes is None:
        opened = []
        for _, item in pairs:
            index, events = machine.add_item(item)
            opened.append(index)
            for event in events:
                yield event
        indexes = opened
    for (session, item), index in zip(pairs, indexes, strict=True):
        for event in session.started(machine.seq, item, index):
            yield event
    failure: ApiError | None = None
    if parallel:
        results = await asyncio.gather(
            *(_reported_run(session, item) for session, item in pairs), return_exceptions=True
        )
    else:
        results = []
        for session, item in pairs:
            try:
                await _reported_run(session, item)
            except ApiError as error:
                results.append(error)
    for result in results:
        if isinstance(result, ApiError):
            failure = failure or result
        elif isinstance(result, BaseException):
            raise result
    for (session, item), index in zip(pairs, indexes, strict=True):
        for event in session.ended(machine.seq, item, index):
            yield event
        yield machine.item_done(index)
    if failure is not None:
        raise failure
