import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetUsageSeriesRequest(_message.Message):
    __slots__ = ("agent_id", "session_id", "start", "end", "step")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    step: _duration_pb2.Duration
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class UsagePoint(_message.Message):
    __slots__ = ("start", "covered_us", "cpu_utilization", "net_rx_bytes", "net_tx_bytes", "peak_memory_used_bytes", "gpus")
    START_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    CPU_UTILIZATION_FIELD_NUMBER: _ClassVar[int]
    NET_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    NET_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    covered_us: int
    cpu_utilization: float
    net_rx_bytes: int
    net_tx_bytes: int
    peak_memory_used_bytes: int
    gpus: _containers.RepeatedCompositeFieldContainer[GpuUsage]
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., covered_us: _Optional[int] = ..., cpu_utilization: _Optional[float] = ..., net_rx_bytes: _Optional[int] = ..., net_tx_bytes: _Optional[int] = ..., peak_memory_used_bytes: _Optional[int] = ..., gpus: _Optional[_Iterable[_Union[GpuUsage, _Mapping]]] = ...) -> None: ...

class UsageSeries(_message.Message):
    __slots__ = ("agent_id", "start", "end", "step", "points")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    step: _duration_pb2.Duration
    points: _containers.RepeatedCompositeFieldContainer[UsagePoint]
    def __init__(self, agent_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., points: _Optional[_Iterable[_Union[UsagePoint, _Mapping]]] = ...) -> None: ...

class GetUsageRequest(_message.Message):
    __slots__ = ("agent_id", "session_id", "start", "end")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UsageSummary(_message.Message):
    __slots__ = ("agent_id", "start", "end", "covered_us", "cpu_busy_us", "net_rx_bytes", "net_tx_bytes", "disk_read_bytes", "disk_write_bytes", "peak_memory_used_bytes", "sample_count", "gpus")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    COVERED_US_FIELD_NUMBER: _ClassVar[int]
    CPU_BUSY_US_FIELD_NUMBER: _ClassVar[int]
    NET_RX_BYTES_FIELD_NUMBER: _ClassVar[int]
    NET_TX_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_READ_BYTES_FIELD_NUMBER: _ClassVar[int]
    DISK_WRITE_BYTES_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    GPUS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    covered_us: int
    cpu_busy_us: int
    net_rx_bytes: int
    net_tx_bytes: int
    disk_read_bytes: int
    disk_write_bytes: int
    peak_memory_used_bytes: int
    sample_count: int
    gpus: _containers.RepeatedCompositeFieldContainer[GpuUsage]
    def __init__(self, agent_id: _Optional[str] = ..., start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., covered_us: _Optional[int] = ..., cpu_busy_us: _Optional[int] = ..., net_rx_bytes: _Optional[int] = ..., net_tx_bytes: _Optional[int] = ..., disk_read_bytes: _Optional[int] = ..., disk_write_bytes: _Optional[int] = ..., peak_memory_used_bytes: _Optional[int] = ..., sample_count: _Optional[int] = ..., gpus: _Optional[_Iterable[_Union[GpuUsage, _Mapping]]] = ...) -> None: ...

class GpuUsage(_message.Message):
    __slots__ = ("index", "uuid", "average_utilization_percent", "energy_mj", "peak_memory_used_bytes")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    UUID_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_UTILIZATION_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ENERGY_MJ_FIELD_NUMBER: _ClassVar[int]
    PEAK_MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    index: int
    uuid: str
    average_utilization_percent: float
    energy_mj: int
    peak_memory_used_bytes: int
    def __init__(self, index: _Optional[int] = ..., uuid: _Optional[str] = ..., average_utilization_percent: _Optional[float] = ..., energy_mj: _Optional[int] = ..., peak_memory_used_bytes: _Optional[int] = ...) -> None: ...
