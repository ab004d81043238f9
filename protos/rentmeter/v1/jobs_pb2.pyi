import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetJobStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class JobStatus(_message.Message):
    __slots__ = ("jobs", "failures")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[JobState]
    failures: _containers.RepeatedCompositeFieldContainer[JobFailure]
    def __init__(self, jobs: _Optional[_Iterable[_Union[JobState, _Mapping]]] = ..., failures: _Optional[_Iterable[_Union[JobFailure, _Mapping]]] = ...) -> None: ...

class JobState(_message.Message):
    __slots__ = ("name", "interval_seconds", "runs", "last_started", "last_finished", "last_duration_seconds", "processed", "failed", "deferred", "error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RUNS_FIELD_NUMBER: _ClassVar[int]
    LAST_STARTED_FIELD_NUMBER: _ClassVar[int]
    LAST_FINISHED_FIELD_NUMBER: _ClassVar[int]
    LAST_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    DEFERRED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    interval_seconds: float
    runs: int
    last_started: _timestamp_pb2.Timestamp
    last_finished: _timestamp_pb2.Timestamp
    last_duration_seconds: float
    processed: int
    failed: int
    deferred: int
    error: str
    def __init__(self, name: _Optional[str] = ..., interval_seconds: _Optional[float] = ..., runs: _Optional[int] = ..., last_started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_finished: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_duration_seconds: _Optional[float] = ..., processed: _Optional[int] = ..., failed: _Optional[int] = ..., deferred: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class JobFailure(_message.Message):
    __slots__ = ("job", "subject", "attempts", "first_failed", "last_failed", "retry_at", "error", "error_id")
    JOB_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FIRST_FAILED_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILED_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_ID_FIELD_NUMBER: _ClassVar[int]
    job: str
    subject: str
    attempts: int
    first_failed: _timestamp_pb2.Timestamp
    last_failed: _timestamp_pb2.Timestamp
    retry_at: _timestamp_pb2.Timestamp
    error: str
    error_id: str
    def __init__(self, job: _Optional[str] = ..., subject: _Optional[str] = ..., attempts: _Optional[int] = ..., first_failed: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_failed: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., error_id: _Optional[str] = ...) -> None: ...
