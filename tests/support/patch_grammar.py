"""The ``apply_patch`` tool as coding agents define it: a ``custom`` tool whose input is a
patch in a Lark grammar (file additions, deletions and updates)."""

from __future__ import annotations

from typing import Any

APPLY_PATCH_GRAMMAR = r"""
start: begin_patch hunk+ end_patch
begin_patch: "*** Begin Patch" LF
end_patch: "*** End Patch" LF?

hunk: add_hunk | delete_hunk | update_hunk
add_hunk: "*** Add File: " filename LF add_line+
delete_hunk: "*** Delete File: " filename LF
update_hunk: "*** Update File: " filename LF change_move? change?

filename: /(.+)/
add_line: "+" /(.*)/ LF -> line

change_move: "*** Move to: " filename LF
change: (change_context | change_line)+ eof_line?
change_context: ("@@" | "@@ " /(.+)/) LF
change_line: ("+" | "-" | " ") /(.*)/ LF
eof_line: "*** End of File" LF

%import common.LF
"""

# What a small model needs to see once to write a patch of its own.
PATCH_EXAMPLE = (
    "To create a file, call apply_patch with a patch like this one:\n"
    "*** Begin Patch\n*** Add File: notes.txt\n+remember the milk\n*** End Patch\n"
)

APPLY_PATCH: dict[str, Any] = {
    "type": "custom",
    "name": "apply_patch",
    "description": "Create or edit files. " + PATCH_EXAMPLE,
    "format": {"type": "grammar", "syntax": "lark", "definition": APPLY_PATCH_GRAMMAR},
}

# The same language as a Python regex, to check a patch independently of the translation
# (Lark's own parsers refuse the grammar's zero-width ``/(.*)/`` terminals).
_LINE = r".*\n"
_HUNK = (
    r"(\*\*\* Add File: .+\n(\+" + _LINE + r")+"
    r"|\*\*\* Delete File: .+\n"
    r"|\*\*\* Update File: .+\n(\*\*\* Move to: .+\n)?"
    r"(((@@|@@ .+)\n|[-+ ]" + _LINE + r")+(\*\*\* End of File\n)?)?)"
)
PATCH_PATTERN = r"\*\*\* Begin Patch\n" + _HUNK + r"+\*\*\* End Patch\n?"
