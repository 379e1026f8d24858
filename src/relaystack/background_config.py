"""The ``background:`` block of the configuration: how a replica runs background responses.

```yaml
background:
  concurrency: 8          # background turns this replica runs at once
  max_queued: 1000        # queued jobs (all replicas together) before a 503
  lease_seconds: 10       # a replica silent this long has its running jobs ended failed
  poll_interval: 0.5      # seconds between looks for jobs queued by other replicas
  flush_interval: 0.02    # seconds between writes of the event log (one batch per tick)
  follow_interval: 0.02   # PostgreSQL without LISTEN: seconds between looks for new events
```
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BackgroundConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(8, gt=0)
    max_queued: int = Field(1000, gt=0)
    lease_seconds: float = Field(10.0, ge=1.0)
    poll_interval: float = Field(0.5, gt=0)
    flush_interval: float = Field(0.02, gt=0)
    follow_interval: float = Field(0.02, gt=0)
