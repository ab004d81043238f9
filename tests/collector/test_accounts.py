"""AccountService against a real collector on loopback (SQLite and PostgreSQL): signing in and out, the
lockout, expiry, disabled accounts, new passwords, resets by e-mail and self sign-up."""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import Message
from pathlib import Path

import grpc
import pytest
from sqlalchemy import text

from collector.accounts.passwords import hasher
from collector.accounts.profiles import Profile, create_account
from collector.config import CollectorSettings
from collector.delivery.outbox import SECRET_REMOVED, Channels, deliver_due
from collector.server import Collector
from protos.rentmeter.v1 import accounts_pb2 as A
from protos.rentmeter.v1 import renters_pb2
from tests.collector.accounts_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    Clock,
    client,
    clocked_collector,
    create,
    login,
    outcome,
    whoami,
)
from tests.collector.test_notifications import Mailbox, smtp  # noqa: F401  (the SMTP server fixture)

OK, UNAUTHENTICATED = grpc.StatusCode.OK, grpc.StatusCode.UNAUTHENTICATED
WRONG = (UNAUTHENTICATED, "wrong name or password")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(db_url: str, clock: Clock) -> Iterator[Collector]:
    """A collector on SQLite and on PostgreSQL, with a clock the test moves."""
    with clocked_collector(CollectorSettings(listen="127.0.0.1:0", db_url=db_url), clock) as running:
        yield running


def test_sign_in_who_am_i_and_sign_out(accounts: Collector, clock: Clock) -> None:
    admin, anyone = client(accounts, accounts.admin_token), client(accounts)  # type: ignore[attr-defined]
    made = create(admin, "Alice", email="Alice@Example.org", display_name="Alice A.", locale="zh-CN")
    assert (made.name, made.role, made.subject, made.email) == (
        "alice",
        "renter",
        "alice",
        "alice@example.org",
    )
    assert admin.renters.GetRenter(renters_pb2.GetRenterRequest(renter="alice")).renter == "alice"
    signed_in = login(anyone, "ALICE")
    assert signed_in.token.startswith("rmk_") and signed_in.account.name == "alice"
    assert signed_in.expires_at.ToDatetime() == (clock() + timedelta(hours=12)).replace(tzinfo=None)
    assert signed_in.account.last_login_at.ToDatetime() == clock().replace(tzinfo=None)
    alice = client(accounts, signed_in.token)
    me = alice.accounts.WhoAmI(A.WhoAmIRequest())
    assert (me.name, me.role, me.subject, me.locale, me.display_name) == (
        "alice", "renter", "alice", "zh-CN", "Alice A."
    )  # fmt: skip
    api = admin.accounts.WhoAmI(A.WhoAmIRequest())
    assert (api.name, api.role) == ("", "admin")
    listed = admin.accounts.ListAccounts(A.ListAccountsRequest(role="renter")).accounts
    assert [a.name for a in listed] == ["alice"]
    assert outcome(lambda: create(admin, "alice"))[0] is grpc.StatusCode.ALREADY_EXISTS
    alice.accounts.Logout(A.LogoutRequest())
    assert whoami(accounts, signed_in.token)[0] is UNAUTHENTICATED


def test_a_wrong_password_and_an_unknown_name_answer_alike(collector: Collector) -> None:
    admin, anyone = client(collector, collector.admin_token), client(collector)  # type: ignore[attr-defined]
    create(admin, "alice")
    timings: dict[str, list[float]] = {"alice": [], "nobody-here": []}
    answers = set()
    for _ in range(3):  # fewer than the failures that lock a name
        for name, spent in timings.items():
            began = time.perf_counter()
            answers.add(outcome(lambda name=name: login(anyone, name, "not the password at all")))  # type: ignore[misc]
            spent.append(time.perf_counter() - began)
    assert answers == {WRONG}
    wrong, unknown = (statistics.median(spent) for spent in timings.values())
    assert unknown > 0.5 * wrong, f"an unknown name took {unknown:.3f} s, a wrong password {wrong:.3f} s"


