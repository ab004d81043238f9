import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OpenDisputeRequest(_message.Message):
    __slots__ = ("invoice_id", "line", "reason")
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    invoice_id: str
    line: int
    reason: str
    def __init__(self, invoice_id: _Optional[str] = ..., line: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes",)
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[Dispute]
    def __init__(self, disputes: _Optional[_Iterable[_Union[Dispute, _Mapping]]] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "with_evidence")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    WITH_EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    with_evidence: bool
    def __init__(self, dispute_id: _Optional[str] = ..., with_evidence: _Optional[bool] = ...) -> None: ...

class ResolveDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "decision", "amount", "reason")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    decision: str
    amount: str
    reason: str
    def __init__(self, dispute_id: _Optional[str] = ..., decision: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class Dispute(_message.Message):
    __slots__ = ("dispute_id", "invoice_id", "invoice_number", "line", "renter", "reason", "status", "opened_at", "line_description", "line_amount", "rerated", "report_count", "resolved_at", "resolution", "credit_note_number", "evidence", "evidence_filename")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    LINE_DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LINE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RERATED_FIELD_NUMBER: _ClassVar[int]
    REPORT_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_AT_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FILENAME_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    invoice_id: str
    invoice_number: str
    line: int
    renter: str
    reason: str
    status: str
    opened_at: _timestamp_pb2.Timestamp
    line_description: str
    line_amount: _common_pb2.Money
    rerated: _common_pb2.Money
    report_count: int
    resolved_at: _timestamp_pb2.Timestamp
    resolution: str
    credit_note_number: str
    evidence: bytes
    evidence_filename: str
    def __init__(self, dispute_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., invoice_number: _Optional[str] = ..., line: _Optional[int] = ..., renter: _Optional[str] = ..., reason: _Optional[str] = ..., status: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., line_description: _Optional[str] = ..., line_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., rerated: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., report_count: _Optional[int] = ..., resolved_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resolution: _Optional[str] = ..., credit_note_number: _Optional[str] = ..., evidence: _Optional[bytes] = ..., evidence_filename: _Optional[str] = ...) -> None: ...
