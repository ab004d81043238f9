"""Checking an evidence bundle offline: every report's signature with the machine's key, the sequence
numbers without holes, and the disputed line re-rated from the reports alone.

Needs no collector and no database: `rentmeter verify-evidence FILE` runs it on a bundle made by
collector/invoicing/evidence.py. Problems are sentences naming the report; a bundle with any problem is not
to be trusted, and its re-rated amounts are not printed. The re-rating is the collector's own (billing.rate
under the plan's assurance rules, billing/confidence.py) over usage counted as the database counts it
(collector/metering/usage.py): covered time is each sample's overlap with a stretch, counters belong to the
stretch their sample starts in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import billing
from billing import assured
from billing.confidence import Gap
from billing.dynamic import PriceLock

FORMAT = "rentmeter-evidence/1"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EvidenceError(ValueError):
    """A bundle that cannot be read at all (not JSON, another format, a field missing)."""


@dataclass(frozen=True, slots=True)
class Sampled:
    """One signed sample, as the evidence counts it (microseconds since the epoch, counters as deltas)."""

    start_us: int
    end_us: int
    cpu_busy_us: int
    net_rx_bytes: int
    net_tx_bytes: int
    memory_kb_ms: int
    gpus: tuple[tuple[str, int, int], ...]  # (uuid, attached µs, energy mJ)
    cpu_percent: float = 0.0  # busy share of all cores, and of the busiest GPU (idle-aware prices)
    gpu_percent: int = 0


@dataclass(frozen=True, slots=True)
class DecodedReport:
    """What a signed payload says: whose report, which sequence, and its samples."""

    agent_id: str
    sequence: int
    samples: tuple[Sampled, ...]


class ReportReading(Protocol):
    """The wire contract, from the API layer (collector/api/evidence_wire.py): the bytes a report's
    signature covers, and the payload decoded (None when it is not a report)."""

    def signing_bytes(self, payload: bytes) -> bytes: ...

    def decode(self, payload: bytes) -> DecodedReport | None: ...


@dataclass
class Verdict:
    """What a check found: problems (empty: the bundle verifies) and the line re-rated from the evidence."""

    problems: list[str] = field(default_factory=list)
    reports: int = 0
    currency: str = ""
    line_minor: int = 0  # the disputed line as invoiced
    rerated_minor: int = 0  # the same line, re-rated from the reports
    session_minor: int = 0  # every line of the session in the invoice's period, re-rated

    @property
    def ok(self) -> bool:
        return not self.problems


def check_bundle(text: str | bytes, reading: ReportReading) -> Verdict:
    """Verify a bundle; EvidenceError when it is not a readable bundle at all."""
    bundle = _load(text)
    verdict = Verdict()
    try:
        samples = _verified_samples(bundle, verdict, reading)
        if verdict.ok:
            _rerate(bundle, samples, verdict)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        raise EvidenceError(f"the bundle is damaged: {type(exc).__name__} {exc}") from None
    return verdict


def _load(text: str | bytes) -> dict[str, Any]:
    try:
        bundle = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"not an evidence bundle (JSON): {exc}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise EvidenceError(f"not an evidence bundle: its format is not {FORMAT!r}")
    return bundle


def _keys_for(machine: dict[str, Any], sequence: int) -> list[Ed25519PublicKey]:
    keys = [Ed25519PublicKey.from_public_bytes(base64.b64decode(machine["public_key"]))]
    previous, until = machine.get("previous_public_key"), machine.get("previous_key_until_sequence") or 0
    if previous and sequence <= until:
        keys.append(Ed25519PublicKey.from_public_bytes(base64.b64decode(previous)))
    return keys


def _signed_by(keys: Sequence[Ed25519PublicKey], signed: bytes, signature: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, signed)
            return True
        except InvalidSignature:
            continue
    return False


def _verified_samples(bundle: dict[str, Any], verdict: Verdict, reading: ReportReading) -> list[Sampled]:
    machine = bundle["machine"]
    agent_id = machine["agent_id"]
    samples: list[Sampled] = []
    seen: list[int] = []
    for entry in bundle["reports"]:
        sequence = int(entry["sequence"])
        payload, signature = base64.b64decode(entry["payload"]), base64.b64decode(entry["signature"])
        if not _signed_by(_keys_for(machine, sequence), reading.signing_bytes(payload), signature):
            verdict.problems.append(
                f"report {sequence} was altered or signed by another key: its signature does not verify"
                f" with machine {agent_id}'s key"
            )
            continue
        report = reading.decode(payload)
        if report is None:
            verdict.problems.append(f"report {sequence} is signed but is not a usage report")
            continue
        if report.agent_id != agent_id or report.sequence != sequence:
            verdict.problems.append(
                f"report {sequence} is signed as report {report.sequence} of machine {report.agent_id!r}"
            )
            continue
        seen.append(sequence)
        samples += report.samples
    verdict.reports = len(seen)
    verdict.problems += _sequence_problems(seen, bundle.get("rejected_sequences", []))
    return sorted(samples, key=lambda s: s.start_us)


def _sequence_problems(seen: list[int], rejected: list[int]) -> list[str]:
    if not seen:
        return ["the bundle holds no verifiable report"]
    problems = [f"report {n} appears more than once" for n in sorted({n for n in seen if seen.count(n) > 1})]
    known = set(seen) | {int(n) for n in rejected}
    missing = [n for n in range(min(seen), max(seen) + 1) if n not in known]
    problems += [f"report {n} is missing: the sequence numbers jump from {n - 1} to a later one"
                 for n in missing[:20]]  # fmt: skip
    if len(missing) > 20:
        problems.append(f"and {len(missing) - 20} more reports are missing")
    return problems


def _at(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def usage_between(samples: Sequence[Sampled], a: int, b: int, models: dict[str, str]) -> billing.Usage:
    """Usage over [a, b) as the collector's database counts it (collector/metering/usage.py)."""
    covered = sum(max(min(s.end_us, b) - max(s.start_us, a), 0) for s in samples)
    inside = [s for s in samples if a <= s.start_us < b]
    gpu_us: dict[str, int] = {}
    for s in inside:
        for uuid, attached, _ in s.gpus:
            model = models.get(uuid) or "GPU"
            gpu_us[model] = gpu_us.get(model, 0) + attached
    return billing.Usage(
        covered_us=covered,
        net_rx_bytes=sum(s.net_rx_bytes for s in inside),
        net_tx_bytes=sum(s.net_tx_bytes for s in inside),
        cpu_busy_us=sum(s.cpu_busy_us for s in inside),
        memory_byte_us=sum(s.memory_kb_ms for s in inside) * 1_000_000,
        energy_mj=sum(energy for s in inside for _, _, energy in s.gpus),
        gpu_us=gpu_us,
    )


