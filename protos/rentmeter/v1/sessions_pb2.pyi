import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from protos.rentmeter.v1 import plans_pb2 as _plans_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LiveCost(_message.Message):
    __slots__ = ("session_id", "state", "cost", "rated_cost", "rate_per_hour", "prepaid", "balance", "time_left", "covered_us", "at", "burn_rate_per_hour", "balance_runs_out_at", "provisional", "pack_time_left", "balance_lasts")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    RATED_COST_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    PREPAID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    TIME_LEFT_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    BURN_RATE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    BALANCE_RUNS_OUT_AT_FIELD_NUMBER: _ClassVar[int]
    PROVISIONAL_FIELD_NUMBER: _ClassVar[int]
    PACK_TIME_LEFT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_LASTS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    state: RentalSession.State
    cost: _common_pb2.Money
    rated_cost: _common_pb2.Money
    rate_per_hour: _common_pb2.Money
    prepaid: bool
    balance: _common_pb2.Money
    time_left: _duration_pb2.Duration
    covered_us: int
    at: _timestamp_pb2.Timestamp
    burn_rate_per_hour: _common_pb2.Money
    balance_runs_out_at: _timestamp_pb2.Timestamp
    provisional: _common_pb2.Money
    pack_time_left: _duration_pb2.Duration
    balance_lasts: _duration_pb2.Duration
    def __init__(self, session_id: _Optional[str] = ..., state: _Optional[_Union[RentalSession.State, str]] = ..., cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rated_cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rate_per_hour: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., prepaid: _Optional[bool] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., time_left: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., covered_us: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., burn_rate_per_hour: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., balance_runs_out_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., provisional: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., pack_time_left: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., balance_lasts: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ChargePiece(_message.Message):
    __slots__ = ("start", "end", "window", "quantity", "exact_amount", "note")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    EXACT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    window: str
    quantity: str
    exact_amount: str
    note: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window: _Optional[str] = ..., quantity: _Optional[str] = ..., exact_amount: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ChargeTrace(_message.Message):
    __slots__ = ("meter", "description", "quantity", "unit", "rate", "rate_unit", "exact_amount", "amount", "pieces")
    METER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RATE_UNIT_FIELD_NUMBER: _ClassVar[int]
    EXACT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PIECES_FIELD_NUMBER: _ClassVar[int]
    meter: str
    description: str
    quantity: str
    unit: str
    rate: str
    rate_unit: str
    exact_amount: str
    amount: _common_pb2.Money
    pieces: _containers.RepeatedCompositeFieldContainer[ChargePiece]
    def __init__(self, meter: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[str] = ..., unit: _Optional[str] = ..., rate: _Optional[str] = ..., rate_unit: _Optional[str] = ..., exact_amount: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., pieces: _Optional[_Iterable[_Union[ChargePiece, _Mapping]]] = ...) -> None: ...

class ReportRange(_message.Message):
    __slots__ = ("first_sequence", "last_sequence", "start", "end")
    FIRST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    first_sequence: int
    last_sequence: int
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, first_sequence: _Optional[int] = ..., last_sequence: _Optional[int] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class InvoicedLine(_message.Message):
    __slots__ = ("invoice_id", "period_start", "period_end", "meter", "description", "amount")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    meter: str
    description: str
    amount: _common_pb2.Money
    def __init__(self, invoice_id: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., meter: _Optional[str] = ..., description: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class SessionExplanation(_message.Message):
    __slots__ = ("session", "plan", "machine_class", "rules", "covered_us", "net_rx_bytes", "net_tx_bytes", "charges", "total", "reports", "invoiced")
    SESSION_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    NET_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    NET_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    CHARGES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    INVOICED_FIELD_NUMBER: _ClassVar[int]
    session: RentalSession
    plan: str
    machine_class: str
    rules: str
    covered_us: int
    net_rx_bytes: int
    net_tx_bytes: int
    charges: _containers.RepeatedCompositeFieldContainer[ChargeTrace]
    total: _common_pb2.Money
    reports: _containers.RepeatedCompositeFieldContainer[ReportRange]
    invoiced: _containers.RepeatedCompositeFieldContainer[InvoicedLine]
    def __init__(self, session: _Optional[_Union[RentalSession, _Mapping]] = ..., plan: _Optional[str] = ..., machine_class: _Optional[str] = ..., rules: _Optional[str] = ..., covered_us: _Optional[int] = ..., net_rx_bytes: _Optional[int] = ..., net_tx_bytes: _Optional[int] = ..., charges: _Optional[_Iterable[_Union[ChargeTrace, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reports: _Optional[_Iterable[_Union[ReportRange, _Mapping]]] = ..., invoiced: _Optional[_Iterable[_Union[InvoicedLine, _Mapping]]] = ...) -> None: ...

class RentalSession(_message.Message):
    __slots__ = ("session_id", "agent_id", "renter", "plan", "state", "started_at", "ended_at", "cost", "covered_us", "rated_at", "terms")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[RentalSession.State]
        OPEN: _ClassVar[RentalSession.State]
        STOPPED: _ClassVar[RentalSession.State]
    STATE_UNSPECIFIED: RentalSession.State
    OPEN: RentalSession.State
    STOPPED: RentalSession.State
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    RATED_AT_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    agent_id: str
    renter: str
    plan: str
    state: RentalSession.State
    started_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    cost: _common_pb2.Money
    covered_us: int
    rated_at: _timestamp_pb2.Timestamp
    terms: _plans_pb2.RentalTerms
    def __init__(self, session_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., renter: _Optional[str] = ..., plan: _Optional[str] = ..., state: _Optional[_Union[RentalSession.State, str]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cost: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., covered_us: _Optional[int] = ..., rated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., terms: _Optional[_Union[_plans_pb2.RentalTerms, _Mapping]] = ...) -> None: ...

class StartSessionRequest(_message.Message):
    __slots__ = ("agent_id", "renter", "plan", "terms")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    renter: str
    plan: str
    terms: _plans_pb2.RentalTerms
    def __init__(self, agent_id: _Optional[str] = ..., renter: _Optional[str] = ..., plan: _Optional[str] = ..., terms: _Optional[_Union[_plans_pb2.RentalTerms, _Mapping]] = ...) -> None: ...

class StopSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("renter", "agent_id", "open_only")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPEN_ONLY_FIELD_NUMBER: _ClassVar[int]
    renter: str
    agent_id: str
    open_only: bool
    def __init__(self, renter: _Optional[str] = ..., agent_id: _Optional[str] = ..., open_only: _Optional[bool] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions",)
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[RentalSession]
    def __init__(self, sessions: _Optional[_Iterable[_Union[RentalSession, _Mapping]]] = ...) -> None: ...
