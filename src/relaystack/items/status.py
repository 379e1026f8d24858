"""The statuses an item goes through, and the shared id/status rules of stored items."""

from __future__ import annotations

from typing import Literal

ItemStatus = Literal["in_progress", "completed", "incomplete"]
