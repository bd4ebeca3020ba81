"""Merchant users: KYC identity, whitelisted names and withdrawal accounts."""
