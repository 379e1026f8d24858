"""``relaystack usage``: requests and tokens per owner, model and day, from the store."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from relaystack.accounting.days import checked_day
from relaystack.config import Config, ConfigError, load_config
from relaystack.wire.json import dumps_stdlib


def add_usage_parser(commands: Any) -> None:
    usage = commands.add_parser(
        "usage", help="show requests and tokens per owner, model and day (from the store)"
    )
    usage.add_argument("--config", help="YAML configuration file (its storage.url is read)")
    usage.add_argument("--owner", help="only this owner")
    usage.add_argument("--since", metavar="YYYY-MM-DD", help="from this UTC day on")
    usage.add_argument("--until", metavar="YYYY-MM-DD", help="up to this UTC day, included")
    usage.add_argument("--json", action="store_true", help="one JSON object per row")
    usage.set_defaults(func=_usage)


def _usage(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config) if args.config else Config()
        since = checked_day(args.since, "since")
        until = checked_day(args.until, "until")
    except (ConfigError, ValueError) as exc:
        print(f"relaystack usage: {exc}", file=sys.stderr)
        return 2
    rows = asyncio.run(_read(config.storage.url, args.owner, since, until))
    if args.json:
        for row in rows:
            print(dumps_stdlib(row))
    else:
        print(_table(rows))
    return 0


async def _read(url: str, owner: str | None, since: str | None, until: str | None) -> list[Any]:
    from relaystack.store.sql import SqlStore

    store = await SqlStore.open(url)
    try:
        return await store.usage(owner=owner, since=since, until=until)
    finally:
        await store.close()


_COLUMNS = ("day", "owner", "model", "requests", "input_tokens", "output_tokens")


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [list(_COLUMNS)] + [[str(row[column]) for column in _COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        for line in cells
    ]
    if not rows:
        lines.append("(no usage recorded)")
    return "\n".join(line.rstrip() for line in lines)
