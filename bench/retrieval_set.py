"""A labelled retrieval set built from text the interpreter ships: the docstrings of
Python's standard library (PSF licence), so nothing is downloaded and every run of
the same Python builds the same set.

Each document is a function's or class's docstring without its first line; its query
is that first line (the summary). A query has exactly one relevant document: the body
it summarises. Summaries share words with their bodies only now and then, so keyword
and vector search each find some that the other misses, which is what a comparison
of the two and their fusion needs.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

MODULES = (
    "argparse", "ast", "asyncio.locks", "asyncio.queues", "base64", "bisect", "calendar",
    "collections", "configparser", "contextlib", "csv", "datetime", "decimal", "difflib",
    "email.message", "fractions", "ftplib", "functools", "gettext", "glob", "gzip", "heapq",
    "hmac", "html.parser", "http.client", "http.cookies", "imaplib", "inspect", "ipaddress",
    "json", "logging", "mailbox", "mimetypes", "os", "pathlib", "pickle", "pprint",
    "queue", "random", "secrets", "shlex", "shutil", "smtplib", "socket", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "tokenize",
    "traceback", "typing", "urllib.parse", "uuid", "warnings", "wave", "weakref", "zipfile",
)  # fmt: skip
MIN_BODY_CHARS = 120


@dataclass(frozen=True)
class Example:
    name: str  # module.qualname: the document's id
    query: str
    document: str


def _docstrings(module_name: str) -> list[tuple[str, str]]:
    module = importlib.import_module(module_name)
    found = []
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if not (inspect.isfunction(value) or inspect.isclass(value)):
            continue
        found.append((f"{module_name}.{name}", inspect.getdoc(value) or ""))
        if inspect.isclass(value):
            for member, attribute in vars(value).items():
                if not member.startswith("_") and inspect.isfunction(attribute):
                    found.append(
                        (f"{module_name}.{name}.{member}", inspect.getdoc(attribute) or "")
                    )
    return found


def build_set(limit: int | None = None) -> list[Example]:
    """Examples whose summary is one sentence and whose body has substance, deduplicated
    by summary (several functions share "Return a copy." and the like)."""
    examples: list[Example] = []
    seen: set[str] = set()
    for module_name in MODULES:
        for name, doc in _docstrings(module_name):
            summary, _, body = doc.partition("\n")
            summary, body = summary.strip(), body.strip()
            if len(body) < MIN_BODY_CHARS or len(summary) < 20 or summary.lower() in seen:
                continue
            seen.add(summary.lower())
            examples.append(Example(name, summary, body))
    return examples[:limit] if limit else examples