def test_failures_lock_the_name_for_longer_and_longer(accounts: Collector, clock: Clock) -> None:
    admin, anyone = client(accounts, accounts.admin_token), client(accounts)  # type: ignore[attr-defined]
    create(admin, "alice")

    def locked_until(minutes: int) -> tuple[grpc.StatusCode, str]:
        until = clock() + timedelta(minutes=minutes)
        return grpc.StatusCode.RESOURCE_EXHAUSTED, f"try again after {until:%Y-%m-%dT%H:%M:%SZ}"

    def attempt(password: str, name: str = "alice") -> tuple[grpc.StatusCode, str]:
        code, details = outcome(lambda: login(anyone, name, password))
        return code, details.split("; ")[-1].replace("too many failed sign-ins with this name: ", "")

    assert [attempt("wrong password 1") for _ in range(4)] == [WRONG] * 4
    assert attempt("wrong password 1") == locked_until(1)
    assert attempt(PASSWORD) == locked_until(1)  # refused unchecked while locked
    clock.advance(seconds=61)
    assert attempt("wrong password 1") == locked_until(2)
    clock.advance(seconds=121)
    assert attempt("wrong password 1") == locked_until(4)
    clock.advance(minutes=4, seconds=1)
    assert attempt(PASSWORD)[0] is OK
    assert attempt("wrong password 1") == WRONG  # a success starts the count again
    assert [attempt("x" * 12, "no-such-name") for _ in range(4)] == [WRONG] * 4
    assert attempt("x" * 12, "no-such-name") == locked_until(1)  # unknown names lock alike
    with accounts.database.engine.connect() as db:
        locks = db.execute(text("SELECT details FROM audit_log WHERE action = 'account:locked'")).scalars()
        assert [re.search(r'"name":"([^"]+)"', d)[1] for d in locks] == ["alice"] * 3 + ["no-such-name"]  # type: ignore[index]


def test_a_sign_in_expires(accounts: Collector, clock: Clock) -> None:
    admin = client(accounts, accounts.admin_token)  # type: ignore[attr-defined]
    create(admin, "alice")
    token = login(client(accounts), "alice").token
    clock.advance(hours=12, seconds=-1)
    assert whoami(accounts, token) == (OK, "")
    clock.advance(seconds=1)
    code, details = whoami(accounts, token)  # the look-up is cached; the expiry is checked every call
    assert code is UNAUTHENTICATED and "the sign-in expired at" in details and "sign in again" in details


def test_the_token_lifetime_is_a_setting(tmp_path: Path, clock: Clock) -> None:
    settings = CollectorSettings.from_env(
        {"RENTMETER_LOGIN_TOKEN_TTL": "30m"}, listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}"
    )
    with clocked_collector(settings, clock) as running:
        create(client(running, running.admin_token), "alice")  # type: ignore[attr-defined]
        signed_in = login(client(running), "alice")
        assert signed_in.expires_at.ToDatetime() == (clock() + timedelta(minutes=30)).replace(tzinfo=None)


def test_a_disabled_account_is_refused_at_once(accounts: Collector) -> None:
    admin, anyone = client(accounts, accounts.admin_token), client(accounts)  # type: ignore[attr-defined]
    create(admin, "alice")
    token = login(anyone, "alice").token
    assert whoami(accounts, token)[0] is OK
    disabled = admin.accounts.UpdateAccount(A.UpdateAccountRequest(name="alice", disabled=True))
    assert disabled.disabled
    assert whoami(accounts, token)[0] is UNAUTHENTICATED  # at once, though the token was cached
    refused = outcome(lambda: login(anyone, "alice"))
    assert refused == (grpc.StatusCode.PERMISSION_DENIED, "the account 'alice' is disabled: ask the provider")
    assert outcome(lambda: login(anyone, "alice", "a wrong password!"))[1] == WRONG[1]  # reveals nothing
    admin.accounts.UpdateAccount(A.UpdateAccountRequest(name="alice", disabled=False))
    assert whoami(accounts, token)[0] is UNAUTHENTICATED  # enabling does not bring old sign-ins back
    assert whoami(accounts, login(anyone, "alice").token)[0] is OK


