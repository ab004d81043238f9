"""rentmeter collector: verifies and stores agents' reports, rates sessions, closes invoices, serves gRPC."""
