"""Reproducible comparisons of emlearn-gen with scikit-learn and peer tools.

Run ``python -m benchmarks.run --full`` (or ``--quick``) from the repository root.
"""
