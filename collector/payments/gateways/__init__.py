"""Asynchronous payment gateways (Alipay, WeChat Pay): a QR code or payment page per order, the gateway's
signed notifications, order queries, refunds and daily statements, each gateway behind `Gateway`
(base.py) on its official or maintained SDK."""
