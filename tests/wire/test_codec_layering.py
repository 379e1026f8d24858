"""The codec is the bottom of the import graph, and the only home of JSON libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import relaystack

PACKAGE = Path(relaystack.__file__).parent
WIRE = PACKAGE / "wire"
JSON_LIBRARIES = {"json", "orjson"}


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_the_codec_imports_nothing_else_of_relaystack() -> None:
    for path in WIRE.glob("*.py"):
        for module in imported_modules(path):
            if module.split(".")[0] == "relaystack":
                assert module.startswith("relaystack.wire"), f"{path.name} imports {module}"


def test_json_libraries_are_imported_only_by_the_codec() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path.parent == WIRE:
            continue
        found = {m.split(".")[0] for m in imported_modules(path)} & JSON_LIBRARIES
        assert not found, f"{path.relative_to(PACKAGE)} imports {found}: use relaystack.wire"
