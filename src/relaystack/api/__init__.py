"""HTTP only: routing, request validation, auth, SSE framing, error envelopes."""
