"""Upstream payment providers: connectors, callback inbox and local sandboxes."""
