"""Limits per owner, applied by the routes that call a model, before they call it."""

from __future__ import annotations

from starlette.requests import Request

from relaystack.accounting.limits import LimitGate
from relaystack.observability.record import RequestRecord
from relaystack.telemetry import telemetry


async def admit(request: Request, owner: str) -> None:
    """Count this request against ``owner``'s limits, or refuse it with a 429."""
    gate: LimitGate | None = request.app.state.limits
    if gate is None:
        return
    admission = await gate.admit(owner)
    if admission is None:
        return
    record: RequestRecord | None = getattr(telemetry(), "record", None)
    if record is None:  # outside the request middleware: settle at once
        await admission.settle(0)
        return

    async def settle() -> None:
        await admission.settle(record.input_tokens + record.output_tokens)

    # A lease goes back before the last byte (the client may then send its next
    # request at once); tokens alone are counted after it.
    (record.before_last_byte if admission.lease else record.cleanups).append(settle)
