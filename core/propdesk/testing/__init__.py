"""Test support for Propdesk and for plugin authors (a pytest plugin, loaded automatically).

Fixtures: ``propdesk_urls`` (PostgreSQL and Redis: the machine's own at 127.0.0.1 when
reachable, embedded ones otherwise; override with ``PROPDESK_TEST_DATABASE_URL`` and
``PROPDESK_TEST_REDIS_URL``), ``propdesk_settings``, ``propdesk_runtime`` (a freshly created,
migrated database) and ``make_tenant`` (provision a tenant from manifest values).
Later issues add contract suites that vendors run against their adapters.
"""
