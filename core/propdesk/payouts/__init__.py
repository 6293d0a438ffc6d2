"""Payouts: eligibility (one path for quotes and requests), splits and scaling."""
