"""Chat messages to the one prompt string the local model reads.

The model's own chat template (from the GGUF metadata) does the final formatting, but
templates of small models know only plain ``role`` + ``content`` strings, and many
reject anything else (``None`` content, a ``tool`` role, two user turns in a row). So
the conversation is first reduced to that lowest common shape:

- all system / developer text becomes one leading system message, followed by what the
  request itself implies (the function list, the JSON answer format);
- content parts are joined into text (the local model reads text only: an image or a
  file is a 400);
- an assistant's tool calls are written out in the same ``<tool_call>`` form the model
  is told to use, and tool results become user turns wrapped in ``<tool_response>``
  (the Hermes / Qwen convention, which many small models were tuned on);
- consecutive turns of the same role are merged.
"""

from __future__ import annotations

import contextlib
from typing import Any

from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from relaystack.errors import InvalidRequest
from relaystack.inference.local.request import ChatRequest
from relaystack.wire.json import dumps_stdlib, loads_lenient

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

# For GGUF files that carry no chat template.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

_TEXT_PARTS = ("text", "input_text", "output_text")


class PromptBuilder:
    def __init__(self, template: str | None, *, bos_token: str, eos_token: str) -> None:
        self._formatter = Jinja2ChatFormatter(
            template=template or CHATML_TEMPLATE, eos_token=eos_token, bos_token=bos_token
        )

    def render(self, request: ChatRequest) -> str:
        messages = template_messages(request)
        try:
            prompt = self._formatter(messages=messages).prompt
        except Exception as exc:  # jinja errors and the template's raise_exception()
            raise InvalidRequest(
                f"The local model's chat template rejected the conversation: {exc}",
                param="messages",
            ) from exc
        if request.tool_mode in ("required", "named"):
            # Start the answer with the call marker: the model then only has to fill in
            # the call, and the grammar makes sure it does.
            prompt += TOOL_CALL_OPEN + "\n"
        return prompt


def template_messages(request: ChatRequest) -> list[dict[str, str]]:
    system: list[str] = []
    turns: list[dict[str, str]] = []
    for index, message in enumerate(request.messages):
        role = message["role"]
        if role in ("system", "developer"):
            system.append(_text(message, index))
        elif role == "user":
            _append(turns, "user", _text(message, index))
        elif role == "assistant":
            calls = [render_tool_call(call) for call in message.get("tool_calls") or ()]
            text = "\n".join(part for part in (_text(message, index), *calls) if part)
            _append(turns, "assistant", text)
        elif role in ("tool", "function"):
            _append(turns, "user", f"<tool_response>\n{_text(message, index)}\n</tool_response>")
        else:
            raise InvalidRequest(
                f"messages[{index}] has the unknown role {role!r}.", param=f"messages[{index}].role"
            )
    system.extend(_instructions(request))
    head = [{"role": "system", "content": "\n\n".join(system)}] if system else []
    return head + turns


def render_tool_call(call: dict[str, Any]) -> str:
    function = call.get("function") or {}
    arguments: Any = function.get("arguments") or "{}"
    # Invalid JSON stays the string the model (or client) wrote.
    with contextlib.suppress(TypeError, ValueError):
        arguments = loads_lenient(arguments)
    payload = dumps_stdlib({"name": function.get("name"), "arguments": arguments})
    return f"{TOOL_CALL_OPEN}\n{payload}\n{TOOL_CALL_CLOSE}"


def _instructions(request: ChatRequest) -> list[str]:
    out = []
    if request.tools and request.tool_mode != "none":
        signatures = "\n".join(
            dumps_stdlib(
                {
                    "name": tool.name,
                    **({"description": tool.description} if tool.description else {}),
                    "parameters": tool.parameters,
                }
            )
            for tool in request.tools
        )
        out.append(
            "You can call functions. Their signatures are:\n"
            f"<tools>\n{signatures}\n</tools>\n"
            "To call a function, answer with only:\n"
            f'{TOOL_CALL_OPEN}\n{{"name": <function name>, "arguments": <arguments as a '
            f"JSON object>}}\n{TOOL_CALL_CLOSE}"
        )
    if request.response_format == "json_schema" and request.response_schema is not None:
        out.append(
            "Answer with a JSON object that follows this JSON schema:\n"
            + dumps_stdlib(request.response_schema)
        )
    elif request.response_format != "text":
        out.append("Answer with a JSON object.")
    return out


def _text(message: dict[str, Any], index: int) -> str:
    content = message.get("content")
    if content is None:
        refusal = message.get("refusal")
        return refusal if isinstance(refusal, str) else ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise InvalidRequest(
            f"messages[{index}].content must be a string or an array of parts.",
            param=f"messages[{index}].content",
        )
    texts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in _TEXT_PARTS:
            texts.append(str(part.get("text") or ""))
        elif kind == "refusal":
            texts.append(str(part.get("refusal") or ""))
        else:
            raise InvalidRequest(
                f"messages[{index}] has a {kind!r} part; the local model reads text only.",
                param=f"messages[{index}].content",
            )
    return "\n".join(texts)


def _append(turns: list[dict[str, str]], role: str, text: str) -> None:
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"] += "\n\n" + text
    else:
        turns.append({"role": role, "content": text})
