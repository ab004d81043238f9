"""Usage insights: behaviour profiles of renters and machine classes, plan recommendations re-rated with
the billing engine, and offers assigned by the provider's rules."""
