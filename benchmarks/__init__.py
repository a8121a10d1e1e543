"""Side-by-side measurements of the atlas against the usual alternatives (``make bench``).

Nothing here is a test: the figures depend on the machine and are quoted as
ratios measured in one run.  ``python -m benchmarks.run`` runs them all.
"""
