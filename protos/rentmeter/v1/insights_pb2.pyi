import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRenterProfileRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class RenterProfile(_message.Message):
    __slots__ = ("renter", "time_zone", "folded_until", "sessions", "rented_seconds", "night_seconds", "hour_of_week_seconds", "session_lengths", "classes", "utilisation", "spend_per_week", "top_ups", "first_session", "last_session")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    FOLDED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    RENTED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    NIGHT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HOUR_OF_WEEK_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SESSION_LENGTHS_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    SPEND_PER_WEEK_FIELD_NUMBER: _ClassVar[int]
    TOP_UPS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SESSION_FIELD_NUMBER: _ClassVar[int]
    LAST_SESSION_FIELD_NUMBER: _ClassVar[int]
    renter: str
    time_zone: str
    folded_until: _timestamp_pb2.Timestamp
    sessions: int
    rented_seconds: float
    night_seconds: float
    hour_of_week_seconds: _containers.RepeatedScalarFieldContainer[float]
    session_lengths: _containers.RepeatedCompositeFieldContainer[LengthBucket]
    classes: _containers.RepeatedCompositeFieldContainer[ClassUse]
    utilisation: Utilisation
    spend_per_week: _containers.RepeatedCompositeFieldContainer[WeekSpend]
    top_ups: _containers.RepeatedCompositeFieldContainer[TopUpHabit]
    first_session: _timestamp_pb2.Timestamp
    last_session: _timestamp_pb2.Timestamp
    def __init__(self, renter: _Optional[str] = ..., time_zone: _Optional[str] = ..., folded_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sessions: _Optional[int] = ..., rented_seconds: _Optional[float] = ..., night_seconds: _Optional[float] = ..., hour_of_week_seconds: _Optional[_Iterable[float]] = ..., session_lengths: _Optional[_Iterable[_Union[LengthBucket, _Mapping]]] = ..., classes: _Optional[_Iterable[_Union[ClassUse, _Mapping]]] = ..., utilisation: _Optional[_Union[Utilisation, _Mapping]] = ..., spend_per_week: _Optional[_Iterable[_Union[WeekSpend, _Mapping]]] = ..., top_ups: _Optional[_Iterable[_Union[TopUpHabit, _Mapping]]] = ..., first_session: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_session: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LengthBucket(_message.Message):
    __slots__ = ("label", "sessions")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    label: str
    sessions: int
    def __init__(self, label: _Optional[str] = ..., sessions: _Optional[int] = ...) -> None: ...

class ClassUse(_message.Message):
    __slots__ = ("machine_class", "rented_seconds")
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    RENTED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    machine_class: str
    rented_seconds: float
    def __init__(self, machine_class: _Optional[str] = ..., rented_seconds: _Optional[float] = ...) -> None: ...

class Utilisation(_message.Message):
    __slots__ = ("covered_seconds", "idle_share", "cpu_share", "gpu_share", "rx_bytes", "tx_bytes", "bytes_per_hour")
    COVERED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    IDLE_SHARE_FIELD_NUMBER: _ClassVar[int]
    CPU_SHARE_FIELD_NUMBER: _ClassVar[int]
    GPU_SHARE_FIELD_NUMBER: _ClassVar[int]
    RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    BYTES_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    covered_seconds: float
    idle_share: float
    cpu_share: float
    gpu_share: float
    rx_bytes: int
    tx_bytes: int
    bytes_per_hour: float
    def __init__(self, covered_seconds: _Optional[float] = ..., idle_share: _Optional[float] = ..., cpu_share: _Optional[float] = ..., gpu_share: _Optional[float] = ..., rx_bytes: _Optional[int] = ..., tx_bytes: _Optional[int] = ..., bytes_per_hour: _Optional[float] = ...) -> None: ...

class WeekSpend(_message.Message):
    __slots__ = ("week", "spent")
    WEEK_FIELD_NUMBER: _ClassVar[int]
    SPENT_FIELD_NUMBER: _ClassVar[int]
    week: str
    spent: _common_pb2.Money
    def __init__(self, week: _Optional[str] = ..., spent: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class TopUpHabit(_message.Message):
    __slots__ = ("count", "total", "average_balance_before", "lowest_balance_before", "balance")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_BALANCE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    LOWEST_BALANCE_BEFORE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    count: int
    total: _common_pb2.Money
    average_balance_before: _common_pb2.Money
    lowest_balance_before: _common_pb2.Money
    balance: _common_pb2.Money
    def __init__(self, count: _Optional[int] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., average_balance_before: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., lowest_balance_before: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class GetFleetProfileRequest(_message.Message):
    __slots__ = ("host", "machine_class")
    HOST_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    host: str
    machine_class: str
    def __init__(self, host: _Optional[str] = ..., machine_class: _Optional[str] = ...) -> None: ...

class FleetProfile(_message.Message):
    __slots__ = ("classes",)
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    classes: _containers.RepeatedCompositeFieldContainer[ClassProfile]
    def __init__(self, classes: _Optional[_Iterable[_Union[ClassProfile, _Mapping]]] = ...) -> None: ...

class ClassProfile(_message.Message):
    __slots__ = ("machine_class", "machines", "idle_machines", "sessions", "rented_seconds", "hour_of_week_seconds", "occupancy", "revenue", "utilisation")
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    MACHINES_FIELD_NUMBER: _ClassVar[int]
    IDLE_MACHINES_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    RENTED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    HOUR_OF_WEEK_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    REVENUE_FIELD_NUMBER: _ClassVar[int]
    UTILISATION_FIELD_NUMBER: _ClassVar[int]
    machine_class: str
    machines: int
    idle_machines: int
    sessions: int
    rented_seconds: float
    hour_of_week_seconds: _containers.RepeatedScalarFieldContainer[float]
    occupancy: _containers.RepeatedScalarFieldContainer[float]
    revenue: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    utilisation: Utilisation
    def __init__(self, machine_class: _Optional[str] = ..., machines: _Optional[int] = ..., idle_machines: _Optional[int] = ..., sessions: _Optional[int] = ..., rented_seconds: _Optional[float] = ..., hour_of_week_seconds: _Optional[_Iterable[float]] = ..., occupancy: _Optional[_Iterable[float]] = ..., revenue: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., utilisation: _Optional[_Union[Utilisation, _Mapping]] = ...) -> None: ...

class GetRecommendationRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class Recommendation(_message.Message):
    __slots__ = ("renter", "computed_at", "window_start", "window_end", "sessions", "current", "plan", "member_tier", "coupon", "recommended", "saving", "evidence", "alternatives")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    COMPUTED_AT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_TIER_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDED_FIELD_NUMBER: _ClassVar[int]
    SAVING_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ALTERNATIVES_FIELD_NUMBER: _ClassVar[int]
    renter: str
    computed_at: _timestamp_pb2.Timestamp
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    sessions: int
    current: _common_pb2.Money
    plan: str
    member_tier: str
    coupon: str
    recommended: _common_pb2.Money
    saving: _common_pb2.Money
    evidence: str
    alternatives: _containers.RepeatedCompositeFieldContainer[Alternative]
    def __init__(self, renter: _Optional[str] = ..., computed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sessions: _Optional[int] = ..., current: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., plan: _Optional[str] = ..., member_tier: _Optional[str] = ..., coupon: _Optional[str] = ..., recommended: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., saving: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., evidence: _Optional[str] = ..., alternatives: _Optional[_Iterable[_Union[Alternative, _Mapping]]] = ...) -> None: ...

class Alternative(_message.Message):
    __slots__ = ("plan", "member_tier", "coupon", "offer", "total", "error")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_TIER_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    OFFER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    plan: str
    member_tier: str
    coupon: str
    offer: str
    total: _common_pb2.Money
    error: str
    def __init__(self, plan: _Optional[str] = ..., member_tier: _Optional[str] = ..., coupon: _Optional[str] = ..., offer: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class ListOffersRequest(_message.Message):
    __slots__ = ("renter", "ended_too")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    ENDED_TOO_FIELD_NUMBER: _ClassVar[int]
    renter: str
    ended_too: bool
    def __init__(self, renter: _Optional[str] = ..., ended_too: _Optional[bool] = ...) -> None: ...

class ListOffersResponse(_message.Message):
    __slots__ = ("offers",)
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    offers: _containers.RepeatedCompositeFieldContainer[Offer]
    def __init__(self, offers: _Optional[_Iterable[_Union[Offer, _Mapping]]] = ...) -> None: ...

class Offer(_message.Message):
    __slots__ = ("id", "renter", "rule", "plan", "member_tier", "coupon", "reason", "offered_at", "valid_from", "valid_until")
    ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_TIER_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OFFERED_AT_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    id: int
    renter: str
    rule: str
    plan: str
    member_tier: str
    coupon: str
    reason: str
    offered_at: _timestamp_pb2.Timestamp
    valid_from: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., renter: _Optional[str] = ..., rule: _Optional[str] = ..., plan: _Optional[str] = ..., member_tier: _Optional[str] = ..., coupon: _Optional[str] = ..., reason: _Optional[str] = ..., offered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OfferRule(_message.Message):
    __slots__ = ("name", "condition", "threshold", "window_days", "plan", "member_tier", "coupon", "valid_days", "created_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MEMBER_TIER_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    VALID_DAYS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    condition: str
    threshold: str
    window_days: int
    plan: str
    member_tier: str
    coupon: str
    valid_days: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., condition: _Optional[str] = ..., threshold: _Optional[str] = ..., window_days: _Optional[int] = ..., plan: _Optional[str] = ..., member_tier: _Optional[str] = ..., coupon: _Optional[str] = ..., valid_days: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOfferRulesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListOfferRulesResponse(_message.Message):
    __slots__ = ("rules",)
    RULES_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[OfferRule]
    def __init__(self, rules: _Optional[_Iterable[_Union[OfferRule, _Mapping]]] = ...) -> None: ...

class DeleteOfferRuleRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteOfferRuleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshInsightsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RefreshInsightsResponse(_message.Message):
    __slots__ = ("renters_profiled", "renters_advised", "failed")
    RENTERS_PROFILED_FIELD_NUMBER: _ClassVar[int]
    RENTERS_ADVISED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    renters_profiled: int
    renters_advised: int
    failed: int
    def __init__(self, renters_profiled: _Optional[int] = ..., renters_advised: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...
