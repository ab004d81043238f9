import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RenterExport(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class EraseRenterResponse(_message.Message):
    __slots__ = ("reports_cleared",)
    REPORTS_CLEARED_FIELD_NUMBER: _ClassVar[int]
    reports_cleared: int
    def __init__(self, reports_cleared: _Optional[int] = ...) -> None: ...

class Renter(_message.Message):
    __slots__ = ("renter", "prepaid", "billing_cycle", "cycle_anchor", "invoiced_until", "next_invoice_at", "email", "created_at", "payment_method", "payment_customer", "time_zone")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PREPAID_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    CYCLE_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    INVOICED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    NEXT_INVOICE_AT_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    renter: str
    prepaid: bool
    billing_cycle: str
    cycle_anchor: _timestamp_pb2.Timestamp
    invoiced_until: _timestamp_pb2.Timestamp
    next_invoice_at: _timestamp_pb2.Timestamp
    email: str
    created_at: _timestamp_pb2.Timestamp
    payment_method: str
    payment_customer: str
    time_zone: str
    def __init__(self, renter: _Optional[str] = ..., prepaid: _Optional[bool] = ..., billing_cycle: _Optional[str] = ..., cycle_anchor: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., invoiced_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_invoice_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., email: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., payment_method: _Optional[str] = ..., payment_customer: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ListRentersRequest(_message.Message):
    __slots__ = ("query", "after", "limit")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    query: str
    after: str
    limit: int
    def __init__(self, query: _Optional[str] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRentersResponse(_message.Message):
    __slots__ = ("renters",)
    RENTERS_FIELD_NUMBER: _ClassVar[int]
    renters: _containers.RepeatedCompositeFieldContainer[Renter]
    def __init__(self, renters: _Optional[_Iterable[_Union[Renter, _Mapping]]] = ...) -> None: ...

class GetRenterRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class UpdateRenterRequest(_message.Message):
    __slots__ = ("renter", "billing_cycle", "cycle_anchor", "email", "payment_method", "payment_customer", "payment_source", "time_zone")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    BILLING_CYCLE_FIELD_NUMBER: _ClassVar[int]
    CYCLE_ANCHOR_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    renter: str
    billing_cycle: str
    cycle_anchor: _timestamp_pb2.Timestamp
    email: str
    payment_method: str
    payment_customer: str
    payment_source: str
    time_zone: str
    def __init__(self, renter: _Optional[str] = ..., billing_cycle: _Optional[str] = ..., cycle_anchor: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., email: _Optional[str] = ..., payment_method: _Optional[str] = ..., payment_customer: _Optional[str] = ..., payment_source: _Optional[str] = ..., time_zone: _Optional[str] = ...) -> None: ...
