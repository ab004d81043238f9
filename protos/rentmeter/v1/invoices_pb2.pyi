import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from protos.rentmeter.v1 import jobs_pb2 as _jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id", "amount", "reason")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    amount: str
    reason: str
    def __init__(self, invoice_id: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class CreditNote(_message.Message):
    __slots__ = ("credit_note_id", "number", "invoice_id", "renter", "amount", "tax", "reason", "issued_at")
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    credit_note_id: str
    number: str
    invoice_id: str
    renter: str
    amount: _common_pb2.Money
    tax: _common_pb2.Money
    reason: str
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, credit_note_id: _Optional[str] = ..., number: _Optional[str] = ..., invoice_id: _Optional[str] = ..., renter: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reason: _Optional[str] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListCreditNotesRequest(_message.Message):
    __slots__ = ("invoice_id", "renter")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    renter: str
    def __init__(self, invoice_id: _Optional[str] = ..., renter: _Optional[str] = ...) -> None: ...

class ListCreditNotesResponse(_message.Message):
    __slots__ = ("credit_notes",)
    CREDIT_NOTES_FIELD_NUMBER: _ClassVar[int]
    credit_notes: _containers.RepeatedCompositeFieldContainer[CreditNote]
    def __init__(self, credit_notes: _Optional[_Iterable[_Union[CreditNote, _Mapping]]] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("invoice_id", "invoice_number", "renter", "provider", "amount", "succeeded", "reference", "error", "at")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    invoice_number: str
    renter: str
    provider: str
    amount: _common_pb2.Money
    succeeded: bool
    reference: str
    error: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, invoice_id: _Optional[str] = ..., invoice_number: _Optional[str] = ..., renter: _Optional[str] = ..., provider: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., succeeded: _Optional[bool] = ..., reference: _Optional[str] = ..., error: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPaymentsRequest(_message.Message):
    __slots__ = ("invoice_id", "renter", "failed_only")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    FAILED_ONLY_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    renter: str
    failed_only: bool
    def __init__(self, invoice_id: _Optional[str] = ..., renter: _Optional[str] = ..., failed_only: _Optional[bool] = ...) -> None: ...

class ListPaymentsResponse(_message.Message):
    __slots__ = ("payments",)
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    def __init__(self, payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ...) -> None: ...

class PayInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id", "reference")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    reference: str
    def __init__(self, invoice_id: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class RenderInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id", "format")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    format: str
    def __init__(self, invoice_id: _Optional[str] = ..., format: _Optional[str] = ...) -> None: ...

class InvoiceDocument(_message.Message):
    __slots__ = ("filename", "content_type", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    content: bytes
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class InvoiceLine(_message.Message):
    __slots__ = ("session_id", "meter", "description", "quantity", "unit", "rate", "rate_unit", "amount", "basis", "covered_us", "uncovered_us", "position")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    METER_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RATE_UNIT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BASIS_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    UNCOVERED_US_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    meter: str
    description: str
    quantity: str
    unit: str
    rate: str
    rate_unit: str
    amount: _common_pb2.Money
    basis: str
    covered_us: int
    uncovered_us: int
    position: int
    def __init__(self, session_id: _Optional[str] = ..., meter: _Optional[str] = ..., description: _Optional[str] = ..., quantity: _Optional[str] = ..., unit: _Optional[str] = ..., rate: _Optional[str] = ..., rate_unit: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., basis: _Optional[str] = ..., covered_us: _Optional[int] = ..., uncovered_us: _Optional[int] = ..., position: _Optional[int] = ...) -> None: ...

class Invoice(_message.Message):
    __slots__ = ("invoice_id", "renter", "currency", "period_start", "period_end", "issued_at", "lines", "total", "number", "net", "tax", "paid_at", "collection_attempts", "next_collection_at", "time_zone")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_COLLECTION_AT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    renter: str
    currency: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    issued_at: _timestamp_pb2.Timestamp
    lines: _containers.RepeatedCompositeFieldContainer[InvoiceLine]
    total: _common_pb2.Money
    number: str
    net: _common_pb2.Money
    tax: _common_pb2.Money
    paid_at: _timestamp_pb2.Timestamp
    collection_attempts: int
    next_collection_at: _timestamp_pb2.Timestamp
    time_zone: str
    def __init__(self, invoice_id: _Optional[str] = ..., renter: _Optional[str] = ..., currency: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., lines: _Optional[_Iterable[_Union[InvoiceLine, _Mapping]]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., number: _Optional[str] = ..., net: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., paid_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., collection_attempts: _Optional[int] = ..., next_collection_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices",)
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("invoice_id",)
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    def __init__(self, invoice_id: _Optional[str] = ...) -> None: ...

class CloseInvoicesRequest(_message.Message):
    __slots__ = ("renter", "until", "invoice_now")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NOW_FIELD_NUMBER: _ClassVar[int]
    renter: str
    until: _timestamp_pb2.Timestamp
    invoice_now: bool
    def __init__(self, renter: _Optional[str] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., invoice_now: _Optional[bool] = ...) -> None: ...

class CloseInvoicesResponse(_message.Message):
    __slots__ = ("invoices", "failures")
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[Invoice]
    failures: _containers.RepeatedCompositeFieldContainer[_jobs_pb2.JobFailure]
    def __init__(self, invoices: _Optional[_Iterable[_Union[Invoice, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[_jobs_pb2.JobFailure, _Mapping]]] = ...) -> None: ...
