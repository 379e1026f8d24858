"""A relaystack configured for the storage tests: mock upstream, any storage URL, and
optionally API keys; run in a thread (``ServerThread``) or as a real ``relaystack serve``
process, the way a replica runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from relaystack.config import Config, parse_config


def stack_settings(upstream_url: str, storage_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "providers": [
            {
                "id": "openai",
                "type": "openai-compatible",
                "base_url": upstream_url,
                "api_key": "sk-test",
                "models": ["gpt-4o", "mock-model"],
            }
        ],
        "storage": {"url": storage_url},
        **extra,
    }


def stack_config(upstream_url: str, storage_url: str, **extra: Any) -> Config:
    return parse_config(stack_settings(upstream_url, storage_url, **extra))


class ServeProcess:
    """``python -m relaystack serve --config FILE --port P`` in a child process."""

    def __init__(
        self,
        config_file: Path,
        port: int,
        log_file: Path,
        *extra_args: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/v1"
        self._log = log_file.open("wb")
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "relaystack", "serve"),
                *("--config", str(config_file), "--port", str(port)),
                *extra_args,
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.log_file = log_file

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_file.read_text()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        log = self.log_file.read_text()
        raise TimeoutError(f"server on port {self.port} did not start:\n{log}")

    def stop(self) -> None:
        # Only the process this object started, by its own handle.
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


def write_config(path: Path, settings: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path
