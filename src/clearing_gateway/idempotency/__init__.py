"""Idempotency of mutating merchant requests through their `requestId`."""
