"""Benchmarks: the platform against a bare baseline run in the same process, printed as ratios."""
