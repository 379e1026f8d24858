"""The typed core catches typos: a misspelt status, event type or event field in engine
code is a type error, which ``make lint`` (mypy over the core) fails on.

One mypy run over a snippet: the correct lines must pass and each misspelt line must be
reported, by its line number.
"""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy

_PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

_HEADER = """\
from relaystack.items.events import EventSequence
from relaystack.responses.resource import ResponseObject
from relaystack.tools.function import FunctionCallItem


def lines(seq: EventSequence, response: ResponseObject) -> None:
"""

_CORRECT = [
    'response["status"] = "completed"',
    'seq.response("response.completed", response)',
    'seq.text_delta("response.output_text.delta", item_id="m", output_index=0,'
    ' content_index=0, delta="x")',
    'call: FunctionCallItem = {"id": "fc", "type": "function_call", "status": "completed",'
    ' "call_id": "c", "name": "n", "arguments": ""}',
]
_TYPOS = [
    'response["status"] = "complete"',
    'seq.response("response.complete", response)',
    'seq.text_delta("response.output_text.delta", itemid="m", output_index=0,'
    ' content_index=0, delta="x")',
    'bad_call: FunctionCallItem = {"id": "fc", "type": "function_call", "status": "done",'
    ' "call_id": "c", "name": "n", "arguments": ""}',
]


def test_misspelt_statuses_event_types_and_fields_are_type_errors(tmp_path: Path) -> None:
    source = tmp_path / "snippet.py"
    body = [*_CORRECT, *_TYPOS]
    source.write_text(_HEADER + "".join(f"    {line}\n" for line in body))
    first_line = _HEADER.count("\n") + 1
    out, _, _ = mypy.run(
        [str(source), "--config-file", str(_PYPROJECT), "--cache-dir", str(tmp_path / ".mypy")]
    )
    flagged = {int(line.split(":")[1]) for line in out.splitlines() if line.startswith(str(source))}
    correct = set(range(first_line, first_line + len(_CORRECT)))
    typos = set(range(first_line + len(_CORRECT), first_line + len(body)))
    assert not flagged & correct, out
    assert typos <= flagged, f"mypy let a typo through:\n{out}"
