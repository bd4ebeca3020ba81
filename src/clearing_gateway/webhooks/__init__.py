"""Merchant webhooks. Other domains call one function:

await webhooks.publish(session, merchant_id=..., event_type="va_payment",
                       transaction_id=tx_id, payload=seed_shaped_body)
"""

from clearing_gateway.webhooks.service import publish

__all__ = ["publish"]
