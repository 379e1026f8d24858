"""The HTTP endpoints, one module per API: ``<name>_api`` serves ``/v1/<name>...``.

``app.py`` includes them; ``api.context.Authentication`` keeps every path behind the
API key but the few ``app.open_paths`` names.
"""
