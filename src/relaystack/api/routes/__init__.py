"""The HTTP endpoints, one module per API: ``<name>_api`` serves ``/v1/<name>...``.

``app.py`` includes them: every router behind ``authenticate`` but ``health_api``,
and ``docs_api`` behind it unless ``server.open_docs`` is set.
"""