def test_new_passwords_end_every_sign_in(accounts: Collector) -> None:
    admin, anyone = client(accounts, accounts.admin_token), client(accounts)  # type: ignore[attr-defined]
    create(admin, "alice")
    create(admin, "bob-the-host", role="host")
    first = login(anyone, "alice").token
    alice = client(accounts, first)
    change = A.ChangePasswordRequest
    wrong = change(current_password="nope", new_password=NEW_PASSWORD)
    assert outcome(lambda: alice.accounts.ChangePassword(wrong)) == (
        UNAUTHENTICATED,
        "the current password is wrong",
    )
    weak = outcome(
        lambda: alice.accounts.ChangePassword(change(current_password=PASSWORD, new_password="alice2026"))
    )
    assert weak == (grpc.StatusCode.INVALID_ARGUMENT, "new_password: at least 10 characters")
    alice.accounts.ChangePassword(change(current_password=PASSWORD, new_password=NEW_PASSWORD))
    assert whoami(accounts, first)[0] is UNAUTHENTICATED
    assert outcome(lambda: login(anyone, "alice")) == WRONG
    second = login(anyone, "alice", NEW_PASSWORD).token
    admin.accounts.SetPassword(A.SetPasswordRequest(name="alice", password=PASSWORD))
    assert whoami(accounts, second)[0] is UNAUTHENTICATED
    api = outcome(
        lambda: admin.accounts.ChangePassword(change(current_password="a", new_password=NEW_PASSWORD))
    )
    assert api[0] is grpc.StatusCode.FAILED_PRECONDITION
    alice = client(accounts, login(anyone, "alice").token)
    own = alice.accounts.UpdateAccount(
        A.UpdateAccountRequest(display_name="Alice", time_zone="Asia/Shanghai")
    )
    assert (own.name, own.display_name, own.time_zone) == ("alice", "Alice", "Asia/Shanghai")
    other = A.UpdateAccountRequest(name="bob-the-host", display_name="x")
    assert outcome(lambda: alice.accounts.UpdateAccount(other)) == (
        grpc.StatusCode.NOT_FOUND, "account 'bob-the-host' not found"
    )  # fmt: skip
    disable = A.UpdateAccountRequest(name="alice", disabled=True)
    assert outcome(lambda: alice.accounts.UpdateAccount(disable))[0] is grpc.StatusCode.PERMISSION_DENIED


def test_a_password_reset_by_email(
    tmp_path: Path,
    clock: Clock,
    smtp: tuple[Mailbox, int],  # noqa: F811
) -> None:
    mailbox, port = smtp
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}",
                                 portal_url="https://portal.example.net/")  # fmt: skip
    with clocked_collector(settings, clock) as running:
        admin, anyone = client(running, running.admin_token), client(running)  # type: ignore[attr-defined]
        create(admin, "alice", email="alice@example.org")
        create(admin, "no-mail")
        old = login(anyone, "alice").token
        for key in ("Alice@example.org", "nobody-here", "no-mail", "nobody@example.org"):  # answered alike
            anyone.accounts.RequestPasswordReset(A.RequestPasswordResetRequest(name_or_email=key))
        channels = Channels(smtp_host="127.0.0.1", smtp_port=port, smtp_from="portal@cafe.example")
        assert asyncio.run(deliver_due(running.database, channels, clock())).produced == 1
        (message,) = mailbox.messages
        assert (message["To"], message["Subject"]) == ("alice@example.org", "Reset your rentmeter password")
        link = re.search(r"https://portal\.example\.net/reset\?token=(rmr_[\w-]+)", body(message))
        assert link is not None, body(message)
        token = link[1]
        reset = A.ResetPasswordRequest
        weak = outcome(lambda: anyone.accounts.ResetPassword(reset(token=token, password="alice")))
        assert weak == (grpc.StatusCode.INVALID_ARGUMENT, "password: at least 10 characters")
        anyone.accounts.ResetPassword(reset(token=token, password=NEW_PASSWORD))  # the weak try spent nothing
        assert whoami(running, old)[0] is UNAUTHENTICATED
        assert whoami(running, login(anyone, "alice", NEW_PASSWORD).token)[0] is OK
        again = outcome(lambda: anyone.accounts.ResetPassword(reset(token=token, password=PASSWORD)))
        assert again == (
            grpc.StatusCode.PERMISSION_DENIED,
            "the reset token is unknown, used or expired: ask for a new one",
        )
        with running.database.engine.connect() as db:
            kept = db.execute(text("SELECT payload FROM notifications")).scalars().all()
        assert token not in str(kept) and SECRET_REMOVED in str(kept)
        anyone.accounts.RequestPasswordReset(A.RequestPasswordResetRequest(name_or_email="alice"))
        clock.advance(hours=1, seconds=1)
        asyncio.run(deliver_due(running.database, channels, clock()))
        late = re.search(r"token=(rmr_[\w-]+)", body(mailbox.messages[-1]))
        assert late is not None and outcome(
            lambda: anyone.accounts.ResetPassword(reset(token=late[1], password=PASSWORD))
        )[0] is grpc.StatusCode.PERMISSION_DENIED  # fmt: skip


