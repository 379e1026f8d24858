"""The ``message`` item: a user, system, developer or assistant turn of text and media.

Chat mapping rules that keep upstream bodies byte-for-byte stable (they are recording
keys): one text part goes up as a plain string; an assistant's text parts are joined
into one string; ``developer`` becomes ``system``, which every chat server knows.
"""

from __future__ import annotations

from typing import ClassVar, Literal, NotRequired, TypedDict

from relaystack.ids import IdSource
from relaystack.items.kind import ChatMessage, Item
from relaystack.items.parts import (
    ContentPart,
    ContentPartInput,
    chat_content,
    output_text,
    stored_part,
)
from relaystack.items.status import ItemStatus
from relaystack.strict import StrictModel

Role = Literal["user", "system", "developer", "assistant"]

# Many OpenAI-compatible servers (vLLM, Ollama, llama.cpp) reject the newer
# "developer" role; "system" means the same to every model.
_ROLE_UPSTREAM: dict[str, str] = {
    "user": "user",
    "system": "system",
    "developer": "system",
    "assistant": "assistant",
}


class MessageInput(StrictModel):
    type: Literal["message"] = "message"
    id: str | None = None
    role: Role
    content: str | list[ContentPartInput]
    status: ItemStatus | None = None
    phase: Literal["commentary", "final_answer"] | None = None


class MessageItem(TypedDict):
    id: str
    type: Literal["message"]
    role: Role
    status: ItemStatus
    content: list[ContentPart]
    phase: NotRequired[Literal["commentary", "final_answer"]]


def user_text(text: str, ids: IdSource) -> MessageItem:
    """``input: "..."``: one user message of one text part."""
    return new_message("user", [{"type": "input_text", "text": text}], ids)


def new_message(
    role: Role,
    content: list[ContentPart],
    ids: IdSource,
    item_id: str | None = None,
    status: ItemStatus = "completed",
) -> MessageItem:
    return {
        "id": item_id or ids("msg"),
        "type": "message",
        "role": role,
        "status": status,
        "content": content,
    }


class MessageKind:
    item_type: ClassVar[str] = "message"
    input_model: ClassVar[type[StrictModel]] = MessageInput

    def normalize(self, raw: MessageInput, ids: IdSource) -> Item:
        content = (
            _plain_content(raw.role, raw.content)
            if isinstance(raw.content, str)
            else [stored_part(part) for part in raw.content]
        )
        message = new_message(raw.role, content, ids, raw.id, raw.status or "completed")
        return dict(message)

    def to_chat(self, item: Item, messages: list[ChatMessage]) -> None:
        role = _ROLE_UPSTREAM[item["role"]]
        parts = item["content"]
        if role != "assistant":
            messages.append({"role": role, "content": chat_content(parts)})
            return
        text = "".join(p["text"] for p in parts if p["type"] in ("output_text", "input_text"))
        refusal = "".join(p["refusal"] for p in parts if p["type"] == "refusal")
        if refusal and not text:
            messages.append({"role": "assistant", "refusal": refusal})
        else:
            messages.append({"role": "assistant", "content": text})


def _plain_content(role: Role, text: str) -> list[ContentPart]:
    if role == "assistant":
        return [output_text(text)]
    return [{"type": "input_text", "text": text}]


MESSAGE = MessageKind()
