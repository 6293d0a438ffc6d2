"""The web layer: the Litestar app, its dependencies, middleware and problem-details errors.

``create_app(runtime)`` in ``propdesk.http.app`` builds the application; ``propdesk serve``
runs it.
"""
