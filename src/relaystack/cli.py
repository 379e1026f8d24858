"""``relaystack serve``, ``relaystack check`` and ``relaystack recordings ...``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from relaystack import __version__
from relaystack.config import (
    Config,
    ConfigError,
    load_config,
    parse_config,
    with_recording_overrides,
    without_password,
)
from relaystack.inference.providers import provider_type
from relaystack.recording.modes import RECORD_MODES
from relaystack.startup import implied_record_mode

WS_SLACK_BYTES = 1024 * 1024


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="relaystack", description=__doc__)
    parser.add_argument("--version", action="version", version=f"relaystack {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--config", help="YAML configuration file")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8321)")
    serve.add_argument(
        "--record-mode",
        choices=RECORD_MODES,
        help="record or replay upstream calls (env RELAYSTACK_RECORD_MODE; default live, "
        "or replay when a recordings directory is given)",
    )
    serve.add_argument(
        "--recordings",
        metavar="DIR",
        help="recordings directory (env RELAYSTACK_RECORDINGS_DIR); without a mode: replay",
    )
    serve.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="warning",
        help="server log level; info and debug also log every request (default warning)",
    )
    serve.add_argument(
        "--log-format",
        choices=["text", "json"],
        default="text",
        help="log lines as text or as one JSON object each (default text)",
    )
    serve.set_defaults(func=_serve)

    check = commands.add_parser("check", help="validate a configuration and say what it serves")
    check.add_argument("--config", help="YAML configuration file (default: none, the local model)")
    check.set_defaults(func=_check, record_mode=None, recordings=None)

    from relaystack.accounting.cli import add_usage_parser
    from relaystack.recordings_cli import add_recordings_parser

    add_recordings_parser(commands)
    add_usage_parser(commands)

    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


def _load(args: argparse.Namespace) -> Config | None:
    """The configuration ``serve`` would run, or None after saying what is wrong."""
    try:
        config = load_config(args.config) if args.config else _zero_config()
        mode = implied_record_mode(config, args.record_mode, args.recordings)
        config = with_recording_overrides(config, mode, args.recordings)
    except ConfigError as exc:
        print(f"relaystack: bad configuration: {exc}", file=sys.stderr)
        return None
    if not config.providers:
        print("relaystack: bad configuration: providers: at least one is needed", file=sys.stderr)
        return None
    return config


def _check(args: argparse.Namespace) -> int:
    config = _load(args)
    if config is None:
        return 2
    for provider in config.providers:
        source = provider_type(provider.type).describe(provider)
        print(f"provider {provider.id}: {provider.type}, {source}")
    storage_problem = _storage_problem(config.storage.url)
    print(f"storage: {without_password(config.storage.url)} ({storage_problem or 'opens'})")
    print(f"recording: {config.recording.mode} {config.recording.directory or ''}".rstrip())
    print(f"auth: {'on' if config.auth else 'off'}")
    print(f"listen: http://{config.server.host}:{config.server.port}/v1")
    return 1 if storage_problem else 0


def _storage_problem(url: str) -> str | None:
    """Open the storage as ``serve`` would (creating and migrating it): None if it works,
    else why not, in one line."""
    from relaystack.store.sql import SqlStore, open_failure

    async def probe() -> None:
        store = await SqlStore.open(url)
        await store.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"cannot open: {open_failure(exc)}"
    return None


def _serve(args: argparse.Namespace) -> int:
    config = _load(args)
    if config is None:
        return 2
    if args.host:
        config.server.host = args.host
    if args.port is not None:
        config.server.port = args.port

    import uvicorn
    import uvloop

    from relaystack.app import StartupError, build_app
    from relaystack.observability.logs import configure_logging
    from relaystack.startup import ListenError, banner, listen

    configure_logging(args.log_level, args.log_format)

    try:
        # Bound first: a port in use is one line, before anything has started.
        sock = listen(config.server.host, config.server.port)
    except ListenError as exc:
        print(f"relaystack: cannot start: {exc}", file=sys.stderr)
        return 2
    port = sock.getsockname()[1]

    def announce(models: list[str]) -> None:
        # Said once everything has started, so a failed start prints only its reason.
        print(banner(__version__, config, port), file=sys.stderr)
        print(f"relaystack: serving models {', '.join(models) or '(none)'}", file=sys.stderr)

    app = build_app(config, announce=announce)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=args.log_level,
            log_config=None,  # configure_logging has set up uvicorn's loggers too
            # relaystack logs its own line per request (at info), with the request id,
            # owner, model and timings: uvicorn's would only repeat it.
            access_log=False,
            # Started below, by us: a failure to start is then one clear line, not
            # uvicorn's traceback.
            lifespan="off",
            timeout_keep_alive=config.server.keep_alive_timeout,
            limit_concurrency=config.server.limit_concurrency,
            # A WebSocket message a little over the body limit still gets an error
            # event (413); one far over it ends the connection (close code 1009).
            ws_max_size=config.server.max_body_bytes + WS_SLACK_BYTES,
        )
    )

    async def run() -> int:
        try:
            async with app.router.lifespan_context(app):
                await server.serve(sockets=[sock])
        except StartupError as exc:
            print(f"relaystack: cannot start: {exc}", file=sys.stderr)
            return 2
        return 0

    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            return runner.run(run())
    finally:
        sock.close()


def _zero_config() -> Config:
    """No file: the embedded local model, state in the user's data dir."""
    return parse_config({"providers": [{"type": "local"}]})


if __name__ == "__main__":
    raise SystemExit(main())
