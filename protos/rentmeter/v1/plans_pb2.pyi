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

class RentalTerms(_message.Message):
    __slots__ = ("machine_class", "service_level", "member_tier", "coupon", "resources")
    class ResourcesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    SERVICE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    MEMBER_TIER_FIELD_NUMBER: _ClassVar[int]
    COUPON_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    machine_class: str
    service_level: str
    member_tier: str
    coupon: str
    resources: _containers.ScalarMap[str, str]
    def __init__(self, machine_class: _Optional[str] = ..., service_level: _Optional[str] = ..., member_tier: _Optional[str] = ..., coupon: _Optional[str] = ..., resources: _Optional[_Mapping[str, str]] = ...) -> None: ...

class QuoteRequest(_message.Message):
    __slots__ = ("plan", "machine_class", "start", "duration", "expected_rx_bytes", "expected_tx_bytes", "terms", "expected_busy_cores", "expected_memory_bytes", "gpus", "document")
    class GpusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PLAN_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_BUSY_CORES_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    plan: str
    machine_class: str
    start: _timestamp_pb2.Timestamp
    duration: _duration_pb2.Duration
    expected_rx_bytes: int
    expected_tx_bytes: int
    terms: RentalTerms
    expected_busy_cores: int
    expected_memory_bytes: int
    gpus: _containers.ScalarMap[str, int]
    document: str
    def __init__(self, plan: _Optional[str] = ..., machine_class: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., expected_rx_bytes: _Optional[int] = ..., expected_tx_bytes: _Optional[int] = ..., terms: _Optional[_Union[RentalTerms, _Mapping]] = ..., expected_busy_cores: _Optional[int] = ..., expected_memory_bytes: _Optional[int] = ..., gpus: _Optional[_Mapping[str, int]] = ..., document: _Optional[str] = ...) -> None: ...

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

class PlanVersion(_message.Message):
    __slots__ = ("number", "effective_from", "document", "rules", "created_at")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    EFFECTIVE_FROM_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    number: int
    effective_from: _timestamp_pb2.Timestamp
    document: str
    rules: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, number: _Optional[int] = ..., effective_from: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., document: _Optional[str] = ..., rules: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PricePlan(_message.Message):
    __slots__ = ("name", "currency", "created_at", "versions")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    currency: str
    created_at: _timestamp_pb2.Timestamp
    versions: _containers.RepeatedCompositeFieldContainer[PlanVersion]
    def __init__(self, name: _Optional[str] = ..., currency: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., versions: _Optional[_Iterable[_Union[PlanVersion, _Mapping]]] = ...) -> None: ...

class CreatePlanRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: str
    def __init__(self, document: _Optional[str] = ...) -> None: ...

class AddPlanVersionRequest(_message.Message):
    __slots__ = ("name", "document")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    document: str
    def __init__(self, name: _Optional[str] = ..., document: _Optional[str] = ...) -> None: ...

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
