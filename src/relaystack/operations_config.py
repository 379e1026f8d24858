"""The ``operations:`` block of the configuration: metrics, traces, admins, limits.

```yaml
operations:
  metrics: {enabled: true, public: false}   # /metrics; public: no key needed with auth on
  tracing: {enabled: false, capture_content: false}
  admins: [ops]                             # owners who may read /metrics and /v1/usage
  limits:                                   # per owner, shared by every replica
    default: {requests_per_minute: 600, tokens_per_day: 2000000, concurrent_requests: 16}
    owners:
      batch-jobs: {requests_per_minute: 60, tokens_per_minute: 200000}
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


class TracingConfig(_Strict):
    """OpenTelemetry traces over OTLP (needs ``relaystack[tracing]``); the standard
    ``OTEL_*`` variables also turn them on and say where they go."""

    enabled: bool = False
    # Put prompts and outputs into spans (gen_ai.input.messages / output.messages).
    capture_content: bool = False
    service_name: str = "relaystack"


class OwnerLimits(_Strict):
    """Unset: no limit of that kind (or, for an owner, the default's)."""

    requests_per_minute: int | None = Field(None, gt=0)
    tokens_per_minute: int | None = Field(None, gt=0)
    tokens_per_day: int | None = Field(None, gt=0)
    concurrent_requests: int | None = Field(None, gt=0)


class LimitsConfig(_Strict):
    default: OwnerLimits = Field(default_factory=OwnerLimits)
    # Per owner; a field left out takes the default's value.
    owners: dict[str, OwnerLimits] = Field(default_factory=dict)
    # How long the concurrency slots a replica holds keep counting after it dies (a
    # live replica renews them).
    lease_seconds: int = Field(600, gt=0)

    def for_owner(self, owner: str) -> dict[str, int]:
        """The limits that apply to ``owner``, by name (none: an empty dict)."""
        merged = self.default.model_dump(exclude_none=True)
        if owner in self.owners:
            merged.update(self.owners[owner].model_dump(exclude_none=True))
        return merged

    @property
    def any(self) -> bool:
        return bool(self.default.model_dump(exclude_none=True)) or any(
            entry.model_dump(exclude_none=True) for entry in self.owners.values()
        )


class OperationsConfig(_Strict):
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
    # Owners whose keys may read /metrics and everyone's usage.
    admins: list[str] = Field(default_factory=list)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
