"""AccountService: signing in with a name and password, accounts, passwords and their resets.

Login, SignUp, RequestPasswordReset and ResetPassword are open (no token) and write their own audit
entries; the other calls go through the interceptor like every admin call (audited with passwords
redacted). Passwords are checked and hashed on their own threads (accounts/passwords.py), between short
database transactions. Calls that hash a password are limited per collector (`login_rate_limit`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collector.accounts import audit
from collector.accounts.logins import (
    WRONG,
    Attempt,
    begin_login,
    finish_login,
    locked_sentence,
    record_failure,
)
from collector.accounts.passwords import Passwords, Verified, check_length, check_policy
from collector.accounts.profiles import (
    Profile,
    accounts_named_or_at,
    check_name,
    check_role,
    create_account,
    get_account,
    list_accounts,
    name_is_free_for_signup,
    set_password_hash,
    update_account,
)
from collector.accounts.resets import consume_reset, create_reset, reset_account, reset_email
from collector.accounts.tokens import RENTER, revoke_api_token
from collector.api import authorization, wire
from collector.api.interceptors import AuthInterceptor
from collector.api.status import Ctx, Servicer, maps_errors
from collector.core.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from collector.core.limits import RateLimiter
from collector.db.database import Database
from collector.delivery.outbox import enqueue_email
from protos.rentmeter.v1 import accounts_pb2, accounts_pb2_grpc

R = TypeVar("R")
RESET_EVENT = "account.password_reset"
BUSY = "too many sign-in requests on this collector: retry in a few seconds"


@dataclass(frozen=True)
class SignInRules:
    """The collector's settings for accounts."""

    token_ttl: timedelta = timedelta(hours=12)
    rate_limit: float = 5.0  # calls that hash a password, per second on this collector (bursts of 10x)
    portal_url: str = ""
    self_signup: bool = False


