"""Core tests. Fixtures come from propdesk.testing (a pytest plugin installed with propdesk)."""
