"""Operating relaystack: request ids and log lines, metrics, traces, readiness.

``app.py`` builds one ``Recorder`` from the configuration and installs
``RequestMiddleware``; everything below the HTTP layer reports through the no-op
protocol in ``relaystack.telemetry``, which the middleware fills for each request.
"""
