"""Database access: engines, tenant sessions, migrations and grants."""
