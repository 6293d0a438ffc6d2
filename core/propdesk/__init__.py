"""Propdesk: the open-source CRM for proprietary trading firms.

Plugins import ``hookimpl`` from here::

    from propdesk import hookimpl
"""

from propdesk.plugins.markers import hookimpl

__version__ = "0.1.0"

__all__ = ["__version__", "hookimpl"]
