"""Render one recording as a readable conversation: messages in, answer out.

Streamed answers are assembled from their chunks (text deltas concatenated, tool-call
fragments joined by index) so a reviewer reads what the model said, not 40 deltas.
"""

from __future__ import annotations

from typing import Any

from relaystack.recording.format import Recording, unwrap
from relaystack.wire.json import dumps_stdlib


def render(recording: Recording, name: str) -> str:
    request = recording.get("request") or {}
    response = recording.get("response") or {}
    lines = [
        f"# {name}",
        f"test id:  {recording.get('test_id')}",
        f"request:  {request.get('method')} {request.get('endpoint')}",
        f"model:    {request.get('model') or '-'}",
        f"url:      {request.get('url')}",
        "",
        "--- in ---",
        *_render_request(request.get("body")),
        "",
        "--- out ---",
        *_render_response(response),
    ]
    return "\n".join(lines) + "\n"


def _render_request(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return [_compact(body)]
    lines: list[str] = []
    for message in body.get("messages") or []:
        lines += _render_message(message)
    if "input" in body:
        lines.append(f"input: {_compact(body['input'])}")
    if "prompt" in body:
        lines.append(f"prompt: {_compact(body['prompt'])}")
    tools = [_tool_name(t) for t in body.get("tools") or []]
    if tools:
        lines.append(f"tools: {', '.join(tools)}")
    params = {
        k: v for k, v in body.items() if k not in {"messages", "input", "prompt", "tools", "model"}
    }
    if params:
        lines.append(f"params: {_compact(params)}")
    return lines or ["(empty body)"]


def _render_message(message: Any) -> list[str]:
    if not isinstance(message, dict):
        return [_compact(message)]
    role = message.get("role", "?")
    if role == "tool":
        role = f"tool {message.get('tool_call_id', '')}".strip()
    lines = []
    text = _content_text(message.get("content"))
    if text:
        lines.append(f"[{role}] {text}")
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        name, arguments = function.get("name"), function.get("arguments", "")
        lines.append(f"[{role}] -> {name}({arguments}) id={call.get('id')}")
    return lines or [f"[{role}] (empty)"]


def _content_text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text":
                parts.append(str(part.get("text", "")))
            elif isinstance(part, dict):
                parts.append(f"<{part.get('type', 'part')}>")
            else:
                parts.append(str(part))
        return " ".join(parts)
    return _compact(content)


def _render_response(response: dict[str, Any]) -> list[str]:
    if response.get("is_exception"):
        data = response.get("exception_data") or {}
        message = response.get("exception_message") or data.get("message")
        return [f"ERROR {data.get('status_code', '')} {data.get('type', '')}: {message}"]
    body = response.get("body")
    if response.get("is_streaming"):
        return _render_chunks([unwrap(c) for c in body or []])
    if isinstance(body, list):  # a model list
        return [f"model: {unwrap(m).get('id') if isinstance(unwrap(m), dict) else m}" for m in body]
    data = unwrap(body)
    if (
        isinstance(data, dict)
        and data.get("object") == "list"
        and isinstance(data.get("data"), list)
    ):
        vectors = data["data"]
        dims = {len(v.get("embedding") or []) for v in vectors if isinstance(v, dict)}
        return [f"{len(vectors)} embedding(s), dimensions {sorted(dims)}", _usage(data)]
    if isinstance(data, dict) and isinstance(data.get("choices"), list):
        lines: list[str] = []
        for choice in data["choices"]:
            message = choice.get("message") or {"role": "assistant", "content": choice.get("text")}
            lines += _render_message(message)
            lines.append(f"finish_reason: {choice.get('finish_reason')}")
        return [*lines, _usage(data)]
    return [_compact(data)]


def _render_chunks(chunks: list[Any]) -> list[str]:
    texts: dict[int, str] = {}
    calls: dict[int, dict[int, dict[str, str]]] = {}
    finish: dict[int, Any] = {}
    usage: dict[str, Any] | None = None
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        if chunk.get("usage"):
            usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            i = choice.get("index", 0)
            delta = choice.get("delta") or {}
            texts[i] = texts.get(i, "") + (delta.get("content") or choice.get("text") or "")
            for fragment in delta.get("tool_calls") or []:
                call = calls.setdefault(i, {}).setdefault(
                    fragment.get("index", 0), {"id": "", "name": "", "arguments": ""}
                )
                function = fragment.get("function") or {}
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                finish[i] = choice["finish_reason"]
    lines = [f"({len(chunks)} chunks)"]
    for i in sorted(set(texts) | set(calls) | set(finish)):
        prefix = "[assistant]" if len(texts) <= 1 else f"[assistant #{i}]"
        if texts.get(i):
            lines.append(f"{prefix} {texts[i]}")
        for call in calls.get(i, {}).values():
            lines.append(f"{prefix} -> {call['name']}({call['arguments']}) id={call['id']}")
        lines.append(f"finish_reason: {finish.get(i)}")
    if usage is not None:
        lines.append(_usage({"usage": usage}))
    return lines


def _usage(data: dict[str, Any]) -> str:
    usage = data.get("usage") or {}
    return (
        f"usage: {usage.get('prompt_tokens')} prompt, "
        f"{usage.get('completion_tokens', '-')} completion, {usage.get('total_tokens')} total"
    )


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        return str((tool.get("function") or {}).get("name") or tool.get("name") or tool.get("type"))
    return str(tool)


def _compact(value: Any, limit: int = 400) -> str:
    text = dumps_stdlib(value, ascii_only=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."
