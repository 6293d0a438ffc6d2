"""Fixtures of the notification tests: ``smtp_server`` comes from ``propdesk.testing``."""
