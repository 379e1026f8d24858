"""Limits per owner, applied by the routes that call a model, before they call it."""

from __future__ import annotations

from typing import cast

from starlette.requests import HTTPConnection

from relaystack.accounting.limits import LimitGate
from relaystack.observability.record import RequestRecord
from relaystack.observability.recorder import RequestTelemetry
from relaystack.telemetry import telemetry


async def admit(request: HTTPConnection, owner: str) -> None:
    """Count this request against ``owner``'s limits, or refuse it with a 429."""
    gate: LimitGate | None = request.app.state.owner_limits
    if gate is None:
        return
    admission = await gate.admit(owner)
    if admission is None:
        return
    # The request middleware (always installed by build_app) is serving this request.
    record: RequestRecord = cast(RequestTelemetry, telemetry()).record

    async def settle() -> None:
        await admission.settle(record.input_tokens + record.output_tokens)

    # A lease goes back before the last byte (the client may then send its next
    # request at once); tokens alone are counted after it.
    (record.before_last_byte if admission.lease else record.cleanups).append(settle)
