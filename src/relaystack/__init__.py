"""relaystack: an OpenAI-compatible Responses API server over any chat-completions model."""

__version__ = "0.1.0"
