"""Numbers on the command line: every numeric flag refuses NaN, infinities, negative, malformed and absurdly
large values with one sentence and exit code 2, before anything is sent (a traceback before)."""

from __future__ import annotations

import pytest

from collector.server import Collector
from rentmeter.cli import main
from tests.e2e.harness import free_port, rentmeter

QUOTE = ("quote", "--plan", "p", "--duration", "1h")
PLAN = ("plan", "create", "x", "--currency", "EUR", "--hourly", "standard=1")
SESSION = ("session", "start", "--machine", "m-1", "--renter", "r", "--plan", "p")

BAD = [
    # Quantities of a quote (GB): sent as whole bytes, uint64 on the wire.
    ((*QUOTE, "--traffic-out", "1e11"), "argument --traffic-out: '1e11' is more than 1,000,000,000 GB"),
    ((*QUOTE, "--traffic-out", "nan"), "argument --traffic-out: 'nan' is not a finite number"),
    ((*QUOTE, "--traffic-in", "inf"), "argument --traffic-in: 'inf' is not a finite number"),
    ((*QUOTE, "--traffic-in=-1"), "argument --traffic-in: '-1' must be at least 0"),
    ((*QUOTE, "--traffic-in", "lots"), "argument --traffic-in: 'lots' is not a number"),
    ((*QUOTE, "--memory-gb", "1e30"), "argument --memory-gb: '1e30' is more than 1,000,000,000 GB"),
    ((*QUOTE, "--memory-gb=-inf"), "argument --memory-gb: '-inf' is not a finite number"),
    # Counts: whole numbers, uint32 on the wire.
    ((*QUOTE, "--busy-cores", "99999999999999999999"), "must be from 0 to 1,000,000 cores"),
    ((*QUOTE, "--busy-cores", "1.5"), "'1.5' is not a whole number (0, 1, 2, ...) of cores"),
    ((*QUOTE, "--gpu", "A100=99999999999999999999"), "--gpu A100: '99999999999999999999' must be from 0 to"),
    ((*QUOTE, "--gpu", "A100=nan"), "--gpu A100: 'nan' is not a whole number"),
    # Durations: whole microseconds, within what the collector takes.
    (("quote", "--plan", "p", "--duration", "99999999999d"), "'99999999999d' is longer than 366 days"),
    (("quote", "--plan", "p", "--duration", "nan"), "'nan' is not a duration such as 30s, 15m, 1h or 1d"),
    (("quote", "--plan", "p", "--duration=-1h"), "'-1h' is not a duration"),
    (("token", "create", "--ttl", "31d"), "argument --ttl: '31d' is longer than 30 days"),
    (("token", "create", "--ttl", "1e9d"), "argument --ttl: '1e9d' is not a duration"),
    ((*PLAN, "--increment", "99999999999999999999d"), "increment: must be between 1 microsecond and 1 day"),
    # Resources held for a rental (session start and quote share the flag).
    ((*SESSION, "--resource", "storage=inf"), "--resource storage: 'inf' is not a finite number"),
    ((*QUOTE, "--resource", "storage=-1"), "--resource storage: '-1' must be at least 0"),
    ((*QUOTE, "--resource", "storage=1e30"), "--resource storage: '1e30' is more than 1,000,000,000,000"),
    # Prices of a plan: checked by the plan file parser before anything is sent.
    ((*PLAN[:-1], "standard=nan"), "standard: 'nan' must be a finite, non-negative number"),
    ((*PLAN[:-1], "standard=-1"), "standard: '-1' must be a finite, non-negative number"),
    ((*PLAN, "--traffic-out", "inf"), "out_per_gb: 'inf' must be a finite, non-negative number"),
    # Money.
    (("wallet", "topup", "bob", "nan"), "argument amount: 'nan' is not a finite number"),
    (("wallet", "topup", "bob", "1e30"), "argument amount: '1e30' is more than 1,000,000,000,000"),
    (("wallet", "topup", "bob", "0"), "argument amount: '0' must be more than 0"),
    (("wallet", "topup", "bob", "12,50"), "argument amount: '12,50' is not a number"),
    (("invoice", "credit", "RM-1", "--reason", "x", "--amount", "inf"), "--amount: 'inf' is not a finite"),
    (("invoice", "credit", "RM-1", "--reason", "x", "--amount=-1"), "--amount: '-1' must be more than 0"),
    # Ids and seconds.
    (("access", "revoke", "99999999999999999999"), "argument id: '99999999999999999999' must be from 1 to"),
    (("access", "revoke", "0"), "argument id: '0' must be from 1 to 9,223,372,036,854,775,807"),
    (("demo", "--duration", "nan"), "argument --duration: 'nan' is not a finite number"),
    (("agent", "run", "--interval", "inf"), "argument --interval: 'inf' is not a finite number"),
    (("agent", "run", "--report-every", "1e30"), "'1e30' is more than 604,800 seconds"),
    (("agent", "run", "--interval", "0"), "argument --interval: '0' must be more than 0"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "message"), BAD, ids=[" ".join(argv[-2:]) for argv, _ in BAD])
def test_bad_numbers_are_one_sentence_and_exit_code_2(
    argv: tuple[str, ...], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        code = main(["--collector", f"127.0.0.1:{free_port()}", *argv])  # nothing listens: nothing is sent
    except SystemExit as exc:  # argparse's own exit
        code = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err


def test_good_numbers_reach_the_collector_as_plain_decimals(collector: Collector) -> None:
    at = f"127.0.0.1:{collector.port}"
    topped = rentmeter("wallet", "topup", "zoe", "1e2", collector=at)  # sent as "100", not "1E+2"
    assert topped.returncode == 0 and "balance 100.00 EUR" in topped.stdout, topped.stderr
    assert (
        rentmeter(
            "plan", "create", "p", "--currency", "EUR", "--hourly", "standard=1", collector=at
        ).returncode
        == 0
    )
    quoted = rentmeter(
        "quote", "--plan", "p", "--duration", "90m", "--traffic-in", "2.5", "-o", "json", collector=at
    )
    assert quoted.returncode == 0 and '"display": "1.50 EUR"' in quoted.stdout
