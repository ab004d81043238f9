"""Who may call what: the roles allowed on each admin RPC, and object ownership.

Roles: `admin` (the provider: everything), `host` (owns machines: its machines and their sessions),
`renter` (its sessions, invoices, wallet and account), `gateway` (an API token for the portal that hands
over payment gateways' notifications: PaymentService.ApplyNotification only). Agents do not use bearer
tokens: AgentService is
open to enrolled machines, whose reports are verified by their signatures. Signing in (Login, SignUp, the
password reset) is open to anyone; a sign-in token then carries its account's role and subject.

The interceptor (api/interceptors.py) authenticates the token and checks the method against POLICY before
the servicer runs; servicers then check ownership through current(): another account's object answers
NOT_FOUND, so its existence is not revealed.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from datetime import datetime

from collector.accounts import audit
from collector.accounts.tokens import ADMIN, GATEWAY, HOST, RENTER, ROLES
from collector.core.errors import InvalidArgument, NotFound

__all__ = [
    "ADMIN", "HOST", "OPEN_METHODS", "OPEN_PREFIXES", "POLICY", "READ_ONLY", "RENTER",
    "Principal", "act_as", "current", "hide_unless",
]  # fmt: skip

_ALL = frozenset(ROLES)
_HOSTS = frozenset({ADMIN, HOST})
_RENTERS = frozenset({ADMIN, RENTER})
# Method -> roles allowed to call it; a method not listed is the admin's only.
POLICY: dict[str, frozenset[str]] = {
    "MachineService/CreateEnrollmentToken": _HOSTS,
    "MachineService/ListMachines": _HOSTS,
    "MachineService/GetMachine": _HOSTS,
    "MachineService/SendControl": _HOSTS,
    "MachineService/RevokeMachine": _HOSTS,
    "PlanService/ListPlans": _ALL,
    "PlanService/GetPlan": _ALL,
    "PlanService/Quote": _ALL,
    "SessionService/StartSession": _HOSTS,
    "SessionService/StopSession": _ALL,
    "SessionService/GetSession": _ALL,
    "SessionService/ListSessions": _ALL,
    "SessionService/ExplainSession": _ALL,
    "SessionService/WatchSession": _ALL,
    "UsageService/GetUsage": _ALL,
    "UsageService/GetUsageSeries": _ALL,
    "InvoiceService/ListInvoices": _RENTERS,
    "InvoiceService/GetInvoice": _RENTERS,
    "InvoiceService/RenderInvoice": _RENTERS,
    "InvoiceService/ListCreditNotes": _RENTERS,
    "InvoiceService/ListPayments": _RENTERS,
    # Renters dispute their own invoices' lines; the provider (admin) resolves.
    "DisputeService/OpenDispute": _RENTERS,
    "DisputeService/ListDisputes": _RENTERS,
    "DisputeService/GetDispute": _RENTERS,
    "WalletService/GetWallet": _RENTERS,
    "WalletService/RequestTopUp": _RENTERS,
    "WalletService/BuyPack": _RENTERS,
    "WalletService/ListPacks": _RENTERS,
    "RenterService/GetRenter": _RENTERS,
    "RenterService/ExportRenter": _RENTERS,
    # Every caller: its own sign-in and account (AccountService checks whose account it is).
    "AccountService/Logout": _ALL,
    "AccountService/WhoAmI": _ALL,
    "AccountService/UpdateAccount": _ALL,
    "AccountService/ChangePassword": _ALL,
    "FleetService/GetFleet": _HOSTS,
    "FleetService/GetEarnings": _HOSTS,
    "PricingService/GetPriceSchedule": _ALL,  # prices are public
    # Renters: their own profile, recommendation and offers; hosts: their machines' classes.
    "InsightsService/GetRenterProfile": _RENTERS,
    "InsightsService/GetRecommendation": _RENTERS,
    "InsightsService/ListOffers": _RENTERS,
    "InsightsService/GetFleetProfile": _HOSTS,
    "PaymentService/CreateOrder": _RENTERS,
    "PaymentService/GetOrder": _RENTERS,
    "PaymentService/ListOrders": _RENTERS,
    "PaymentService/ListGateways": _RENTERS,
    "PaymentService/StartAgreement": _RENTERS,
    "PaymentService/ListAgreements": _RENTERS,
    "PaymentService/CancelAgreement": _RENTERS,
    # The portal's gateway token (or the admin): notifications, verified by the collector's own keys.
    "PaymentService/ApplyNotification": frozenset({ADMIN, GATEWAY}),
}
# Open to anyone: health, reflection, and the agents' own service (signatures instead of tokens).
OPEN_PREFIXES = ("/grpc.", "/rentmeter.v1.AgentService/")
# Open to anyone, without a token: signing in (these write their own audit entries).
OPEN_METHODS = frozenset(
    f"/rentmeter.v1.AccountService/{name}"
    for name in ("Login", "RequestPasswordReset", "ResetPassword", "SignUp")
)
# Calls that change nothing; every other admin call is written to the audit log when it succeeds.
READ_ONLY = ("Get", "List", "Explain", "Watch", "Quote", "Render", "CheckLedger", "WhoAmI", "VerifyAuditLog")


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str = ""  # the host account or renter id
    token_id: int = 0  # the API token the call is made with
    account: str = ""  # a sign-in token's account name ("" for other API tokens)
    expires_at: datetime | None = None  # a sign-in token's end

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return audit.actor(self.role, self.subject, self.account)

    def may_see_renter(self, renter_id: str) -> bool:
        return self.is_admin or (self.role == RENTER and self.subject == renter_id)

    def may_see_host(self, host_id: str) -> bool:
        return self.is_admin or (self.role == HOST and self.subject == host_id)

    def host_scope(self, asked: str) -> str | None:
        """The host whose machines the caller sees: a host its own, whatever it asks; an admin the one it
        asks for, or every machine (None)."""
        if self.role == HOST:
            return self.subject
        return asked or None

    def renter_scope(self, asked: str) -> str:
        """The renter a call is about: a renter's own when it asks for none; else the one asked for (an
        admin must name one). Another renter's is NOT_FOUND, as if it did not exist."""
        renter = asked or (self.subject if self.role == RENTER else "")
        if not renter:
            raise InvalidArgument("renter: name the renter")
        hide_unless(self.may_see_renter(renter), "renter", renter)
        return renter


# The principal of the call being served, set by the interceptor.
_current: contextvars.ContextVar[Principal | None] = contextvars.ContextVar("principal", default=None)


def act_as(principal: Principal) -> None:
    """Make `principal` the caller of the RPC being served (the interceptor does this)."""
    _current.set(principal)


def current() -> Principal:
    """The caller of the RPC being served. Outside an authenticated call this is a bug: it raises."""
    principal = _current.get()
    if principal is None:
        raise RuntimeError("no authenticated caller: is the AuthInterceptor installed?")
    return principal


def hide_unless(visible: bool, what: str, key: str) -> None:
    """NOT_FOUND for an object the caller may not see, exactly as if it did not exist."""
    if not visible:
        raise NotFound(what, key)
