"""Test support for Propdesk and for plugin authors (a pytest plugin, loaded automatically).

Fixtures: ``propdesk_urls`` (PostgreSQL and Redis: the machine's own at 127.0.0.1 when
reachable, embedded ones otherwise; override with ``PROPDESK_TEST_DATABASE_URL`` and
``PROPDESK_TEST_REDIS_URL``), ``propdesk_settings``, ``propdesk_runtime`` (a freshly created,
migrated database) and ``make_tenant`` (provision a tenant from manifest values).

Contract suites that every adapter must pass, ours and vendors' alike, run against the
vendor's own platform or simulator: ``platform_contract.PlatformContract`` for trading
platforms (subclass it, provide a ``harness`` fixture). ``platform.RecordingPlatform`` is an
in-memory trading platform for tests; it passes that suite.

``simulators`` is the plumbing of simulators of outside services and of the tests that drive
them (a threaded uvicorn server, a control-API client base, a ``python -m`` entry point,
``eventually``, ``serving_app``); it is imported where used, not by the pytest plugin.
"""
