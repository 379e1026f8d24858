"""The Responses engine: input items to chat messages, the event stream, output items, usage.

Pure Python: nothing here imports the web framework.
"""
