"""Reproducible load and latency measurements (never timed tests)."""
