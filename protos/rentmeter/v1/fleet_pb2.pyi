import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from protos.rentmeter.v1 import machines_pb2 as _machines_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetFleetRequest(_message.Message):
    __slots__ = ("host",)
    HOST_FIELD_NUMBER: _ClassVar[int]
    host: str
    def __init__(self, host: _Optional[str] = ...) -> None: ...

class Fleet(_message.Message):
    __slots__ = ("machines", "classes", "revenue_per_hour", "at")
    MACHINES_FIELD_NUMBER: _ClassVar[int]
    CLASSES_FIELD_NUMBER: _ClassVar[int]
    REVENUE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    machines: _containers.RepeatedCompositeFieldContainer[FleetMachine]
    classes: _containers.RepeatedCompositeFieldContainer[ClassCount]
    revenue_per_hour: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    at: _timestamp_pb2.Timestamp
    def __init__(self, machines: _Optional[_Iterable[_Union[FleetMachine, _Mapping]]] = ..., classes: _Optional[_Iterable[_Union[ClassCount, _Mapping]]] = ..., revenue_per_hour: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FleetMachine(_message.Message):
    __slots__ = ("machine", "session_id", "renter", "rate_per_hour", "cpu_utilization", "gpu_utilization_percent")
    MACHINE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    RATE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    CPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    GPU_UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    machine: _machines_pb2.Machine
    session_id: str
    renter: str
    rate_per_hour: _common_pb2.Money
    cpu_utilization: float
    gpu_utilization_percent: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, machine: _Optional[_Union[_machines_pb2.Machine, _Mapping]] = ..., session_id: _Optional[str] = ..., renter: _Optional[str] = ..., rate_per_hour: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., cpu_utilization: _Optional[float] = ..., gpu_utilization_percent: _Optional[_Iterable[int]] = ...) -> None: ...

class ClassCount(_message.Message):
    __slots__ = ("machine_class", "online", "offline", "rented", "revoked")
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_FIELD_NUMBER: _ClassVar[int]
    RENTED_FIELD_NUMBER: _ClassVar[int]
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    machine_class: str
    online: int
    offline: int
    rented: int
    revoked: int
    def __init__(self, machine_class: _Optional[str] = ..., online: _Optional[int] = ..., offline: _Optional[int] = ..., rented: _Optional[int] = ..., revoked: _Optional[int] = ...) -> None: ...

class GetEarningsRequest(_message.Message):
    __slots__ = ("start", "end", "period", "time_zone", "agent_id", "host")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    period: str
    time_zone: str
    agent_id: str
    host: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period: _Optional[str] = ..., time_zone: _Optional[str] = ..., agent_id: _Optional[str] = ..., host: _Optional[str] = ...) -> None: ...

class EarningsRow(_message.Message):
    __slots__ = ("agent_id", "period_start", "currency", "invoiced", "uninvoiced", "sessions", "rented_seconds")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    INVOICED_FIELD_NUMBER: _ClassVar[int]
    UNINVOICED_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    RENTED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    period_start: _timestamp_pb2.Timestamp
    currency: str
    invoiced: _common_pb2.Money
    uninvoiced: _common_pb2.Money
    sessions: int
    rented_seconds: float
    def __init__(self, agent_id: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., currency: _Optional[str] = ..., invoiced: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., uninvoiced: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., sessions: _Optional[int] = ..., rented_seconds: _Optional[float] = ...) -> None: ...

class Earnings(_message.Message):
    __slots__ = ("rows", "totals")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[EarningsRow]
    totals: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    def __init__(self, rows: _Optional[_Iterable[_Union[EarningsRow, _Mapping]]] = ..., totals: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ...) -> None: ...

class ListAlertsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Alert(_message.Message):
    __slots__ = ("kind", "subject", "message", "since", "count")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    kind: str
    subject: str
    message: str
    since: _timestamp_pb2.Timestamp
    count: int
    def __init__(self, kind: _Optional[str] = ..., subject: _Optional[str] = ..., message: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., count: _Optional[int] = ...) -> None: ...

class ListAlertsResponse(_message.Message):
    __slots__ = ("alerts",)
    ALERTS_FIELD_NUMBER: _ClassVar[int]
    alerts: _containers.RepeatedCompositeFieldContainer[Alert]
    def __init__(self, alerts: _Optional[_Iterable[_Union[Alert, _Mapping]]] = ...) -> None: ...
