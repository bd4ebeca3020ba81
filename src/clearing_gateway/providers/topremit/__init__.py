"""Topremit Open API (SNAP style): virtual accounts and QRIS."""

NAME = "topremit"
