import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from protos.rentmeter.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RotateKeyRequest(_message.Message):
    __slots__ = ("agent_id", "new_public_key", "last_old_sequence", "signature")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NEW_PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    LAST_OLD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    new_public_key: bytes
    last_old_sequence: int
    signature: bytes
    def __init__(self, agent_id: _Optional[str] = ..., new_public_key: _Optional[bytes] = ..., last_old_sequence: _Optional[int] = ..., signature: _Optional[bytes] = ...) -> None: ...

class RotateKeyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class EnrollRequest(_message.Message):
    __slots__ = ("token", "public_key", "facts")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    token: str
    public_key: bytes
    facts: _common_pb2.MachineFacts
    def __init__(self, token: _Optional[str] = ..., public_key: _Optional[bytes] = ..., facts: _Optional[_Union[_common_pb2.MachineFacts, _Mapping]] = ...) -> None: ...

class EnrollResponse(_message.Message):
    __slots__ = ("agent_id", "machine_class")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MACHINE_CLASS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    machine_class: str
    def __init__(self, agent_id: _Optional[str] = ..., machine_class: _Optional[str] = ...) -> None: ...

class LoginSession(_message.Message):
    __slots__ = ("user", "terminal", "host", "started")
    USER_FIELD_NUMBER: _ClassVar[int]
    TERMINAL_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    STARTED_FIELD_NUMBER: _ClassVar[int]
    user: str
    terminal: str
    host: str
    started: _timestamp_pb2.Timestamp
    def __init__(self, user: _Optional[str] = ..., terminal: _Optional[str] = ..., host: _Optional[str] = ..., started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Sample(_message.Message):
    __slots__ = ("start", "end", "cpu_busy_us", "cpu_utilization", "memory_used_bytes", "memory_total_bytes", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes", "gpus", "host_energy_mj")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    CPU_BUSY_US_FIELD_NUMBER: _ClassVar[int]
    CPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_READ_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_WRITE_BYTES_FIELD_NUMBER: _ClassVar[int]
    NET_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    NET_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    HOST_ENERGY_MJ_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    cpu_busy_us: int
    cpu_utilization: float
    memory_used_bytes: int
    memory_total_bytes: int
    disk_read_bytes: int
    disk_write_bytes: int
    net_rx_bytes: int
    net_tx_bytes: int
    gpus: _containers.RepeatedCompositeFieldContainer[GpuSample]
    host_energy_mj: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cpu_busy_us: _Optional[int] = ..., cpu_utilization: _Optional[float] = ..., memory_used_bytes: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., disk_read_bytes: _Optional[int] = ..., disk_write_bytes: _Optional[int] = ..., net_rx_bytes: _Optional[int] = ..., net_tx_bytes: _Optional[int] = ..., gpus: _Optional[_Iterable[_Union[GpuSample, _Mapping]]] = ..., host_energy_mj: _Optional[int] = ...) -> None: ...

class GpuSample(_message.Message):
    __slots__ = ("index", "uuid", "utilization_percent", "memory_utilization_percent", "memory_used_bytes", "memory_total_bytes", "power_mw", "energy_mj", "processes")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    POWER_MW_FIELD_NUMBER: _ClassVar[int]
    ENERGY_MJ_FIELD_NUMBER: _ClassVar[int]
    PROCESSES_FIELD_NUMBER: _ClassVar[int]
    index: int
    uuid: str
    utilization_percent: int
    memory_utilization_percent: int
    memory_used_bytes: int
    memory_total_bytes: int
    power_mw: int
    energy_mj: int
    processes: _containers.RepeatedCompositeFieldContainer[GpuProcess]
    def __init__(self, index: _Optional[int] = ..., uuid: _Optional[str] = ..., utilization_percent: _Optional[int] = ..., memory_utilization_percent: _Optional[int] = ..., memory_used_bytes: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., power_mw: _Optional[int] = ..., energy_mj: _Optional[int] = ..., processes: _Optional[_Iterable[_Union[GpuProcess, _Mapping]]] = ...) -> None: ...

class GpuProcess(_message.Message):
    __slots__ = ("pid", "used_memory_bytes")
    PID_FIELD_NUMBER: _ClassVar[int]
    USED_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    pid: int
    used_memory_bytes: int
    def __init__(self, pid: _Optional[int] = ..., used_memory_bytes: _Optional[int] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ("agent_id", "sequence", "start", "end", "samples", "logins", "boot_time", "rental_session_id", "gaps")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    LOGINS_FIELD_NUMBER: _ClassVar[int]
    BOOT_TIME_FIELD_NUMBER: _ClassVar[int]
    RENTAL_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    GAPS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    sequence: int
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    samples: _containers.RepeatedCompositeFieldContainer[Sample]
    logins: _containers.RepeatedCompositeFieldContainer[LoginSession]
    boot_time: _timestamp_pb2.Timestamp
    rental_session_id: str
    gaps: _containers.RepeatedCompositeFieldContainer[ReportGap]
    def __init__(self, agent_id: _Optional[str] = ..., sequence: _Optional[int] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., samples: _Optional[_Iterable[_Union[Sample, _Mapping]]] = ..., logins: _Optional[_Iterable[_Union[LoginSession, _Mapping]]] = ..., boot_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rental_session_id: _Optional[str] = ..., gaps: _Optional[_Iterable[_Union[ReportGap, _Mapping]]] = ...) -> None: ...

class ReportGap(_message.Message):
    __slots__ = ("kind", "sequence", "start", "end", "reason")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[ReportGap.Kind]
        FORGED: _ClassVar[ReportGap.Kind]
        UNREADABLE: _ClassVar[ReportGap.Kind]
        SPOOL_LOST: _ClassVar[ReportGap.Kind]
    KIND_UNSPECIFIED: ReportGap.Kind
    FORGED: ReportGap.Kind
    UNREADABLE: ReportGap.Kind
    SPOOL_LOST: ReportGap.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    kind: ReportGap.Kind
    sequence: int
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, kind: _Optional[_Union[ReportGap.Kind, str]] = ..., sequence: _Optional[int] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class SignedReport(_message.Message):
    __slots__ = ("agent_id", "payload", "signature", "sequence", "more", "live_tick")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MORE_FIELD_NUMBER: _ClassVar[int]
    LIVE_TICK_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    payload: bytes
    signature: bytes
    sequence: int
    more: _containers.RepeatedCompositeFieldContainer[SignedReport]
    live_tick: LiveTick
    def __init__(self, agent_id: _Optional[str] = ..., payload: _Optional[bytes] = ..., signature: _Optional[bytes] = ..., sequence: _Optional[int] = ..., more: _Optional[_Iterable[_Union[SignedReport, _Mapping]]] = ..., live_tick: _Optional[_Union[LiveTick, _Mapping]] = ...) -> None: ...

class LiveTick(_message.Message):
    __slots__ = ("rental_session_id", "usage")
    RENTAL_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    rental_session_id: str
    usage: Sample
    def __init__(self, rental_session_id: _Optional[str] = ..., usage: _Optional[_Union[Sample, _Mapping]] = ...) -> None: ...

class ReportAck(_message.Message):
    __slots__ = ("sequence", "status", "reason")
    class Status(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATUS_UNSPECIFIED: _ClassVar[ReportAck.Status]
        ACCEPTED: _ClassVar[ReportAck.Status]
        DUPLICATE: _ClassVar[ReportAck.Status]
        REJECTED: _ClassVar[ReportAck.Status]
        CONFLICT: _ClassVar[ReportAck.Status]
        FORGED: _ClassVar[ReportAck.Status]
    STATUS_UNSPECIFIED: ReportAck.Status
    ACCEPTED: ReportAck.Status
    DUPLICATE: ReportAck.Status
    REJECTED: ReportAck.Status
    CONFLICT: ReportAck.Status
    FORGED: ReportAck.Status
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    status: ReportAck.Status
    reason: str
    def __init__(self, sequence: _Optional[int] = ..., status: _Optional[_Union[ReportAck.Status, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class CollectorMessage(_message.Message):
    __slots__ = ("acks", "controls", "last_stored_sequence", "reads_more", "reads_live_ticks")
    ACKS_FIELD_NUMBER: _ClassVar[int]
    CONTROLS_FIELD_NUMBER: _ClassVar[int]
    LAST_STORED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    READS_MORE_FIELD_NUMBER: _ClassVar[int]
    READS_LIVE_TICKS_FIELD_NUMBER: _ClassVar[int]
    acks: _containers.RepeatedCompositeFieldContainer[ReportAck]
    controls: _containers.RepeatedCompositeFieldContainer[Control]
    last_stored_sequence: int
    reads_more: bool
    reads_live_ticks: bool
    def __init__(self, acks: _Optional[_Iterable[_Union[ReportAck, _Mapping]]] = ..., controls: _Optional[_Iterable[_Union[Control, _Mapping]]] = ..., last_stored_sequence: _Optional[int] = ..., reads_more: _Optional[bool] = ..., reads_live_ticks: _Optional[bool] = ...) -> None: ...

class Control(_message.Message):
    __slots__ = ("kind", "session_id", "renter", "message", "at")
    class Kind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        KIND_UNSPECIFIED: _ClassVar[Control.Kind]
        SESSION_STARTED: _ClassVar[Control.Kind]
        SESSION_STOPPED: _ClassVar[Control.Kind]
        LOW_BALANCE: _ClassVar[Control.Kind]
        LOCK_NOW: _ClassVar[Control.Kind]
        IDLE_WARNING: _ClassVar[Control.Kind]
    KIND_UNSPECIFIED: Control.Kind
    SESSION_STARTED: Control.Kind
    SESSION_STOPPED: Control.Kind
    LOW_BALANCE: Control.Kind
    LOCK_NOW: Control.Kind
    IDLE_WARNING: Control.Kind
    KIND_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    RENTER_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    kind: Control.Kind
    session_id: str
    renter: str
    message: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[Control.Kind, str]] = ..., session_id: _Optional[str] = ..., renter: _Optional[str] = ..., message: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
