"""The ``operations:`` block of the configuration: metrics, traces, admins, limits.

```yaml
operations:
  metrics: {enabled: true, public: false}   # /metrics; public: no key needed with auth on
  tracing: {enabled: false, capture_content: false}
  admins: [ops]                             # owners who may read /metrics and /v1/usage
```
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MetricsConfig(_Strict):
    enabled: bool = True
    # With auth on, /metrics needs an admin's key unless this opens it.
    public: bool = False


class OperationsConfig(_Strict):
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    # Owners whose keys may read /metrics and everyone's usage.
    admins: list[str] = Field(default_factory=list)
