"""How the host's pages show a machine: its state (online, offline, revoked), when it last reported ("2
minutes ago", in the viewer's language), its utilisation now in whole percent.

Both the machines list and a machine's own page build their rows here, so that they say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from babel.dates import format_timedelta
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from portal import i18n
from portal.i18n import N_
from protos.rentmeter.v1 import agent_pb2, fleet_pb2, machines_pb2

ONLINE, OFFLINE, REVOKED = "online", "offline", "revoked"
STATE_LABELS = {ONLINE: N_("Online"), OFFLINE: N_("Offline"), REVOKED: N_("Revoked")}
# What each kind of hole in a machine's reporting means, for the host (README: "A damaged spool").
GAP_KINDS = {
    agent_pb2.ReportGap.FORGED: N_("a stored report no longer matched its signature and was set aside"),
    agent_pb2.ReportGap.UNREADABLE: N_("a stored report could not be read and was set aside"),
    agent_pb2.ReportGap.SPOOL_LOST: N_("the agent's store of reports was damaged and started anew"),
}
GAP_UNKNOWN = N_("reports were lost")
STATE_BADGES = {ONLINE: "ok", OFFLINE: "", REVOKED: "bad"}  # the .badge styles of portal.css


def state_of(machine: machines_pb2.Machine) -> str:
    """REVOKED once revoked (its reports are refused), else ONLINE when it reported within the
    collector's online window, else OFFLINE."""
    if machine.HasField("revoked_at"):
        return REVOKED
    return ONLINE if machine.online else OFFLINE


def ago(moment: Timestamp, now: datetime) -> str:
    """`2 minutes ago`, `2分钟前` ("" when the moment is unset: never reported)."""
    if not moment.seconds and not moment.nanos:
        return ""
    then = moment.ToDatetime(tzinfo=UTC)
    return format_timedelta(
        min(then - now, -timedelta(seconds=1)),
        add_direction=True,
        threshold=0.9,
        locale=i18n.current().formats,
    )


def gap_text(gap: agent_pb2.ReportGap) -> str:
    """What a hole in the machine's reporting was, in the viewer's language."""
    return i18n.gettext(GAP_KINDS.get(gap.kind, GAP_UNKNOWN))


def machine_name(machine: machines_pb2.Machine) -> str:
    """The label the host gave it at enrollment, else its id."""
    return machine.label or machine.agent_id


@dataclass(frozen=True)
class MachineRow:
    """One machine as the host's pages show it: the fleet's entry and what is derived from it."""

    entry: fleet_pb2.FleetMachine
    state: str
    last_report: str  # "2 minutes ago"; "" when it never reported
    cpu_percent: int | None  # None when offline or revoked: "now" means nothing then
    gpu_percents: list[int] = field(default_factory=list)

    @property
    def machine(self) -> machines_pb2.Machine:
        return self.entry.machine

    @property
    def name(self) -> str:
        return machine_name(self.entry.machine)

    @property
    def badge(self) -> str:
        """An offline machine with a rental on it needs the host's eye."""
        return "warn" if self.state == OFFLINE and self.entry.session_id else STATE_BADGES[self.state]

    @property
    def state_label(self) -> str:
        return i18n.gettext(STATE_LABELS[self.state])


def machine_row(entry: fleet_pb2.FleetMachine, now: datetime) -> MachineRow:
    state = state_of(entry.machine)
    live = state == ONLINE
    return MachineRow(
        entry=entry,
        state=state,
        last_report=ago(entry.machine.last_seen, now),
        cpu_percent=round(entry.cpu_utilization * 100) if live else None,
        gpu_percents=list(entry.gpu_utilization_percent) if live else [],
    )


def fleet_time(fleet: fleet_pb2.Fleet) -> datetime:
    """The moment the collector made the fleet view (its clock, not the portal's)."""
    return fleet.at.ToDatetime(tzinfo=UTC) if fleet.HasField("at") else datetime.now(UTC)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def duration(span: timedelta) -> Duration:
    value = Duration()
    value.FromTimedelta(span)
    return value


def viewer_zone_name() -> str:
    """The viewer's IANA time zone name, for the collector's local periods ("UTC" when none is known)."""
    return str(getattr(i18n.current().time_zone, "key", "UTC"))
