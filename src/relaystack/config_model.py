"""The base of every configuration section, and the error a bad section raises.

It sits below ``config`` so that the provider types in ``inference`` can declare their
own sections without importing the module that assembles them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(Exception):
    """A configuration problem, phrased as one line for the operator."""


class ConfigModel(BaseModel):
    """A configuration section: an unknown key is an error."""

    model_config = ConfigDict(extra="forbid")
