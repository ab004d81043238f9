import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BuyPackRequest(_message.Message):
    __slots__ = ("renter", "plan", "pack", "when_used_up", "idempotency_key")
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    PACK_FIELD_NUMBER: _ClassVar[int]
    WHEN_USED_UP_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    renter: str
    plan: str
    pack: str
    when_used_up: str
    idempotency_key: str
    def __init__(self, renter: _Optional[str] = ..., plan: _Optional[str] = ..., pack: _Optional[str] = ..., when_used_up: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class TimePack(_message.Message):
    __slots__ = ("id", "renter", "plan", "name", "price", "unlimited", "time_us", "used_us", "left_us", "window", "bought_at", "valid_until", "when_used_up", "state")
    ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    USED_US_FIELD_NUMBER: _ClassVar[int]
    LEFT_US_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    BOUGHT_AT_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    WHEN_USED_UP_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    id: int
    renter: str
    plan: str
    name: str
    price: _common_pb2.Money
    unlimited: bool
    time_us: int
    used_us: int
    left_us: int
    window: str
    bought_at: _timestamp_pb2.Timestamp
    valid_until: _timestamp_pb2.Timestamp
    when_used_up: str
    state: str
    def __init__(self, id: _Optional[int] = ..., renter: _Optional[str] = ..., plan: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., unlimited: _Optional[bool] = ..., time_us: _Optional[int] = ..., used_us: _Optional[int] = ..., left_us: _Optional[int] = ..., window: _Optional[str] = ..., bought_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., when_used_up: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class PackOffer(_message.Message):
    __slots__ = ("plan", "name", "price", "unlimited", "time_us", "valid_for_us", "window", "description")
    PLAN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    UNLIMITED_FIELD_NUMBER: _ClassVar[int]
    TIME_US_FIELD_NUMBER: _ClassVar[int]
    VALID_FOR_US_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    plan: str
    name: str
    price: _common_pb2.Money
    unlimited: bool
    time_us: int
    valid_for_us: int
    window: str
    description: str
    def __init__(self, plan: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., unlimited: _Optional[bool] = ..., time_us: _Optional[int] = ..., valid_for_us: _Optional[int] = ..., window: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class ListPacksRequest(_message.Message):
    __slots__ = ("renter",)
    RENTER_FIELD_NUMBER: _ClassVar[int]
    renter: str
    def __init__(self, renter: _Optional[str] = ...) -> None: ...

class ListPacksResponse(_message.Message):
    __slots__ = ("packs", "offers")
    PACKS_FIELD_NUMBER: _ClassVar[int]
    OFFERS_FIELD_NUMBER: _ClassVar[int]
    packs: _containers.RepeatedCompositeFieldContainer[TimePack]
    offers: _containers.RepeatedCompositeFieldContainer[PackOffer]
    def __init__(self, packs: _Optional[_Iterable[_Union[TimePack, _Mapping]]] = ..., offers: _Optional[_Iterable[_Union[PackOffer, _Mapping]]] = ...) -> None: ...

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
