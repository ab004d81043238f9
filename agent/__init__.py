"""rentmeter agent: samples a rented machine, signs usage reports and streams them to the collector.

Kept light: it imports psutil, cryptography, grpc and the wire contract, and nothing of the collector."""

__version__ = "0.1.0"
