"""Content parts: the pieces of a message (text, images, files, refusals).

Each part has a request model (what a client may send), a stored shape, and a chat
form (what a chat-completions upstream reads).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

from pydantic import Field, model_validator

from relaystack.strict import StrictModel

# ----- what a client may send ------------------------------------------------------


class InputText(StrictModel):
    type: Literal["input_text"]
    text: str


class InputImage(StrictModel):
    type: Literal["input_image"]
    image_url: str | None = None
    file_id: str | None = None
    detail: Literal["low", "high", "auto"] = "auto"

    @model_validator(mode="after")
    def _has_a_source(self) -> InputImage:
        if self.image_url is None and self.file_id is None:
            raise ValueError("an input_image needs an image_url (a URL or a data URL) or a file_id")
        return self


class InputFile(StrictModel):
    type: Literal["input_file"]
    file_id: str | None = None
    file_data: str | None = None
    file_url: str | None = None
    filename: str | None = None

    @model_validator(mode="after")
    def _has_a_source(self) -> InputFile:
        # Chat-completions upstreams take a file's bytes only: a file_id is read from
        # the Files store before the turn (items/file_inputs.py); a file_url has no
        # upstream field.
        if self.file_data is None and self.file_id is None:
            raise ValueError("an input_file needs file_data or file_id (file_url is not supported)")
        return self


class OutputText(StrictModel):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]] = Field(default_factory=list)
    logprobs: list[dict[str, Any]] | None = None


class Refusal(StrictModel):
    type: Literal["refusal"]
    refusal: str


ContentPartInput = Annotated[
    InputText | InputImage | InputFile | OutputText | Refusal, Field(discriminator="type")
]
CONTENT_PART_TYPES = ("input_text", "input_image", "input_file", "output_text", "refusal")


# ----- stored shapes ---------------------------------------------------------------


class InputTextPart(TypedDict):
    type: Literal["input_text"]
    text: str


class InputImagePart(TypedDict):
    type: Literal["input_image"]
    image_url: str
    detail: Literal["low", "high", "auto"]
    file_id: NotRequired[str]


class InputFilePart(TypedDict):
    type: Literal["input_file"]
    file_data: str
    filename: NotRequired[str]
    file_id: NotRequired[str]
    file_url: NotRequired[str]


class OutputTextPart(TypedDict):
    type: Literal["output_text"]
    text: str
    annotations: list[dict[str, Any]]
    logprobs: NotRequired[list[dict[str, Any]]]


class RefusalPart(TypedDict):
    type: Literal["refusal"]
    refusal: str


ContentPart = InputTextPart | InputImagePart | InputFilePart | OutputTextPart | RefusalPart


def stored_part(part: StrictModel) -> ContentPart:
    return part.model_dump(exclude_none=True)  # type: ignore[return-value]


def output_text(text: str) -> OutputTextPart:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal(text: str) -> RefusalPart:
    return {"type": "refusal", "refusal": text}


# ----- chat form -------------------------------------------------------------------


def chat_part(part: dict[str, Any]) -> dict[str, Any]:
    """One part as a chat-completions content part."""
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


def chat_content(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """Parts as chat content: one text part goes upstream as a plain string, which
    keeps upstream bodies (recording keys) the same as a string input would make."""
    chat_parts = [chat_part(part) for part in parts]
    if len(chat_parts) == 1 and chat_parts[0]["type"] == "text":
        return str(chat_parts[0]["text"])
    return chat_parts
