"""The signing rule of the wire contract (see protos/rentmeter/v1/agent.proto).

An agent signs, with Ed25519, a fixed context string followed by the serialized UsageReport; the context
keeps a report signature from ever being valid for any other kind of message.
"""

REPORT_SIGNING_CONTEXT = b"rentmeter.v1.UsageReport\x00"


def report_signing_bytes(payload: bytes) -> bytes:
    """The exact bytes an agent signs and the collector verifies for a report payload."""
    return REPORT_SIGNING_CONTEXT + payload


KEY_ROTATION_CONTEXT = b"rentmeter.v1.RotateKey\x00"


def rotation_signing_bytes(agent_id: str, new_public_key: bytes, last_old_sequence: int) -> bytes:
    """What the old key signs to hand over to the new one: the agent, the new key, and the last report
    sequence the old key signed (reports up to it stay valid under the old key)."""
    return (
        KEY_ROTATION_CONTEXT
        + agent_id.encode()
        + b"\x00"
        + new_public_key
        + last_old_sequence.to_bytes(8, "big")
    )