class AccountService(Servicer, accounts_pb2_grpc.AccountServiceServicer):
    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        interceptor: AuthInterceptor,
        passwords: Passwords,
        rules: SignInRules,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(database, now)
        self._interceptor = interceptor
        self._passwords = passwords
        self._rules = rules
        self._limiter = RateLimiter(rules.rate_limit, rules.rate_limit * 10, clock)

    def _sign_in_allowed(self) -> None:
        if not self._limiter.allow("sign-in"):
            raise ResourceExhausted(BUSY)

    @maps_errors
    async def Login(self, request: accounts_pb2.LoginRequest, context: Ctx) -> accounts_pb2.LoginResponse:
        if not request.name or not request.password:
            raise InvalidArgument("name and password are required")
        name = check_name(request.name)
        check_length(request.password)
        self._sign_in_allowed()
        attempt = await self.db.run(begin_login, name, self.now())
        verified = await self._passwords.verify(attempt.password_hash, request.password)
        if not verified.ok:
            locked_until = await self.db.run(record_failure, name, self.now())
            if locked_until is not None:
                raise ResourceExhausted(f"{WRONG}; {locked_sentence(locked_until)}")
            raise Unauthenticated(WRONG)
        ttl = self._rules.token_ttl
        return await self.db.run(
            lambda db: wire.login_to_proto(*finish_login(db, attempt, verified, ttl, self.now()))
        )

    @maps_errors
    async def Logout(self, request: accounts_pb2.LogoutRequest, context: Ctx) -> accounts_pb2.LogoutResponse:
        token_id = authorization.current().token_id
        await self.db.run(revoke_api_token, token_id, self.now())
        self._interceptor.forget()
        return accounts_pb2.LogoutResponse()

    @maps_errors
    async def WhoAmI(self, request: accounts_pb2.WhoAmIRequest, context: Ctx) -> accounts_pb2.Account:
        caller = authorization.current()
        if not caller.account:
            return accounts_pb2.Account(role=caller.role, subject=caller.subject)
        return await self.db.run(lambda db: wire.account_to_proto(get_account(db, caller.account)))

    @maps_errors
    async def CreateAccount(
        self, request: accounts_pb2.CreateAccountRequest, context: Ctx
    ) -> accounts_pb2.Account:
        name, role = check_name(request.name), check_role(request.role)
        profile = Profile(request.display_name, request.email, request.locale, request.time_zone).checked()
        password_hash = ""
        if request.password:
            check_policy(request.password, name)
            password_hash = await self._passwords.hash(request.password)
        return await self._creating(name, lambda db: wire.account_to_proto(
            create_account(db, name, role, request.subject, password_hash, profile, self.now())
        ))  # fmt: skip

    async def _creating(self, name: str, create: Callable[[Session], R]) -> R:
        """Run `create` (which makes the account `name`); the loser of a race for the name (another
        collector thread inserted it first) gets ALREADY_EXISTS like any later caller."""
        try:
            return await self.db.run(create)
        except IntegrityError:
            raise AlreadyExists(f"an account named {name!r} exists already") from None

    @maps_errors
    async def ListAccounts(
        self, request: accounts_pb2.ListAccountsRequest, context: Ctx
    ) -> accounts_pb2.ListAccountsResponse:
        role = check_role(request.role) if request.role else ""
        return await self.db.run(lambda db: accounts_pb2.ListAccountsResponse(
            accounts=[wire.account_to_proto(a) for a in list_accounts(db, role)]
        ))  # fmt: skip

    @maps_errors
    async def UpdateAccount(
        self, request: accounts_pb2.UpdateAccountRequest, context: Ctx
    ) -> accounts_pb2.Account:
        caller = authorization.current()
        name = request.name.strip().lower() or caller.account
        if not caller.is_admin and (not caller.account or name != caller.account):
            raise NotFound("account", request.name)
        disabled = request.disabled if request.HasField("disabled") else None
        if disabled is not None and not caller.is_admin:
            raise PermissionDenied("only an admin may disable or enable an account")
        if disabled and name == caller.account:
            raise FailedPrecondition("an admin cannot disable the account it is signed in with")
        profile = Profile(*(getattr(request, f) if request.HasField(f) else None
                            for f in ("display_name", "email", "locale", "time_zone")))  # fmt: skip
        updated = await self.db.run(
            lambda db: wire.account_to_proto(update_account(db, name, profile, disabled, self.now()))
        )
        if disabled is not None:
            self._interceptor.forget()  # its sign-in tokens are refused (or accepted again) at once
        return updated

    @maps_errors
    async def SetPassword(
        self, request: accounts_pb2.SetPasswordRequest, context: Ctx
    ) -> accounts_pb2.SetPasswordResponse:
        name = check_name(request.name)
        check_policy(request.password, name)
        await self.db.run(get_account, name)  # NOT_FOUND before the cost of hashing
        password_hash = await self._passwords.hash(request.password)
        await self.db.run(lambda db: set_password_hash(db, get_account(db, name), password_hash, self.now()))
        self._interceptor.forget()
        return accounts_pb2.SetPasswordResponse()

    @maps_errors
    async def ChangePassword(
        self, request: accounts_pb2.ChangePasswordRequest, context: Ctx
    ) -> accounts_pb2.ChangePasswordResponse:
        caller = authorization.current()
        if not caller.account:
            raise FailedPrecondition("only a signed-in account has a password; this call used an API token")
        check_length(request.current_password, "current_password")
        check_policy(request.new_password, caller.account, "new_password")
        self._sign_in_allowed()
        attempt = await self.db.run(begin_login, caller.account, self.now())
        verified = await self._passwords.verify(attempt.password_hash, request.current_password)
        if not verified.ok:
            await self.db.run(record_failure, caller.account, self.now())
            raise Unauthenticated("the current password is wrong")
        password_hash = await self._passwords.hash(request.new_password)
        await self.db.run(self._replace_password, attempt, password_hash)
        self._interceptor.forget()
        return accounts_pb2.ChangePasswordResponse()

    def _replace_password(self, db: Session, attempt: Attempt, password_hash: str) -> None:
        account = get_account(db, attempt.name)
        if account.password_hash != attempt.password_hash:
            raise Unauthenticated("the password was changed meanwhile: sign in again")
        set_password_hash(db, account, password_hash, self.now())

    @maps_errors
    async def RequestPasswordReset(
        self, request: accounts_pb2.RequestPasswordResetRequest, context: Ctx
    ) -> accounts_pb2.RequestPasswordResetResponse:
        if not request.name_or_email.strip():
            raise InvalidArgument("name_or_email is required")
        self._sign_in_allowed()
        await self.db.run(self._send_resets, request.name_or_email)
        return accounts_pb2.RequestPasswordResetResponse()

    def _send_resets(self, db: Session, name_or_email: str) -> None:
        now = self.now()
        for account in accounts_named_or_at(db, name_or_email):
            token = create_reset(db, account, now)
            if token is None:
                continue
            subject, text = reset_email(account, token, self._rules.portal_url)
            enqueue_email(db, RESET_EVENT, account.email, subject, text, now, secret=True)
            audit.record(db, "collector", "account:reset-requested", {"name": account.name}, now)

    @maps_errors
    async def ResetPassword(
        self, request: accounts_pb2.ResetPasswordRequest, context: Ctx
    ) -> accounts_pb2.ResetPasswordResponse:
        if not request.token.strip():
            raise InvalidArgument("token is required (from the reset e-mail)")
        check_length(request.password)
        self._sign_in_allowed()
        account = await self.db.run(reset_account, request.token, self.now())
        check_policy(request.password, account.name)
        password_hash = await self._passwords.hash(request.password)

        def reset(db: Session) -> None:
            target = consume_reset(db, request.token, self.now())
            set_password_hash(db, target, password_hash, self.now())
            actor = audit.actor(target.role, target.subject, target.name)
            audit.record(db, actor, "account:password-reset", {"name": target.name}, self.now())

        await self.db.run(reset)
        self._interceptor.forget()
        return accounts_pb2.ResetPasswordResponse()

    @maps_errors
    async def SignUp(self, request: accounts_pb2.SignUpRequest, context: Ctx) -> accounts_pb2.LoginResponse:
        if not self._rules.self_signup:
            raise FailedPrecondition("self sign-up is off on this collector: ask the provider for an account")
        name = check_name(request.name)
        check_policy(request.password, name)
        profile = Profile(request.display_name, request.email, request.locale, "").checked()
        self._sign_in_allowed()
        password_hash = await self._passwords.hash(request.password)

        def sign_up(db: Session) -> accounts_pb2.LoginResponse:
            now = self.now()
            if not name_is_free_for_signup(db, name):
                raise AlreadyExists(f"the name {name!r} is taken: choose another")
            account = create_account(db, name, RENTER, "", password_hash, profile, now)
            audit.record(
                db, audit.actor(RENTER, account.subject, name), "account:sign-up", {"name": name}, now
            )
            attempt = Attempt(name, account.id, password_hash)
            return wire.login_to_proto(*finish_login(db, attempt, Verified(True), self._rules.token_ttl, now))

        return await self._creating(name, sign_up)