def body(message: Message) -> str:
    return bytes(message.get_payload(decode=True)).decode()


def test_self_sign_up_only_where_enabled(collector: Collector, tmp_path: Path, clock: Clock) -> None:
    request = A.SignUpRequest(name="newbie", password=PASSWORD, email="newbie@example.org")
    off = outcome(lambda: client(collector).accounts.SignUp(request))
    assert off == (grpc.StatusCode.FAILED_PRECONDITION,
                   "self sign-up is off on this collector: ask the provider for an account")  # fmt: skip
    settings = CollectorSettings.from_env(
        {"RENTMETER_SELF_SIGNUP": "true"}, listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 's.db'}"
    )
    with clocked_collector(settings, clock) as running:
        anyone, admin = client(running), client(running, running.admin_token)  # type: ignore[attr-defined]
        signed_up = anyone.accounts.SignUp(request)
        assert (signed_up.account.role, signed_up.account.subject) == ("renter", "newbie")
        assert whoami(running, signed_up.token)[0] is OK
        assert outcome(lambda: anyone.accounts.SignUp(request))[0] is grpc.StatusCode.ALREADY_EXISTS
        admin.renters.UpdateRenter(renters_pb2.UpdateRenterRequest(renter="walk-in", email="w@example.org"))
        taken = A.SignUpRequest(name="walk-in", password=PASSWORD)  # a renter without an account
        assert outcome(lambda: anyone.accounts.SignUp(taken)) == (
            grpc.StatusCode.ALREADY_EXISTS, "the name 'walk-in' is taken: choose another"
        )  # fmt: skip
        weak = outcome(lambda: anyone.accounts.SignUp(A.SignUpRequest(name="other", password="qwertyuiop")))
        assert weak == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "password: one of the most common passwords; choose another",
        )


def test_an_old_hash_is_upgraded_at_sign_in(accounts: Collector, clock: Clock) -> None:
    cheap = hasher(time_cost=1, memory_kib=8 * 1024).hash(PASSWORD)
    accounts.database.call(create_account, "old-timer", "renter", "", cheap, Profile(), clock())
    login(client(accounts), "old-timer")
    with accounts.database.engine.connect() as db:
        stored = db.execute(text("SELECT password_hash FROM accounts WHERE name = 'old-timer'")).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert login(client(accounts), "old-timer").token  # the new hash verifies


def test_accounts_created_at_once_with_one_name(accounts: Collector) -> None:
    """Concurrent creations of one name (PostgreSQL: on 8 database threads): one account, the others
    ALREADY_EXISTS, none INTERNAL."""
    from concurrent.futures import ThreadPoolExecutor

    admin = client(accounts, accounts.admin_token)  # type: ignore[attr-defined]
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(lambda n: outcome(lambda: create(admin, "same-name", display_name=str(n)))[0], range(8))
        )
    assert sorted(code.name for code in codes) == ["ALREADY_EXISTS"] * 7 + ["OK"]


def test_sign_ins_are_limited_per_collector(tmp_path: Path, clock: Clock) -> None:
    settings = CollectorSettings.from_env(
        {"RENTMETER_LOGIN_RATE_LIMIT": "0.5"}, listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}"
    )
    with clocked_collector(settings, clock) as running:
        create(client(running, running.admin_token), "alice")  # type: ignore[attr-defined]
        anyone = client(running)
        # Six at once (one by one, a loaded machine's slow hashing would let the bucket refill): a burst of 5
        # passes.
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: outcome(lambda: login(anyone, "alice"))[0], range(6)))
        assert sorted(answers, key=lambda code: code.value[0]) == [OK] * 5 + [
            grpc.StatusCode.RESOURCE_EXHAUSTED
        ]
        assert outcome(lambda: login(anyone, "alice"))[1] == (
            "too many sign-in requests on this collector: retry in a few seconds"
        )
