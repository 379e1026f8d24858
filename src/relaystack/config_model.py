"""The base of every configuration section, and the error a bad section raises.

It sits below ``config`` so that the provider types in ``inference`` can declare their
own sections without importing the module that assembles them.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the operator."""


class ConfigModel(BaseModel):
    """A configuration section: an unknown key is an error that names it."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        # Checked before the fields, so a misspelt key is reported as itself rather
        # than as the required key it was meant to be.
        if isinstance(data, dict):
            for key in data:
                if key not in cls.model_fields:
                    raise ValueError(unknown_key(str(key), list(cls.model_fields)))
        return data


def unknown_key(key: str, known: list[str]) -> str:
    """``unknown key 'baseurl' (did you mean 'base_url'?)``."""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return f"unknown key '{key}'{hint}"
