"""The test server runner lives in the package (the pytest plugin uses it too)."""

from relaystack.testing.server import ServerThread, free_port

__all__ = ["ServerThread", "free_port"]
