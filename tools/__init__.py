"""Developer tooling (screenshots, the browser launcher for tests and benchmarks).

Not imported by the service: nothing under ``webmap/``, ``layers/`` or ``geo/`` imports
from here.
"""
