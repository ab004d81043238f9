"""The billing domain's exceptions."""


class BillingError(Exception):
    """Base of every error raised by billing/."""


class CurrencyMismatch(BillingError):
    def __init__(self, left: str, right: str) -> None:
        super().__init__(f"cannot combine amounts in {left} and {right}")
        self.left = left
        self.right = right


class InvalidPlan(BillingError):
    """A price plan that cannot be used; the message names the field and the problem."""


class UnknownCurrency(BillingError):
    def __init__(self, currency: str) -> None:
        super().__init__(f"unknown currency {currency!r}: use an ISO 4217 code such as EUR or USD")
        self.currency = currency


class NotRated(BillingError):
    """Usage that a plan cannot price, e.g. a machine class without a rate."""
