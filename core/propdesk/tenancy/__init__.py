"""Tenants: desks and brands, each in its own PostgreSQL schema."""
