import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AdjustWalletRequest(_message.Message):
    __slots__ = ("renter", "amount", "currency", "reason", "idempotency_key")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    renter: str
    amount: str
    currency: str
    reason: str
    idempotency_key: str
    def __init__(self, renter: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class TopUpRequest(_message.Message):
    __slots__ = ("renter", "amount", "currency", "idempotency_key")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    renter: str
    amount: str
    currency: str
    idempotency_key: str
    def __init__(self, renter: _Optional[str] = ..., amount: _Optional[str] = ..., currency: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class GetWalletRequest(_message.Message):
    __slots__ = ("renter", "currency")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    renter: str
    currency: str
    def __init__(self, renter: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("transaction_id", "kind", "reference", "account", "amount", "at")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    transaction_id: int
    kind: str
    reference: str
    account: str
    amount: _common_pb2.Money
    at: _timestamp_pb2.Timestamp
    def __init__(self, transaction_id: _Optional[int] = ..., kind: _Optional[str] = ..., reference: _Optional[str] = ..., account: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Wallet(_message.Message):
    __slots__ = ("renter", "prepaid", "balance", "held", "spendable", "entries")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PREPAID_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    SPENDABLE_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    renter: str
    prepaid: bool
    balance: _common_pb2.Money
    held: _common_pb2.Money
    spendable: _common_pb2.Money
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    def __init__(self, renter: _Optional[str] = ..., prepaid: _Optional[bool] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., held: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., spendable: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ...) -> None: ...

class CheckLedgerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class LedgerCheck(_message.Message):
    __slots__ = ("balanced", "transactions", "entries", "debits", "credits", "unbalanced_transactions")
    BALANCED_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    DEBITS_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    UNBALANCED_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    balanced: bool
    transactions: int
    entries: int
    debits: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    credits: _containers.RepeatedCompositeFieldContainer[_common_pb2.Money]
    unbalanced_transactions: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, balanced: _Optional[bool] = ..., transactions: _Optional[int] = ..., entries: _Optional[int] = ..., debits: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., credits: _Optional[_Iterable[_Union[_common_pb2.Money, _Mapping]]] = ..., unbalanced_transactions: _Optional[_Iterable[int]] = ...) -> None: ...
