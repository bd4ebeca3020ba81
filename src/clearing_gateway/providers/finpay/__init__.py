"""Finpay (Finnet) disbursement: account inquiry, transfer, check status, notification."""

NAME = "finpay"
