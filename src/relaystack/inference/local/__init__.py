"""The embedded local provider: GGUF models run in-process by llama.cpp.

``provider`` is the ``InferenceProvider``; the other modules are its parts (the model
files, the worker thread, prompts and grammars, the chunks it emits, embeddings).
"""

from relaystack.inference.local.provider import LocalProvider

__all__ = ["LocalProvider"]
