"""Bytes on the wire: the one JSON codec and the one SSE codec.

The bottom of the import graph: nothing here imports anything else of relaystack's,
so every layer (api, responses, inference, store, recording) can use it.
"""
