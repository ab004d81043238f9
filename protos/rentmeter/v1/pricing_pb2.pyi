import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetPriceScheduleRequest(_message.Message):
    __slots__ = ("machine_class", "hours", "plan")
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    machine_class: str
    hours: int
    plan: str
    def __init__(self, machine_class: _Optional[str] = ..., hours: _Optional[int] = ..., plan: _Optional[str] = ...) -> None: ...

class PriceSchedules(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[PriceSchedule]
    def __init__(self, schedules: _Optional[_Iterable[_Union[PriceSchedule, _Mapping]]] = ...) -> None: ...

class PriceSchedule(_message.Message):
    __slots__ = ("plan", "currency", "machine_class", "locked_for", "steps")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    LOCKED_FOR_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    plan: str
    currency: str
    machine_class: str
    locked_for: str
    steps: _containers.RepeatedCompositeFieldContainer[PriceStep]
    def __init__(self, plan: _Optional[str] = ..., currency: _Optional[str] = ..., machine_class: _Optional[str] = ..., locked_for: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[PriceStep, _Mapping]]] = ...) -> None: ...

class PriceStep(_message.Message):
    __slots__ = ("starts_at", "ends_at", "multiplier", "expected_occupancy", "price_per_hour")
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_OCCUPANCY_FIELD_NUMBER: _ClassVar[int]
    PRICE_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    multiplier: str
    expected_occupancy: str
    price_per_hour: str
    def __init__(self, starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., multiplier: _Optional[str] = ..., expected_occupancy: _Optional[str] = ..., price_per_hour: _Optional[str] = ...) -> None: ...
