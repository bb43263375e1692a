"""Benchmarks of ptmgraph on Hub-shaped data: ``python -m benchmarks --help``."""
