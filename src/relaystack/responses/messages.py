"""Items to chat-completions messages: the only place that knows both shapes.

Rules that keep upstream requests byte-for-byte stable (they are recording keys):
a message whose content is one text part goes upstream as a plain string; an
assistant's text parts are joined into one string; consecutive function calls
become one assistant message with ``tool_calls``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Message = dict[str, Any]

# Many OpenAI-compatible servers (vLLM, Ollama, llama.cpp) reject the newer
# "developer" role; "system" means the same to every model.
_ROLE_UPSTREAM = {
    "user": "user",
    "system": "system",
    "developer": "system",
    "assistant": "assistant",
}


def to_chat_messages(items: Iterable[dict[str, Any]], instructions: str | None) -> list[Message]:
    messages: list[Message] = []
    if instructions:
        messages.append({"role": "system", "content": instructions})
    for item in items:
        kind = item.get("type")
        if kind == "message":
            messages.append(_from_message(item))
        elif kind == "function_call":
            _append_tool_call(messages, item)
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item["call_id"],
                    "content": _tool_output(item["output"]),
                }
            )
        # Reasoning items stay server-side: chat-completions has no standard field for them.
    return messages


def _from_message(item: dict[str, Any]) -> Message:
    role = _ROLE_UPSTREAM[item["role"]]
    parts = item["content"]
    if role == "assistant":
        text = "".join(p["text"] for p in parts if p["type"] in ("output_text", "input_text"))
        refusal = "".join(p["refusal"] for p in parts if p["type"] == "refusal")
        message: Message = {"role": "assistant", "content": text}
        if refusal and not text:
            message = {"role": "assistant", "refusal": refusal}
        return message
    chat_parts = [_chat_part(part) for part in parts]
    if len(chat_parts) == 1 and chat_parts[0]["type"] == "text":
        return {"role": role, "content": chat_parts[0]["text"]}
    return {"role": role, "content": chat_parts}


def _chat_part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part["type"]
    if kind in ("input_text", "output_text"):
        return {"type": "text", "text": part["text"]}
    if kind == "refusal":
        return {"type": "text", "text": part["refusal"]}
    if kind == "input_image":
        image: dict[str, Any] = {"url": part["image_url"]}
        if part.get("detail") and part["detail"] != "auto":
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        file = {k: part[k] for k in ("file_data", "filename") if k in part}
        return {"type": "file", "file": file}
    raise ValueError(f"unsupported content part {kind!r}")


def _append_tool_call(messages: list[Message], item: dict[str, Any]) -> None:
    call = {
        "id": item["call_id"],
        "type": "function",
        "function": {"name": item["name"], "arguments": item["arguments"]},
    }
    last = messages[-1] if messages else None
    if last is not None and last["role"] == "assistant" and "refusal" not in last:
        last.setdefault("tool_calls", []).append(call)
        if last.get("content") == "":
            del last["content"]  # no nulls upstream: an absent content is the same thing
        return
    messages.append({"role": "assistant", "tool_calls": [call]})


def _tool_output(output: str | list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    if isinstance(output, str):
        return output
    parts = [_chat_part(part) for part in output]
    if all(part["type"] == "text" for part in parts):
        return "".join(part["text"] for part in parts)
    return parts
