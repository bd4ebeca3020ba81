"""Merchants: identities, API keys, IP allowlists and request authentication."""
