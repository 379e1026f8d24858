"""The embedded local provider: GGUF models run in-process by llama.cpp.

``provider`` is the ``InferenceProvider``; ``config`` declares the provider type (and
imports nothing of llama.cpp, so reading a configuration never loads it); the other
modules are its parts (the model files, the worker thread, prompts and grammars, the
chunks it emits, embeddings).
"""
