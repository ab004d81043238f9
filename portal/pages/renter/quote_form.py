"""The quote calculator's form: what the renter typed (query parameters, so a quote is a plain GET that
works without JavaScript and can be bookmarked) made into a PlanService.Quote request, or the sentence
that says what to correct."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from portal import i18n
from protos.rentmeter.v1 import plans_pb2

MAX_HOURS = Decimal(366 * 24)  # the collector's limit on a quote's duration
FIELDS = (
    "plan", "machine_class", "hours", "start", "traffic_in", "traffic_out", "gpu_model", "gpus", "coupon"
)  # fmt: skip


class QuoteInputError(ValueError):
    """A field the portal cannot send as typed; the message is the translated sentence to show."""


@dataclass(frozen=True)
class QuoteForm:
    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> QuoteForm:
        return cls({name: str(query.get(name, "")).strip()[:200] for name in FIELDS})

    @property
    def submitted(self) -> bool:
        return bool(self.values.get("plan"))

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def request(self) -> plans_pb2.QuoteRequest:
        """The Quote request; QuoteInputError naming the field to correct."""
        hours = _number(self.get("hours") or "1", i18n.gettext("Hours"))
        if not 0 < hours <= MAX_HOURS:
            raise QuoteInputError(i18n.gettext("Give between 0 and 8,784 hours (366 days)."))
        duration = Duration()
        duration.FromTimedelta(timedelta(seconds=int(hours * 3600)))
        request = plans_pb2.QuoteRequest(
            plan=self.get("plan"),
            machine_class=self.get("machine_class"),
            duration=duration,
            expected_rx_bytes=_bytes(self.get("traffic_in"), i18n.gettext("Traffic received")),
            expected_tx_bytes=_bytes(self.get("traffic_out"), i18n.gettext("Traffic sent")),
            terms=plans_pb2.RentalTerms(coupon=self.get("coupon")),
        )
        if self.get("gpu_model"):
            count = _number(self.get("gpus") or "1", i18n.gettext("GPUs"))
            if count != count.to_integral_value() or not 1 <= count <= 1000:
                raise QuoteInputError(i18n.gettext("Give the number of GPUs as a whole number, 1 to 1,000."))
            request.gpus[self.get("gpu_model")] = int(count)
        if self.get("start"):
            request.start.CopyFrom(_moment(self.get("start")))
        return request


def _number(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value < 0:
        raise QuoteInputError(
            i18n.gettext("%(field)s: give a number, for example 2 or 1.5.") % {"field": what}
        )
    return value


def _bytes(gigabytes: str, what: str) -> int:
    """Decimal gigabytes (10^9 bytes, as traffic is priced) as bytes; 0 when left empty."""
    if not gigabytes:
        return 0
    count = _number(gigabytes, what) * 10**9
    if count > 10**19:
        raise QuoteInputError(i18n.gettext("%(field)s: at most 10,000,000,000 GB.") % {"field": what})
    return int(count)


def _moment(text: str) -> Timestamp:
    """A datetime-local value (`2026-12-01T22:00`) in the viewer's time zone."""
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise QuoteInputError(i18n.gettext("Start: give a date and time.")) from None
    moment = Timestamp()
    moment.FromDatetime(local.replace(tzinfo=local.tzinfo or i18n.current().time_zone))
    return moment
