"""A file's text, by the kind its name says: text, Markdown, HTML, JSON, CSV or PDF."""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import PurePath

TEXT_SUFFIXES = frozenset(
    {".txt", ".md", ".markdown", ".csv", ".json", ".html", ".htm", ".pdf", ".rst", ".xml"}
)
_SKIPPED_HTML = frozenset({"script", "style", "head", "noscript", "template"})
_BLOCK_HTML = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})


class ExtractionError(Exception):
    """The file cannot be read as its kind: ``code`` is the ``last_error`` code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def extract_text(filename: str, content: bytes) -> str:
    suffix = PurePath(filename).suffix.lower()
    if suffix not in TEXT_SUFFIXES:
        raise ExtractionError(
            "unsupported_file",
            f"Files of type '{suffix or 'none'}' cannot be searched; use "
            + ", ".join(sorted(TEXT_SUFFIXES))
            + ".",
        )
    if suffix == ".pdf":
        text = _pdf_text(content)
    else:
        text = _decoded(content)
        if suffix in (".html", ".htm"):
            text = _html_text(text)
    if not text.strip():
        raise ExtractionError("invalid_file", "The file has no text to search.")
    return text


def _decoded(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            "invalid_file", f"The file is not UTF-8 text (byte {exc.start} is not)."
        ) from None


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError("invalid_file", f"The PDF cannot be read: {exc}") from None


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_HTML:
            self._skipping += 1
        elif tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_HTML and self._skipping:
            self._skipping -= 1
        elif tag in _BLOCK_HTML:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)
