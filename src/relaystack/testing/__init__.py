"""Helpers for testing applications against relaystack (and relaystack itself)."""
