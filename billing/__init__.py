"""rentmeter's billing domain: money, price plans, rating and invoices.

Pure and deterministic: standard library only, no I/O, no logging, no gRPC, no SQL.
"""

from billing.errors import BillingError, CurrencyMismatch, InvalidPlan
from billing.invoice import Invoiced, InvoiceLine, build_lines, invoice_total, period_lines, plain
from billing.money import Money, round_to_minor
from billing.plan import PricePlan
from billing.rating import Charge, Usage, rate_usage

__all__ = [
    "BillingError",
    "Charge",
    "CurrencyMismatch",
    "InvalidPlan",
    "InvoiceLine",
    "Invoiced",
    "Money",
    "PricePlan",
    "Usage",
    "build_lines",
    "invoice_total",
    "period_lines",
    "plain",
    "rate_usage",
    "round_to_minor",
]
