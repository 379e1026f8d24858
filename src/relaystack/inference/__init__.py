"""Inference providers: one interface over remote and local chat-completions models."""