def gaps_between(samples: Sequence[Sampled], a: int, b: int) -> list[Gap]:
    """The stretches of [a, b) no sample covers (collector/metering/coverage.py)."""
    found, cursor = [], a
    for s in samples:
        if s.end_us <= cursor or s.start_us >= b:
            continue
        if s.start_us > cursor:
            found.append(Gap(_at(cursor), _at(s.start_us)))
        cursor = max(cursor, s.end_us)
    if cursor < b:
        found.append(Gap(_at(cursor), _at(b)))
    return found


def idle_between(
    samples: Sequence[Sampled], a: int, b: int, below: Decimal
) -> list[tuple[datetime, datetime]]:
    """Spans of the samples starting in [a, b) whose CPU and GPUs were busy less than `below` %
    (collector/metering/coverage.py)."""
    limit = float(below)
    return [(_at(s.start_us), _at(min(s.end_us, b))) for s in samples
            if a <= s.start_us < b and s.cpu_percent * 100 < limit and s.gpu_percent < limit]  # fmt: skip


def _rerate(bundle: dict[str, Any], samples: list[Sampled], verdict: Verdict) -> None:
    session, invoice, line = bundle["session"], bundle["invoice"], bundle["line"]
    versions = billing.check_versions(
        [billing.parse_plan(v["document"], strict=False) for v in bundle["plan"]["versions"]]
    )
    terms = billing.RentalTerms(
        machine_class=session["machine_class"], service_level=session["service_level"],
        member_tier=session["member_tier"], coupon=session["coupon"],
        resources={k: Decimal(v) for k, v in session["resources"].items()},
        demand=tuple(PriceLock(datetime.fromisoformat(t), Decimal(m)) for t, m in session["price_locks"]),
    )  # fmt: skip
    models = {
        str(g.get("uuid", "")): str(g.get("name", "")) for g in bundle["machine"]["facts"].get("gpus", [])
    }
    started = datetime.fromisoformat(session["started_at"])
    ended = datetime.fromisoformat(session["ended_at"]) if session["ended_at"] else None
    currency = versions[0].currency

    def cumulative(until: datetime) -> dict[str, int]:
        end = max(min(until, ended) if ended else until, started)
        gaps = gaps_between(samples, _us_of(started), _us_of(end))
        below = assured.idle_below(versions, started)
        idle = idle_between(samples, _us_of(started), _us_of(end), below) if below is not None else []
        charges = assured.rate_assured(
            versions, terms, started, end, lambda a, b: usage_between(samples, _us_of(a), _us_of(b), models),
            gaps, idle_samples=idle, with_gap_line=True,
        )  # fmt: skip
        return {c.meter: billing.Money.of(c.amount, currency).minor for c in charges}

    period_start = datetime.fromisoformat(invoice["period_start"])
    before = cumulative(period_start) if started < period_start else {}
    through = cumulative(datetime.fromisoformat(invoice["period_end"]))
    meter = line["meter"]
    verdict.currency = invoice["currency"]
    verdict.line_minor = int(line["amount_minor"])
    verdict.rerated_minor = through.get(meter, 0) - before.get(meter, 0)
    verdict.session_minor = sum(through.values()) - sum(before.values())


def _us_of(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)
