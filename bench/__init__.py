"""Benchmark harness for relaystack: a fast mock upstream, a load generator and a runner.

Run everything with ``python -m bench`` (see ``bench/README.md``).
"""
