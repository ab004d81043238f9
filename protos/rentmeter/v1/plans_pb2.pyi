import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from protos.rentmeter.v1 import invoices_pb2 as _invoices_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QuoteRequest(_message.Message):
    __slots__ = ("plan", "machine_class", "start", "duration", "expected_rx_bytes", "expected_tx_bytes")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    plan: str
    machine_class: str
    start: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    expected_rx_bytes: int
    expected_tx_bytes: int
    def __init__(self, plan: _Optional[str] = ..., machine_class: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., expected_rx_bytes: _Optional[int] = ..., expected_tx_bytes: _Optional[int] = ...) -> None: ...

class PriceQuote(_message.Message):
    __slots__ = ("plan", "machine_class", "start", "end", "lines", "total")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    plan: str
    machine_class: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    lines: _containers.RepeatedCompositeFieldContainer[_invoices_pb2.InvoiceLine]
    total: _common_pb2.Money
    def __init__(self, plan: _Optional[str] = ..., machine_class: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[_invoices_pb2.InvoiceLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class PricePlan(_message.Message):
    __slots__ = ("name", "currency", "hourly_rates", "traffic_in_per_gb", "traffic_out_per_gb", "created_at", "increment", "minimum")
    class HourlyRatesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    HOURLY_RATES_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_IN_PER_GB_FIELD_NUMBER: _ClassVar[int]
    TRAFFIC_OUT_PER_GB_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    INCREMENT_FIELD_NUMBER: _ClassVar[int]
    MINIMUM_FIELD_NUMBER: _ClassVar[int]
    name: str
    currency: str
    hourly_rates: _containers.ScalarMap[str, str]
    traffic_in_per_gb: str
    traffic_out_per_gb: str
    created_at: _timestamp_pb2.Timestamp
    increment: _duration_pb2.Duration
    minimum: _duration_pb2.Duration
    def __init__(self, name: _Optional[str] = ..., currency: _Optional[str] = ..., hourly_rates: _Optional[_Mapping[str, str]] = ..., traffic_in_per_gb: _Optional[str] = ..., traffic_out_per_gb: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., increment: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., minimum: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CreatePlanRequest(_message.Message):
    __slots__ = ("plan",)
    PLAN_FIELD_NUMBER: _ClassVar[int]
    plan: PricePlan
    def __init__(self, plan: _Optional[_Union[PricePlan, _Mapping]] = ...) -> None: ...

class ListPlansRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListPlansResponse(_message.Message):
    __slots__ = ("plans",)
    PLANS_FIELD_NUMBER: _ClassVar[int]
    plans: _containers.RepeatedCompositeFieldContainer[PricePlan]
    def __init__(self, plans: _Optional[_Iterable[_Union[PricePlan, _Mapping]]] = ...) -> None: ...

class GetPlanRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
