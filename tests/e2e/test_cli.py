"""The `rentmeter` command line against a real collector: output, messages and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from collector.server import Collector
from tests.e2e.harness import free_port, rentmeter


def test_admin_commands(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    token = rentmeter("token", "create", "--class", "gpu", "--label", "seat 12", collector=target)
    assert token.returncode == 0 and token.stdout.startswith("rmt_")
    created = rentmeter(
        "plan",
        "create",
        "basic",
        "--currency",
        "eur",
        "--hourly",
        "gpu=2.50",
        "--traffic-out",
        "0.09",
        collector=target,
    )
    assert created.returncode == 0 and "rental time (gpu): 2.50 EUR/h" in created.stdout
    listed = rentmeter("plan", "list", collector=target)
    assert "basic" in listed.stdout and "EUR" in listed.stdout
    assert "network traffic sent: 0.09 EUR/GB" in rentmeter("plan", "show", "basic", collector=target).stdout
    assert rentmeter("plan", "show", "nope", collector=target).returncode == 1
    assert rentmeter("machines", "list", collector=target).returncode == 0
    assert rentmeter("invoice", "close", collector=target).stdout.strip() == "no billing period was due"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("session", "start", "--machine", "m-nope", "--renter", "r", "--plan", "p"),
            "machine 'm-nope' not found",
        ),
        (("invoice", "show", "inv-nope"), "invoice 'inv-nope' not found"),
    ],
)
def test_refusals_exit_1_with_the_collectors_sentence(
    collector: Collector, args: tuple[str, ...], message: str
) -> None:
    result = rentmeter(*args, collector=f"127.0.0.1:{collector.port}")
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_input_exits_2() -> None:
    result = rentmeter(
        "plan", "create", "x", "--currency", "EUR", "--hourly", "standard", collector="127.0.0.1:1"
    )
    assert result.returncode == 2 and "CLASS=PRICE" in result.stderr
    result = rentmeter(
        "plan", "create", "x", "--currency", "EUR", "--hourly", "standard=abc", collector="127.0.0.1:1"
    )
    assert result.returncode == 2 and "error: standard: 'abc' is not a decimal number" in result.stderr
    assert (
        rentmeter("usage", "--machine", "m", "--from", "yesterday", collector="127.0.0.1:1").returncode == 2
    )


def test_unreachable_collector_exits_3() -> None:
    result = rentmeter("machines", "list", collector=f"127.0.0.1:{free_port()}")
    assert result.returncode == 3 and "cannot reach the collector" in result.stderr


def test_agent_without_enrollment_says_what_to_do(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rentmeter", "agent", "run", "--collector", f"127.0.0.1:{free_port()}",
         "--state-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 4 and "not enrolled" in result.stderr and "--token" in result.stderr


@pytest.mark.timeout(120)
def test_demo_runs_a_rental_and_prints_its_invoice(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rentmeter", "demo", "--duration", "3", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    assert "covered" in result.stdout and "Invoice RM-000001 (inv-" in result.stdout
    assert "rental time" in result.stdout and "total" in result.stdout
    assert (tmp_path / "collector.db").exists()


def test_quote_command(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    rentmeter("plan", "create", "cafe", "--currency", "EUR", "--hourly", "standard=1.20", collector=target)
    result = rentmeter("quote", "--plan", "cafe", "--duration", "2h", "--traffic-in", "0.5", collector=target)
    assert result.returncode == 0 and "2.40 EUR" in result.stdout
    assert rentmeter("quote", "--plan", "cafe", "--duration", "soon", collector=target).returncode == 2


def test_plan_with_increment_and_minimum(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    created = rentmeter("plan", "create", "cafe", "--currency", "EUR", "--hourly", "standard=1.20",
                        "--increment", "1m", "--minimum", "30m", collector=target)  # fmt: skip
    assert created.returncode == 0 and "60 s" in created.stdout and "1800 s" in created.stdout
    quote = rentmeter("quote", "--plan", "cafe", "--duration", "10m", collector=target)
    assert "0.60 EUR" in quote.stdout  # ten minutes billed as the 30-minute minimum
    bad = rentmeter("plan", "create", "x", "--currency", "EUR", "--hourly", "standard=1", "--increment", "2d",
                    collector=target)  # fmt: skip
    assert bad.returncode == 2 and "increment" in bad.stderr


def test_plan_from_a_file(collector: Collector, tmp_path: Path) -> None:
    target = f"127.0.0.1:{collector.port}"
    plan = tmp_path / "cafe.toml"
    plan.write_text(
        'name = "cafe"\ncurrency = "EUR"\n[time]\nminimum = "1h"\n[time.hourly]\nstandard = "1.20"\n'
    )
    created = rentmeter("plan", "create", "--file", str(plan), collector=target)
    assert created.returncode == 0 and "cafe" in created.stdout and "3600 s" in created.stdout
    plan.write_text('name = "bad"\ncurrency = "EUR"\n[time.hourly]\nstandard = 1.20\n')
    refused = rentmeter("plan", "create", "--file", str(plan), collector=target)
    assert refused.returncode == 2 and f"{plan}:4: standard: write amounts as text" in refused.stderr
    mixed = rentmeter("plan", "create", "--file", str(plan), "--currency", "EUR", collector=target)
    assert mixed.returncode == 2 and "not both" in mixed.stderr


def test_explain_command_for_an_unknown_session(collector: Collector) -> None:
    result = rentmeter("explain", "s-nope", collector=f"127.0.0.1:{collector.port}")
    assert result.returncode == 1 and "session 's-nope' not found" in result.stderr


def test_plan_versions_terms_and_quotes_from_the_command_line(collector: Collector, tmp_path: Path) -> None:
    target = f"127.0.0.1:{collector.port}"
    first = tmp_path / "gpu.toml"
    first.write_text(
        'name = "gpu"\ncurrency = "EUR"\n[[prices]]\nmeter = "time"\nprice = "1.00"\n'
        '[[prices]]\nmeter = "gpu"\ngpu_model = "A100"\nprice = "2.00"\n'
        '[[prices]]\nmeter = "resource"\nresource = "storage"\nunit = "GB"\nprice = "0.73"\n'
        '[service_levels]\npremium = "2"\n[coupons.HALF]\npercent = "50"\n'
    )
    assert rentmeter("plan", "create", "--file", str(first), collector=target).returncode == 0
    # 1 h: time 1.00 + 2 A100 x 2.00 + 100 GB-month x 0.73 x 1/730 = 5.10; premium x2 = 10.20; HALF -5.10.
    quote = rentmeter("quote", "--plan", "gpu", "--duration", "1h", "--start", "2026-01-05T10:00:00Z",
                      "--gpu", "A100=2", "--resource", "storage=100", "--service-level", "premium",
                      "--coupon", "HALF", collector=target)  # fmt: skip
    assert quote.returncode == 0
    assert any("total" in line and "5.10 EUR" in line for line in quote.stdout.splitlines()), quote.stdout
    second = tmp_path / "gpu-2027.toml"
    second.write_text(
        first.read_text().replace('currency = "EUR"', 'currency = "EUR"\neffective_from = 2027-01-01')
    )
    added = rentmeter("plan", "add-version", "gpu", "--file", str(second), collector=target)
    assert added.returncode == 0 and "2027-01-01" in added.stdout
    again = rentmeter("plan", "add-version", "gpu", "--file", str(second), collector=target)
    assert again.returncode == 1 and "later than the latest version" in again.stderr
    unknown = rentmeter("quote", "--plan", "gpu", "--duration", "1h", "--coupon", "NOPE", collector=target)
    assert unknown.returncode == 1 and "coupon 'NOPE'" in unknown.stderr
    bad = rentmeter("quote", "--plan", "gpu", "--duration", "1h", "--gpu", "A100=two", collector=target)
    assert bad.returncode == 2 and "whole number" in bad.stderr


def test_wallet_ledger_and_watch_commands(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    topped = rentmeter("wallet", "topup", "zoe", "7.25", "--key", "pay-1", collector=target)
    assert topped.returncode == 0 and "balance 7.25 EUR" in topped.stdout and "prepaid" in topped.stdout
    again = rentmeter("wallet", "topup", "zoe", "7.25", "--key", "pay-1", collector=target)
    assert "balance 7.25 EUR" in again.stdout  # the same payment once
    shown = rentmeter("wallet", "show", "zoe", collector=target)
    assert shown.returncode == 0 and "wallet:zoe" in shown.stdout and "top-up" in shown.stdout
    check = rentmeter("ledger", "check", collector=target)
    assert check.returncode == 0 and "ledger balanced" in check.stdout and "debits 7.25 EUR" in check.stdout
    bad = rentmeter("wallet", "topup", "zoe", "seven", collector=target)
    assert bad.returncode == 2 and "'seven' is not a number" in bad.stderr  # checked before it is sent
    missing = rentmeter("watch", "s-nope", collector=target)
    assert missing.returncode == 1 and "session 's-nope' not found" in missing.stderr


def test_renter_commands(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    updated = rentmeter("renter", "set", "ivy", "--cycle", "monthly", "--anchor", "2026-01-15T00:00:00Z",
                        "--email", "ivy@example.org", collector=target)  # fmt: skip
    assert updated.returncode == 0 and "billing cycle monthly from 2026-01-15T00:00:00Z" in updated.stdout
    assert "ivy@example.org" in rentmeter("renter", "show", "ivy", collector=target).stdout
    bad = rentmeter("renter", "set", "ivy", "--email", "not-an-address", collector=target)
    assert bad.returncode == 1 and "is not an e-mail address" in bad.stderr
    assert rentmeter("renter", "show", "nobody", collector=target).returncode == 1
    unwritable = rentmeter("renter", "export", "ivy", "-o", "/nonexistent/ivy.json", collector=target)
    assert (
        unwritable.returncode == 2 and "cannot write /nonexistent/ivy.json: No such file" in unwritable.stderr
    )


def test_invoice_pay_command(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    missing = rentmeter("invoice", "pay", "inv-nope", "--reference", "SEPA-1", collector=target)
    assert missing.returncode == 1 and "invoice 'inv-nope' not found" in missing.stderr
    card = rentmeter("renter", "set", "uma", "--payment-method", "stripe", collector=target)
    assert card.returncode == 1 and "give payment_customer and payment_source" in card.stderr
    card = rentmeter("renter", "set", "uma", "--payment-method", "stripe", "--customer", "cus_1", "--source",
                     "pm_1", collector=target)  # fmt: skip
    assert card.returncode == 0 and "pays by stripe" in card.stdout


def test_invoice_credit_command_refuses_unknown_invoices(collector: Collector) -> None:
    result = rentmeter(
        "invoice", "credit", "inv-nope", "--reason", "x", collector=f"127.0.0.1:{collector.port}"
    )
    assert result.returncode == 1 and "invoice 'inv-nope' not found" in result.stderr


def test_access_tokens_from_the_command_line(collector: Collector) -> None:
    target = f"127.0.0.1:{collector.port}"
    created = rentmeter("access", "create", "--role", "renter", "--subject", "vic", collector=target)
    assert created.returncode == 0 and created.stdout.startswith("rmk_")
    renter_token = created.stdout.strip()
    listed = rentmeter("access", "list", collector=target)
    assert "renter" in listed.stdout and "vic" in listed.stdout and renter_token not in listed.stdout
    as_renter = rentmeter("--api-token", renter_token, "machines", "list", collector=target)
    assert as_renter.returncode == 1 and "PERMISSION_DENIED" in as_renter.stderr
    row = next(line for line in listed.stdout.splitlines() if "vic" in line)
    token_id = next(cell.strip() for cell in row.split("│") if cell.strip().isdigit())
    assert rentmeter("access", "revoke", token_id, collector=target).returncode == 0
    refused = rentmeter("--api-token", renter_token, "plan", "list", collector=target)
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr


def test_without_a_token_the_cli_is_refused(collector: Collector, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RENTMETER_TOKEN")
    result = rentmeter("machines", "list", collector=f"127.0.0.1:{collector.port}")
    assert result.returncode == 1 and "API token is required" in result.stderr


def test_version() -> None:
    from importlib.metadata import version

    result = subprocess.run([sys.executable, "-m", "rentmeter", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"rentmeter {version('rentmeter')}"


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("collector.example.net", "has no port: write HOST:PORT, e.g. collector.example.net:50051"),
        ("10.0.0.5:", "needs a port from 1 to 65535"),
        ("10.0.0.5:http", "needs a port from 1 to 65535"),
        ("10.0.0.5:70000", "needs a port from 1 to 65535"),
        ("::1", "in brackets with a port, e.g. [::1]:50051"),
    ],
)
def test_a_collector_address_without_a_port_is_refused(address: str, message: str) -> None:
    """gRPC would dial port 443 and answer, much later, that nothing is there."""
    result = rentmeter("machines", "list", collector=address)
    assert result.returncode == 2 and "error: " in result.stderr and message in result.stderr, result.stderr
    agent = subprocess.run([sys.executable, "-m", "rentmeter", "agent", "run", "--collector", address],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert agent.returncode == 2 and message in agent.stderr, agent.stderr


def test_the_collector_address_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENTMETER_COLLECTOR", "collector.example.net")
    result = subprocess.run([sys.executable, "-m", "rentmeter", "plan", "list"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "'collector.example.net' has no port" in result.stderr


def test_collector_token_says_which_database_it_wrote_to(tmp_path: Path) -> None:
    """Without --db the token goes to the default SQLite file, which may not be the collector's database."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path)}
    env.pop("RENTMETER_DB_URL", None)
    result = subprocess.run([sys.executable, "-m", "rentmeter", "collector", "token"], capture_output=True,
                            text=True, timeout=60, env=env)  # fmt: skip
    assert result.returncode == 0 and result.stdout.startswith("rmk_")  # stdout: the token alone
    assert f"admin API token stored in sqlite:///{tmp_path}/rentmeter/collector.db" in result.stderr
