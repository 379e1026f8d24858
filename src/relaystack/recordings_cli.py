"""``relaystack recordings ...``: list, show, verify and prune a recordings directory.

``add_recordings_parser`` plugs into the main CLI's subparsers; every leaf sets
``func(args) -> int`` (the exit code). ``python -m relaystack.recordings_cli recordings
...`` runs the same commands standalone.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

from relaystack.recording.format import load_recording, unwrap
from relaystack.recording.keys import models_digest, parse_filename, request_key
from relaystack.recording.render import render
from relaystack.recording.runlog import RUN_LOG_ENV, RunLogContents, read_run_log
from relaystack.recording.store import RecordingStore
from relaystack.startup import RECORDINGS_DIR_ENV

_KEY = re.compile(r"^[0-9a-f]{64}$")


def add_recordings_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("recordings", help="inspect and maintain upstream recordings")
    commands = parser.add_subparsers(dest="recordings_command", metavar="COMMAND", required=True)

    p = commands.add_parser("list", help="one line per recording")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.set_defaults(func=cmd_list)

    p = commands.add_parser("show", help="a recording as a conversation")
    p.add_argument("target", metavar="FILE|HASH", help="a file, or a key (prefix) in --dir")
    p.add_argument(
        "--dir",
        type=Path,
        help=f"where to look a key up (default: ${RECORDINGS_DIR_ENV}, else --config's "
        "recording.directory, else the current directory)",
    )
    p.add_argument("--config", type=Path, help="a relaystack configuration naming the directory")
    p.set_defaults(func=cmd_show)

    p = commands.add_parser("verify", help="check every file parses and is named by its key")
    p.add_argument("directory", type=Path, metavar="DIR")
    p.set_defaults(func=cmd_verify)

    p = commands.add_parser(
        "prune",
        help="delete recordings a run did not use",
        description=f"The run log is written by a run with {RUN_LOG_ENV}=PATH set. It is "
        "appended to across runs: delete it before the run. A log that covers a partial "
        "pytest run (failures, -k, -m, a subset of the suite) is refused.",
    )
    p.add_argument("directory", type=Path, metavar="DIR")
    p.add_argument("--unused-since", type=Path, required=True, metavar="RUN_LOG", dest="run_log")
    p.add_argument("--dry-run", action="store_true", help="only print what would be deleted")
    p.set_defaults(func=cmd_prune)


def _not_a_directory(directory: Path) -> bool:
    """Say so (the same words for every command) when ``directory`` is not one."""
    if directory.is_dir():
        return False
    print(f"{directory}: not a directory", file=sys.stderr)
    return True


def cmd_list(args: argparse.Namespace) -> int:
    if _not_a_directory(args.directory):
        return 1
    store = RecordingStore(args.directory)
    rows = [("KEY", "ENDPOINT", "MODEL", "STREAM", "SIZE", "TEST ID")]
    for name, parsed in store.parsed_names():
        size = _size((args.directory / name).stat().st_size)
        short = ("models-" if parsed.is_models else "") + parsed.key[:12]
        if parsed.occurrence > 1:
            short += f"-{parsed.occurrence}"
        try:
            rec = store.load(name)
        except (OSError, ValueError) as exc:
            rows.append((short, f"(unreadable: {exc})", "", "", size, ""))
            continue
        request, response = rec.get("request") or {}, rec.get("response") or {}
        stream = (
            "error"
            if response.get("is_exception")
            else "yes"
            if response.get("is_streaming")
            else "no"
        )
        rows.append(
            (
                short,
                str(request.get("endpoint")),
                str(request.get("model") or "-"),
                stream,
                size,
                str(rec.get("test_id") or "-"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )
    print(f"{len(rows) - 1} recording(s) in {args.directory}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if target.is_file():
        paths = [target]
    else:
        directory = _show_directory(args)
        if directory is None or _not_a_directory(directory):
            return 1
        prefix = args.target.removeprefix("models-").removesuffix(".json")
        matches = [
            (n, p) for n, p in RecordingStore(directory).parsed_names() if p.key.startswith(prefix)
        ]
        keys = {p.key for _, p in matches}
        if not matches:
            print(
                f"no recording matches {args.target!r} in {directory} (--dir names another)",
                file=sys.stderr,
            )
            return 1
        if len(keys) > 1:
            print(f"{args.target!r} is ambiguous in {directory}:", file=sys.stderr)
            for name, _ in matches:
                print(f"  {name}", file=sys.stderr)
            return 1
        paths = [directory / name for name, _ in matches]
    for i, path in enumerate(paths):
        try:
            recording = load_recording(path)
        except (OSError, ValueError) as exc:
            print(f"{path}: cannot read: {exc}", file=sys.stderr)
            return 1
        print(("\n" if i else "") + render(recording, path.name), end="")
    return 0


def _show_directory(args: argparse.Namespace) -> Path | None:
    """Where ``show`` looks a key up: --dir, the environment, the config, or here."""
    if args.dir is not None:
        return Path(args.dir)
    if env := os.environ.get(RECORDINGS_DIR_ENV):
        return Path(env)
    if args.config is not None:
        from relaystack.config import ConfigError, load_config

        try:
            directory = load_config(args.config).recording.directory
        except ConfigError as exc:
            print(f"relaystack: bad configuration: {exc}", file=sys.stderr)
            return None
        if directory:
            return Path(directory)
    return Path(".")


def cmd_verify(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if _not_a_directory(directory):
        return 1
    paths = sorted(directory.glob("*.json"))
    problems = [problem for path in paths for problem in verify_file(path)]
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} file(s)")
        return 1
    print(f"OK: {len(paths)} recording(s) in {directory}")
    return 0


def verify_file(path: Path) -> list[str]:
    """Problems with one file: name, JSON, shape, and whether the name is its key."""
    name = path.name
    parsed = parse_filename(name)
    if parsed is None:
        expected = "<key>.json, <key>-<n>.json or models-<key>-<8hex>.json"
        return [f"{name}: not a recording file name ({expected})"]
    try:
        rec = load_recording(path)
    except (OSError, ValueError) as exc:
        return [f"{name}: does not parse: {exc}"]
    problems = [f"{name}: {p}" for p in _shape_problems(rec)]
    if problems:
        return problems
    request = rec["request"]
    key = request_key(request["method"], request["url"], request["body"], rec["test_id"])
    if key != parsed.key:
        problems.append(f"{name}: the request hashes to {key}, not to the key in the file name")
    if parsed.is_models and not rec["response"].get("is_exception"):
        ids = [
            str(unwrap(m).get("id")) for m in rec["response"]["body"] if isinstance(unwrap(m), dict)
        ]
        if models_digest(ids) != parsed.digest:
            problems.append(
                f"{name}: model ids digest to {models_digest(ids)}, not {parsed.digest}"
            )
    return problems


def _shape_problems(rec: Any) -> list[str]:
    problems = [f"missing key {k!r}" for k in ("test_id", "request", "response") if k not in rec]
    if problems:
        return problems
    request, response = rec["request"], rec["response"]
    if not isinstance(request, dict) or not isinstance(response, dict):
        return ["request and response must be objects"]
    problems += [
        f"request lacks {k!r}" for k in ("method", "url", "body", "endpoint") if k not in request
    ]
    if request.get("headers"):
        problems.append("request headers are not empty (credentials must never be stored)")
    if response.get("is_exception"):
        if "exception_data" not in response and "exception_message" not in response:
            problems.append("an exception recording needs exception_data or exception_message")
    elif "body" not in response or "is_streaming" not in response:
        problems.append("response needs body and is_streaming")
    elif response["is_streaming"] and not isinstance(response["body"], list):
        problems.append("a streaming response body must be a list of chunks")
    return problems


def cmd_prune(args: argparse.Namespace) -> int:
    if not args.run_log.is_file():
        print(f"{args.run_log}: no such run log", file=sys.stderr)
        return 1
    if _not_a_directory(args.directory):
        return 1
    log = read_run_log(args.run_log)
    if refusal := _prune_refusal(args.run_log, log):
        print(refusal, file=sys.stderr)
        return 1
    if not log.complete_runs:
        print(
            f"WARNING: {args.run_log} does not say its run was complete (the pytest plugin "
            "notes that); recordings of tests that did not run count as unused",
            file=sys.stderr,
        )
    used = log.names
    used_keys = {line for line in used if _KEY.match(line)}
    entries = RecordingStore(args.directory).parsed_names()
    unused = [n for n, p in entries if n not in used and p.key not in used_keys]
    verb = "would delete" if args.dry_run else "deleted"
    for name in unused:
        if not args.dry_run:
            (args.directory / name).unlink()
        print(f"{verb} {name}")
    print(f"{len(unused)} of {len(entries)} recording(s) unused ({verb})")
    return 0


def _prune_refusal(path: Path, log: RunLogContents) -> str | None:
    if not log.names:
        # An empty log almost always means the run did not log; deleting everything
        # would be the wrong reading of it.
        return f"{path}: run log is empty; refusing to prune"
    if log.partial_runs:
        # Tests that did not run (or stopped early) used none of their recordings.
        return (
            f"{path}: covers a partial run ({'; '.join(log.partial_runs)}); refusing to prune. "
            "Delete the log, run the whole suite, then prune."
        )
    return None


def _size(n: int) -> str:
    return (
        f"{n} B"
        if n < 1024
        else f"{n / 1024:.1f} KB"
        if n < 1024 * 1024
        else f"{n / 1048576:.1f} MB"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m relaystack.recordings_cli")
    add_recordings_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
