"""`rentmeter agent status`: what the agent's state directory holds — identity, spool, reports not yet
acknowledged, reports set aside and why, spools moved aside. Read-only: safe while the agent runs."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from agent.errors import AgentError
from agent.identity import IDENTITY_FILE
from agent.spool import DAMAGED_SUFFIX, SPOOL_FILE


@dataclass(frozen=True)
class SetAside:
    sequence: int
    kind: str
    reason: str
    at: str  # ISO 8601, UTC
    bytes: int


@dataclass(frozen=True)
class AgentStatus:
    state_dir: str
    agent_id: str = ""  # "" before enrollment
    machine_class: str = ""
    collector: str = ""
    spool_bytes: int = 0  # the spool file and its log
    reports_waiting: int = 0  # sealed, not yet acknowledged
    reports_never_sent: int = 0
    samples_waiting: int = 0  # taken, not yet sealed into a report
    last_sequence: int = 0
    quarantined: list[SetAside] = field(default_factory=list)
    gaps_not_yet_told: int = 0
    spools_moved_aside: list[str] = field(default_factory=list)
    spool_error: str = ""  # why the spool could not be read, if it could not

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def read_status(state_dir: Path) -> AgentStatus:
    """The agent's status from `state_dir`; AgentError when there is no such directory."""
    if not state_dir.is_dir():
        raise AgentError(f"no agent state in {state_dir}: is this the agent's state directory (--state-dir)?")
    files = list(state_dir.glob(f"{SPOOL_FILE}*"))
    moved = sorted(
        p.name for p in files if DAMAGED_SUFFIX in p.name and not p.name.endswith(("-wal", "-shm"))
    )
    base = AgentStatus(
        str(state_dir), *_identity(state_dir),
        spool_bytes=sum(p.stat().st_size for p in files if DAMAGED_SUFFIX not in p.name),
        spools_moved_aside=moved,
    )  # fmt: skip
    spool = state_dir / SPOOL_FILE
    if not spool.exists():
        return base
    try:
        return _with_spool(base, spool)
    except sqlite3.Error as exc:
        return replace(base, spool_error=str(exc))


def _identity(state_dir: Path) -> tuple[str, str, str]:
    try:
        record = json.loads((state_dir / IDENTITY_FILE).read_text())
    except (OSError, ValueError):
        return "", "", ""
    return record.get("agent_id", ""), record.get("machine_class", ""), record.get("collector", "")


def _with_spool(base: AgentStatus, path: Path) -> AgentStatus:
    """Read the spool without writing anything: while the agent runs (its -wal exists) through a read-only
    connection; when it is stopped as an immutable file, so that no -wal or -shm owned by the caller (root)
    is left behind for the agent's own user."""
    mode = "ro" if path.with_name(path.name + "-wal").exists() else "ro&immutable=1"
    db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    try:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

        def count(query: str, *args: object) -> int:
            return int(db.execute(query, args).fetchone()[0])

        meta = dict(db.execute("SELECT key, value FROM meta"))
        aside = (
            list(db.execute("SELECT sequence, kind, reason, at_us, length(envelope) FROM quarantine"))
            if "quarantine" in tables
            else []
        )
        return replace(
            base,
            reports_waiting=count("SELECT count(*) FROM reports"),
            reports_never_sent=count("SELECT count(*) FROM reports WHERE sequence > ?", meta.get("sent", 0)),
            samples_waiting=count("SELECT count(*) FROM samples"),
            last_sequence=int(meta.get("last_sequence", 0)),
            quarantined=[SetAside(s, k, r, _iso(at), n) for s, k, r, at, n in sorted(aside)],
            gaps_not_yet_told=count("SELECT count(*) FROM gaps WHERE reported_in IS NULL")
            if "gaps" in tables
            else 0,
        )
    finally:
        db.close()


def _iso(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1e6, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def render(status: AgentStatus) -> str:
    """The status as lines of text for a person."""
    who = f"{status.agent_id} (class {status.machine_class}), collector {status.collector}"
    lines = [
        f"agent        {who if status.agent_id else 'not enrolled yet'}",
        f"state dir    {status.state_dir}",
    ]
    if status.spool_error:
        lines.append(f"spool        cannot be read: {status.spool_error}")
    else:
        lines.append(
            f"spool        {status.spool_bytes / 1024:.1f} KiB: {status.reports_waiting} reports not yet"
            f" acknowledged ({status.reports_never_sent} never sent), {status.samples_waiting} samples not"
            f" yet in a report, last sequence {status.last_sequence}"
        )
    lines.append(f"set aside    {len(status.quarantined)} reports" + (":" if status.quarantined else ""))
    lines += [f"  {q.sequence:>8}  {q.at}  {q.kind}: {q.reason}" for q in status.quarantined]
    lines.append(f"gaps         {status.gaps_not_yet_told} not yet told to the collector")
    if status.spools_moved_aside:
        lines.append("moved aside  " + ", ".join(status.spools_moved_aside))
    return "\n".join(lines)
