"""rentmeter's billing domain: money, meters, price plans, rating, quotes and invoice lines.

Pure and deterministic: standard library only, no I/O, no logging, no gRPC, no SQL.
"""

from billing.charges import Charge, Piece
from billing.checkpoints import Checkpoint
from billing.errors import BillingError, CurrencyMismatch, InvalidPlan, NotRated
from billing.invoice import Invoiced, InvoiceLine, build_lines, invoice_total, period_lines, plain
from billing.meters import Usage
from billing.money import Money, round_to_minor
from billing.numbers import AmountOutOfRange, InvalidAmount, parse_money, parse_quantity
from billing.plan import MachineProfile, PricePlan, RentalTerms, check_versions
from billing.plan_file import PlanFileError, parse_plan, simple_document
from billing.quote import quote, uniform_usage
from billing.rated_lines import Segment
from billing.rating import billed_time_us, rate, rate_from, rate_segments, segments, version_at

__all__ = [
    "AmountOutOfRange",
    "BillingError",
    "Charge",
    "Checkpoint",
    "CurrencyMismatch",
    "InvalidAmount",
    "InvalidPlan",
    "InvoiceLine",
    "Invoiced",
    "MachineProfile",
    "Money",
    "NotRated",
    "Piece",
    "PlanFileError",
    "PricePlan",
    "RentalTerms",
    "Segment",
    "Usage",
    "billed_time_us",
    "build_lines",
    "check_versions",
    "invoice_total",
    "parse_money",
    "parse_plan",
    "parse_quantity",
    "period_lines",
    "plain",
    "quote",
    "rate",
    "rate_from",
    "rate_segments",
    "round_to_minor",
    "segments",
    "simple_document",
    "uniform_usage",
    "version_at",
]
