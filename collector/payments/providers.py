"""Payment providers. Each takes a charge request with an idempotency key (a retry never charges twice)
and says whether the money was taken. Prepaid wallets are charged by the ledger when an invoice is issued;
these are for renters who pay invoices (a card on file through Stripe, or manual payment: bank transfer,
marked paid by the provider with its reference) and for wallet top-ups charged to the card on file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import billing

if TYPE_CHECKING:  # stripe is an optional extra, imported where it is used
    from stripe.params import PaymentIntentCreateParams


INVOICE = "invoice"
TOP_UP = "top_up"


@dataclass(frozen=True)
class ChargeRequest:
    """A charge for `reference`: an invoice id (purpose INVOICE) or a wallet top-up's key (TOP_UP). The
    provider keeps both with the payment (Stripe: metadata `invoice_id` or `top_up_id`, which the gateway's
    webhooks read back)."""

    reference: str
    description: str
    amount: billing.Money
    customer: str  # the provider's customer id
    source: str  # the provider's payment method id
    idempotency_key: str
    purpose: str = INVOICE

    @property
    def metadata(self) -> dict[str, str]:
        return {f"{self.purpose}_id": self.reference}


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    reference: str = ""  # the provider's id for the payment
    error: str = ""


class PaymentProvider(Protocol):
    name: str

    def charge(self, request: ChargeRequest) -> ChargeResult: ...


class StripeProvider:
    """Off-session PaymentIntents on the official SDK (extra `rentmeter[stripe]`). `api_base` points the SDK
    at another address (a local stand-in in tests)."""

    name = "stripe"

    def __init__(self, api_key: str, api_base: str = "") -> None:
        import stripe

        self._stripe = stripe
        # Retries are the collection job's: each attempt is a new request with the same idempotency key.
        self._client = stripe.StripeClient(
            api_key, max_network_retries=0, base_addresses={"api": api_base} if api_base else None
        )

    def charge(self, request: ChargeRequest) -> ChargeResult:
        stripe = self._stripe
        params: PaymentIntentCreateParams = {
            "amount": request.amount.minor,
            "currency": request.amount.currency.lower(),
            "customer": request.customer,
            "payment_method": request.source,
            "confirm": True,
            "off_session": True,
            "description": request.description,
            "metadata": request.metadata,
        }
        try:
            intent = self._client.v1.payment_intents.create(
                params,
                options={"idempotency_key": request.idempotency_key},
            )
        except stripe.CardError as exc:
            return ChargeResult(False, "", f"declined: {exc.user_message or exc}")
        except stripe.StripeError as exc:
            return ChargeResult(False, "", f"{type(exc).__name__}: {exc.user_message or exc}")
        if intent.status == "succeeded":
            return ChargeResult(True, intent.id)
        return ChargeResult(False, intent.id, f"payment {intent.id} is {intent.status}")


def configured_providers(stripe_api_key: str = "", stripe_api_base: str = "") -> dict[str, PaymentProvider]:
    """The providers that have credentials, by payment method name."""
    providers: dict[str, PaymentProvider] = {}
    if stripe_api_key:
        providers["stripe"] = StripeProvider(stripe_api_key, stripe_api_base)
    return providers
