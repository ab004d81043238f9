"""The rules under AccountService: password policy, names, the lockout's arithmetic and its counting with
concurrent failures, which tokens are refused, reset tokens, settings — and that passwords and tokens never
reach the audit log, the outbox or the log."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from collector.accounts.logins import FIRST_LOCK, LONGEST_LOCK, lock_for, record_failure
from collector.accounts.passwords import check_policy
from collector.accounts.profiles import Profile, check_name, create_account, update_account
from collector.accounts.resets import consume_reset, create_reset, reset_account, reset_email
from collector.accounts.tokens import issue_api_token, revoke_api_token, token_holder
from collector.config import CollectorSettings, SettingsError
from collector.core.errors import InvalidArgument, PermissionDenied, Unauthenticated
from collector.db.database import Database
from collector.db.models import Account, LoginThrottle
from protos.rentmeter.v1 import accounts_pb2 as A
from protos.rentmeter.v1 import renters_pb2
from tests.collector.accounts_helpers import NEW_PASSWORD, PASSWORD, Clock, client, clocked_collector, login

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        ("short1!", "password: at least 10 characters"),
        ("x" * 1025, "password: at most 1024 characters"),
        ("aaaaaaaaaaaa", "password: not one character repeated"),
        ("Alice.Smith", "password: must not be the account's name (with or without digits)"),
        ("2026alice.smith!!", "password: must not be the account's name (with or without digits)"),
        ("QwertyUIOP", "password: one of the most common passwords; choose another"),
        ("password1234", "password: one of the most common passwords; choose another"),
    ],
)
def test_weak_passwords_are_refused_without_echoing_them(password: str, refusal: str) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_policy(password, "alice.smith")
    assert str(refused.value) == refusal and password not in str(refused.value)


@pytest.mark.parametrize("password", [PASSWORD, "alice.smith likes tea", "éèêëēėęěĕə", "xy" * 512])
def test_good_passwords_pass(password: str) -> None:
    check_policy(password, "alice.smith")


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("Alice", "alice"),
        ("bob@example.org", "bob@example.org"),
        ("a.b_c-d", "a.b_c-d"),
        ("x" * 64, "x" * 64),
    ],
)
def test_names_are_kept_in_lower_case(name: str, kept: str) -> None:
    assert check_name(name) == kept


@pytest.mark.parametrize("name", ["ab", "x" * 65, "with space", "émile", "semi;colon", ""])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match="is not a valid name"):
        check_name(name)


def test_locks_start_at_one_minute_and_double_up_to_an_hour() -> None:
    minutes = [lock_for(n) for n in range(1, 14)]
    assert minutes[:4] == [None] * 4
    assert minutes[4:] == [FIRST_LOCK * m for m in (1, 2, 4, 8, 16, 32)] + [LONGEST_LOCK] * 3


def test_concurrent_failures_are_all_counted(database: Database) -> None:
    """Sign-ins failing at once on several database threads (PostgreSQL: 8) each count."""

    async def fail_together() -> list[datetime | None]:
        return list(await asyncio.gather(*(database.run(record_failure, "alice", NOW) for _ in range(12))))

    locks = asyncio.run(fail_together())
    assert sorted(lock for lock in locks if lock is not None) == sorted(
        NOW + lock_for(n)
        for n in range(5, 13)  # type: ignore[operator]
    )
    assert database.call(lambda db: db.get_one(LoginThrottle, "alice").failures) == 12
    later = NOW + timedelta(days=1, seconds=1)
    assert database.call(record_failure, "alice", later) is None  # a day without failures forgets them
    assert database.call(lambda db: db.get_one(LoginThrottle, "alice").failures) == 1


def test_which_tokens_are_refused(database: Database) -> None:
    def setup(db):  # type: ignore[no-untyped-def]
        account = create_account(db, "alice", "renter", "", "hash", Profile(), NOW)
        api, _ = issue_api_token(db, "renter", "alice", "api", NOW)
        signed, row = issue_api_token(db, "renter", "alice", "sign-in", NOW,
                                      account_id=account.id, expires_at=NOW + timedelta(hours=1))  # fmt: skip
        return api, signed, row.id

    api, signed, signed_id = database.call(setup)
    holder = database.call(token_holder, _hash(signed), NOW)
    assert (holder.account, holder.expires_at, holder.subject) == ("alice", NOW + timedelta(hours=1), "alice")
    assert database.call(token_holder, _hash(api), NOW + timedelta(days=900)).expires_at is None
    with pytest.raises(Unauthenticated, match="the sign-in expired at"):
        database.call(token_holder, _hash(signed), NOW + timedelta(hours=1))
    database.call(lambda db: setattr(db.scalar(select(Account)), "disabled", True))
    with pytest.raises(Unauthenticated, match="the account 'alice' is disabled"):
        database.call(token_holder, _hash(signed), NOW)
    database.call(lambda db: setattr(db.scalar(select(Account)), "disabled", False))
    database.call(revoke_api_token, signed_id, NOW)
    with pytest.raises(Unauthenticated, match="this sign-in has ended"):
        database.call(token_holder, _hash(signed), NOW)
    with pytest.raises(Unauthenticated, match="a valid API token is required"):
        database.call(token_holder, _hash("rmk_made-up"), NOW)


def _hash(token: str) -> str:
    from collector.accounts.tokens import hash_token

    return hash_token(token)


def test_reset_tokens_are_spent_once_and_expire(database: Database) -> None:
    def setup(db):  # type: ignore[no-untyped-def]
        account = create_account(db, "alice", "renter", "", "", Profile(email="alice@example.org"), NOW)
        return [create_reset(db, account, NOW + timedelta(minutes=m)) for m in range(4)]

    first, second, third, fourth = database.call(setup)
    assert fourth is None  # at most 3 reset e-mails an hour
    with pytest.raises(PermissionDenied):
        database.call(reset_account, third or "", NOW + timedelta(hours=1, minutes=2))  # expired
    assert database.call(lambda db: consume_reset(db, first or "", NOW).name) == "alice"
    for spent in (first, second):  # using one spends every open one of the account
        with pytest.raises(PermissionDenied, match="unknown, used or expired"):
            database.call(reset_account, spent or "", NOW)
    database.call(update_account, "alice", Profile(), True, NOW)
    assert database.call(lambda db: create_reset(db, db.scalar(select(Account)), NOW)) is None  # disabled


def test_the_reset_email_without_a_portal_says_whom_to_ask() -> None:
    account = Account(name="alice", display_name="", email="alice@example.org")
    subject, body = reset_email(account, "rmr_secret", "")
    assert subject == "Reset your rentmeter password"
    assert "ask your provider, who can set a new password for you" in body and "rmr_secret" not in body
    _, linked = reset_email(account, "rmr_secret", "https://portal.example.net/")
    assert "https://portal.example.net/reset?token=rmr_secret" in linked


def test_account_settings_from_the_environment() -> None:
    settings = CollectorSettings.from_env({
        "RENTMETER_LOGIN_TOKEN_TTL": "8h", "RENTMETER_LOGIN_RATE_LIMIT": "2",
        "RENTMETER_PORTAL_URL": "https://portal.example.net", "RENTMETER_SELF_SIGNUP": "yes",
    })  # fmt: skip
    assert (settings.login_token_ttl, settings.login_rate_limit) == (timedelta(hours=8), 2.0)
    assert (settings.portal_url, settings.self_signup) == ("https://portal.example.net", True)
    defaults = CollectorSettings.from_env({})
    assert (defaults.login_token_ttl, defaults.portal_url, defaults.self_signup) == (
        timedelta(hours=12),
        "",
        False,
    )
    with pytest.raises(SettingsError, match="portal_url"):
        CollectorSettings.from_env({"RENTMETER_PORTAL_URL": "portal.example.net"})
    with pytest.raises(SettingsError, match="login_token_ttl: from 1m to 30d"):
        CollectorSettings.from_env({"RENTMETER_LOGIN_TOKEN_TTL": "31d"})


def test_passwords_and_tokens_reach_neither_audit_log_nor_outbox_nor_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}",
                                 portal_url="https://portal.example.net", self_signup=True)  # fmt: skip
    secrets = [PASSWORD, NEW_PASSWORD, "third-password-here", "signed-up-password"]
    with clocked_collector(settings, clock) as running:
        admin, anyone = client(running, running.admin_token), client(running)  # type: ignore[attr-defined]
        admin.accounts.CreateAccount(A.CreateAccountRequest(name="alice", role="renter", password=PASSWORD,
                                                            email="alice@example.org"))  # fmt: skip
        admin.accounts.SetPassword(A.SetPasswordRequest(name="alice", password=NEW_PASSWORD))
        first = login(anyone, "alice", NEW_PASSWORD).token
        client(running, first).accounts.ChangePassword(
            A.ChangePasswordRequest(current_password=NEW_PASSWORD, new_password=secrets[2])
        )
        anyone.accounts.RequestPasswordReset(A.RequestPasswordResetRequest(name_or_email="alice"))
        with running.database.engine.connect() as db:
            mail = json.loads(db.execute(text("SELECT payload FROM notifications")).scalar_one())["text"]
        reset = mail.split("token=")[1].split()[0]
        anyone.accounts.ResetPassword(A.ResetPasswordRequest(token=reset, password=PASSWORD))
        second = login(anyone, "alice").token
        signed_up = anyone.accounts.SignUp(A.SignUpRequest(name="newbie", password=secrets[3])).token
        with running.database.engine.connect() as db:
            audit = db.execute(text("SELECT actor, action, details FROM audit_log ORDER BY id")).all()
    kept = json.dumps([list(row) for row in audit]) + caplog.text
    for secret in [*secrets, first, second, reset, signed_up]:
        assert secret not in kept
    actions = [(actor, action) for actor, action, _ in audit]
    assert actions == [
        ("admin", "AccountService/CreateAccount"),
        ("admin", "AccountService/SetPassword"),
        ("account:alice (renter)", "account:login"),
        ("account:alice (renter)", "AccountService/ChangePassword"),
        ("collector", "account:reset-requested"),
        ("account:alice (renter)", "account:password-reset"),
        ("account:alice (renter)", "account:login"),
        ("account:newbie (renter)", "account:sign-up"),
        ("account:newbie (renter)", "account:login"),
    ]
    change = json.loads(audit[3][2])
    assert change == {"current_password": "[redacted]", "new_password": "[redacted]"}


def test_erasing_a_renter_removes_its_accounts(tmp_path: Path) -> None:
    clock = Clock()
    settings = CollectorSettings(listen="127.0.0.1:0", db_url=f"sqlite:///{tmp_path / 'c.db'}")
    with clocked_collector(settings, clock) as running:
        admin, anyone = client(running, running.admin_token), client(running)  # type: ignore[attr-defined]
        admin.accounts.CreateAccount(A.CreateAccountRequest(name="alice", role="renter", password=PASSWORD,
                                                            email="alice@example.org"))  # fmt: skip
        token = login(anyone, "alice").token
        own = client(running, token).renters.ExportRenter(renters_pb2.GetRenterRequest(renter="alice"))
        assert json.loads(own.json)["sign_in_accounts"][0]["email"] == "alice@example.org"
        admin.renters.EraseRenter(renters_pb2.GetRenterRequest(renter="alice"))
        assert list(admin.accounts.ListAccounts(A.ListAccountsRequest()).accounts) == []
        after = admin.renters.ExportRenter(renters_pb2.GetRenterRequest(renter="alice"))
        assert json.loads(after.json)["sign_in_accounts"] == []
