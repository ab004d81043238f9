"""The signing rule of the wire contract (see protos/rentmeter/v1/agent.proto).

An agent signs, with Ed25519, a fixed context string followed by the serialized UsageReport; the context
keeps a report signature from ever being valid for any other kind of message.
"""

REPORT_SIGNING_CONTEXT = b"rentmeter.v1.UsageReport\x00"


def report_signing_bytes(payload: bytes) -> bytes:
    """The exact bytes an agent signs and the collector verifies for a report payload."""
    return REPORT_SIGNING_CONTEXT + payload
