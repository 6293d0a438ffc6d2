"""Payments: the contract every payment provider implements, and the core webhook endpoint."""
