"""Demand-based prices: occupancy history, the published price schedule, and backtests of a policy."""
