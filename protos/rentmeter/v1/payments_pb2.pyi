import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartAgreementRequest(_message.Message):
    __slots__ = ("renter", "gateway", "client_ip")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    renter: str
    gateway: str
    client_ip: str
    def __init__(self, renter: _Optional[str] = ..., gateway: _Optional[str] = ..., client_ip: _Optional[str] = ...) -> None: ...

class PaymentAgreement(_message.Message):
    __slots__ = ("id", "gateway", "renter", "external_no", "agreement_no", "state", "sign_url", "created_at", "signed_at", "cancelled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_NO_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_NO_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SIGN_URL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SIGNED_AT_FIELD_NUMBER: _ClassVar[int]
    CANCELLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: int
    gateway: str
    renter: str
    external_no: str
    agreement_no: str
    state: str
    sign_url: str
    created_at: _timestamp_pb2.Timestamp
    signed_at: _timestamp_pb2.Timestamp
    cancelled_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., gateway: _Optional[str] = ..., renter: _Optional[str] = ..., external_no: _Optional[str] = ..., agreement_no: _Optional[str] = ..., state: _Optional[str] = ..., sign_url: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., signed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancelled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAgreementsRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class ListAgreementsResponse(_message.Message):
    __slots__ = ("agreements",)
    AGREEMENTS_FIELD_NUMBER: _ClassVar[int]
    agreements: _containers.RepeatedCompositeFieldContainer[PaymentAgreement]
    def __init__(self, agreements: _Optional[_Iterable[_Union[PaymentAgreement, _Mapping]]] = ...) -> None: ...

class CancelAgreementRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class Reconciliation(_message.Message):
    __slots__ = ("gateway", "date", "matched", "mismatches", "ran_at")
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    RAN_AT_FIELD_NUMBER: _ClassVar[int]
    gateway: str
    date: str
    matched: int
    mismatches: int
    ran_at: _timestamp_pb2.Timestamp
    def __init__(self, gateway: _Optional[str] = ..., date: _Optional[str] = ..., matched: _Optional[int] = ..., mismatches: _Optional[int] = ..., ran_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListReconciliationsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListReconciliationsResponse(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[Reconciliation]
    def __init__(self, runs: _Optional[_Iterable[_Union[Reconciliation, _Mapping]]] = ...) -> None: ...

class CreateOrderRequest(_message.Message):
    __slots__ = ("renter", "gateway", "method", "amount", "currency", "idempotency_key", "invoice_id", "client_ip")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IP_FIELD_NUMBER: _ClassVar[int]
    renter: str
    gateway: str
    method: str
    amount: str
    currency: str
    idempotency_key: str
    invoice_id: str
    client_ip: str
    def __init__(self, renter: _Optional[str] = ..., gateway: _Optional[str] = ..., method: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., invoice_id: _Optional[str] = ..., client_ip: _Optional[str] = ...) -> None: ...

class GatewayOrder(_message.Message):
    __slots__ = ("out_trade_no", "gateway", "method", "purpose", "renter", "invoice_id", "amount", "state", "pay_url", "trade_no", "refunded", "created_at", "expires_at", "paid_at")
    OUT_TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAY_URL_FIELD_NUMBER: _ClassVar[int]
    TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    PAID_AT_FIELD_NUMBER: _ClassVar[int]
    out_trade_no: str
    gateway: str
    method: str
    purpose: str
    renter: str
    invoice_id: str
    amount: _common_pb2.Money
    state: str
    pay_url: str
    trade_no: str
    refunded: _common_pb2.Money
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    paid_at: _timestamp_pb2.Timestamp
    def __init__(self, out_trade_no: _Optional[str] = ..., gateway: _Optional[str] = ..., method: _Optional[str] = ..., purpose: _Optional[str] = ..., renter: _Optional[str] = ..., invoice_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., state: _Optional[str] = ..., pay_url: _Optional[str] = ..., trade_no: _Optional[str] = ..., refunded: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., paid_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("out_trade_no",)
    OUT_TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    out_trade_no: str
    def __init__(self, out_trade_no: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("renter", "state")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    renter: str
    state: str
    def __init__(self, renter: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders",)
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[GatewayOrder]
    def __init__(self, orders: _Optional[_Iterable[_Union[GatewayOrder, _Mapping]]] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("gateway", "headers", "body")
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    gateway: str
    headers: _containers.RepeatedCompositeFieldContainer[Header]
    body: bytes
    def __init__(self, gateway: _Optional[str] = ..., headers: _Optional[_Iterable[_Union[Header, _Mapping]]] = ..., body: _Optional[bytes] = ...) -> None: ...

class NotificationReply(_message.Message):
    __slots__ = ("http_status", "content_type", "body")
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    http_status: int
    content_type: str
    body: bytes
    def __init__(self, http_status: _Optional[int] = ..., content_type: _Optional[str] = ..., body: _Optional[bytes] = ...) -> None: ...

class RefundOrderRequest(_message.Message):
    __slots__ = ("out_trade_no", "amount", "reason")
    OUT_TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    out_trade_no: str
    amount: str
    reason: str
    def __init__(self, out_trade_no: _Optional[str] = ..., amount: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class GatewayRefund(_message.Message):
    __slots__ = ("out_refund_no", "out_trade_no", "amount", "state", "credit_note_id")
    OUT_REFUND_NO_FIELD_NUMBER: _ClassVar[int]
    OUT_TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREDIT_NOTE_ID_FIELD_NUMBER: _ClassVar[int]
    out_refund_no: str
    out_trade_no: str
    amount: _common_pb2.Money
    state: str
    credit_note_id: str
    def __init__(self, out_refund_no: _Optional[str] = ..., out_trade_no: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., state: _Optional[str] = ..., credit_note_id: _Optional[str] = ...) -> None: ...

class WithdrawWalletRequest(_message.Message):
    __slots__ = ("renter", "amount", "currency", "reason")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    renter: str
    amount: str
    currency: str
    reason: str
    def __init__(self, renter: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class WithdrawWalletResponse(_message.Message):
    __slots__ = ("refunds",)
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    refunds: _containers.RepeatedCompositeFieldContainer[GatewayRefund]
    def __init__(self, refunds: _Optional[_Iterable[_Union[GatewayRefund, _Mapping]]] = ...) -> None: ...

class ReconcileRequest(_message.Message):
    __slots__ = ("gateway", "date", "statement")
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_FIELD_NUMBER: _ClassVar[int]
    gateway: str
    date: str
    statement: bytes
    def __init__(self, gateway: _Optional[str] = ..., date: _Optional[str] = ..., statement: _Optional[bytes] = ...) -> None: ...

class Mismatch(_message.Message):
    __slots__ = ("id", "gateway", "date", "kind", "reference", "trade_no", "gateway_amount", "ledger_amount", "resolved", "resolution", "note", "resolved_by")
    ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    TRADE_NO_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    LEDGER_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_BY_FIELD_NUMBER: _ClassVar[int]
    id: int
    gateway: str
    date: str
    kind: str
    reference: str
    trade_no: str
    gateway_amount: _common_pb2.Money
    ledger_amount: _common_pb2.Money
    resolved: bool
    resolution: str
    note: str
    resolved_by: str
    def __init__(self, id: _Optional[int] = ..., gateway: _Optional[str] = ..., date: _Optional[str] = ..., kind: _Optional[str] = ..., reference: _Optional[str] = ..., trade_no: _Optional[str] = ..., gateway_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., ledger_amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., resolved: _Optional[bool] = ..., resolution: _Optional[str] = ..., note: _Optional[str] = ..., resolved_by: _Optional[str] = ...) -> None: ...

class ReconcileReport(_message.Message):
    __slots__ = ("matched", "mismatches")
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    matched: int
    mismatches: _containers.RepeatedCompositeFieldContainer[Mismatch]
    def __init__(self, matched: _Optional[int] = ..., mismatches: _Optional[_Iterable[_Union[Mismatch, _Mapping]]] = ...) -> None: ...

class ListMismatchesRequest(_message.Message):
    __slots__ = ("all",)
    ALL_FIELD_NUMBER: _ClassVar[int]
    all: bool
    def __init__(self, all: _Optional[bool] = ...) -> None: ...

class ResolveMismatchRequest(_message.Message):
    __slots__ = ("id", "action", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: int
    action: str
    note: str
    def __init__(self, id: _Optional[int] = ..., action: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ListGatewaysRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListGatewaysResponse(_message.Message):
    __slots__ = ("gateways", "agreement_gateways")
    GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    AGREEMENT_GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    gateways: _containers.RepeatedScalarFieldContainer[str]
    agreement_gateways: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, gateways: _Optional[_Iterable[str]] = ..., agreement_gateways: _Optional[_Iterable[str]] = ...) -> None: ...
