"""Payment instruments: virtual accounts (and QRIS), discovery and routing."""
