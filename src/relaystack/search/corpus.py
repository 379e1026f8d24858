"""Loading a local corpus of pages for the offline backend.

Two sources, both read once at start-up:

* a directory, walked recursively, of ``.txt``, ``.md``/``.markdown`` and
  ``.html``/``.htm`` files. A page's title is the HTML ``<title>`` (or first ``<h1>``),
  the first Markdown heading, or the first line of a text file; its url is
  ``base_url`` + the file's path inside the directory when ``base_url`` is set, else
  the file's ``file://`` url.
* a JSON file: a list of ``{"url", "title", "content"}`` objects (``title`` optional),
  or ``{"pages": [...]}`` around such a list.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from relaystack.search.base import SearchResult
from relaystack.wire import json as wire_json

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".html", ".htm"}


class CorpusError(ValueError):
    """A corpus that cannot be read, phrased for the operator."""


def load_directory(directory: Path, base_url: str | None = None) -> list[SearchResult]:
    if not directory.is_dir():
        raise CorpusError(f"search corpus directory {directory} does not exist")
    pages = []
    for path in sorted(directory.rglob("*")):
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            url = _url_for(path, directory, base_url)
            pages.append(_page(url, path.read_text(encoding="utf-8", errors="replace"), path))
    return pages


def load_pages_file(path: Path) -> list[SearchResult]:
    try:
        data: Any = wire_json.loads_lenient(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorpusError(f"search pages file {path} cannot be read: {exc}") from exc
    if isinstance(data, dict):
        data = data.get("pages")
    if not isinstance(data, list):
        raise CorpusError(f"search pages file {path} must hold a list of pages")
    pages = []
    for index, entry in enumerate(data):
        if not (isinstance(entry, dict) and isinstance(entry.get("url"), str)):
            raise CorpusError(f"search pages file {path}: page {index} has no 'url'")
        content = entry.get("content")
        if not isinstance(content, str):
            raise CorpusError(f"search pages file {path}: page {index} has no 'content'")
        title = entry.get("title")
        pages.append(SearchResult(entry["url"], title if isinstance(title, str) else "", content))
    return pages


def _url_for(path: Path, directory: Path, base_url: str | None) -> str:
    if base_url is None:
        return path.resolve().as_uri()
    return base_url.rstrip("/") + "/" + path.relative_to(directory).as_posix()


def _page(url: str, text: str, path: Path) -> SearchResult:
    suffix = path.suffix.lower()
    if suffix in {".html", ".htm"}:
        title, body = html_text(text)
    elif suffix in {".md", ".markdown"}:
        title, body = _markdown_title(text), text
    else:
        title, body = next((line.strip() for line in text.splitlines() if line.strip()), ""), text
    return SearchResult(url=url, title=title or path.stem, content=body.strip())


def _markdown_title(text: str) -> str:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
    return ""


class _TextOf(HTMLParser):
    _SKIPPED = {"script", "style", "noscript", "template"}
    _BLOCKS = {"p", "div", "br", "li", "tr", "section", "article", "h1", "h2", "h3", "h4"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.heading = ""
        self.parts: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append(tag)
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if "title" in self._open:
            self.title += data
        elif not self._SKIPPED.intersection(self._open):
            self.parts.append(data)
            if "h1" in self._open and not self.heading:
                self.heading = data.strip()


def html_text(html: str) -> tuple[str, str]:
    """``(title, visible text)`` of an HTML page, scripts and styles left out."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    text = "\n".join(line for line in lines if line)
    return (" ".join(parser.title.split()) or parser.heading), text
