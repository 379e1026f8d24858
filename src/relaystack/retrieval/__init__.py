"""Files, vector stores and the search behind ``file_search``: the retrieval engine.

It sits beside the responses and conversations engines (never importing them): files
are kept by ``store.files_store``; ingestion (``ingest``) turns a file in a store into
chunks (``extract``, ``chunking``) with embeddings (``embedding``) off the request
path; ``search`` ranks chunks by vectors (``index``) and keywords, fused.
"""
