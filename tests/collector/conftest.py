"""Fixtures of the collector's tests beside tests/conftest.py's."""

from tests.collector.clocked import scenario

__all__ = ["scenario"]
