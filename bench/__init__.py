"""Benchmarks of the suite: see bench/README.md and ``python -m bench --help``."""
