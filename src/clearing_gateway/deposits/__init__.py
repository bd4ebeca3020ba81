"""Deposits: provider payments applied to merchants exactly once, and their inquiry."""
