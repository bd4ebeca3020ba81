"""Finan (FinanOne) Open API: payment requests (cash-in), payouts, balance webhook."""

NAME = "finan"
