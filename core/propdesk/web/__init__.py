"""The web pages: a back office per desk, the trader portal and the leadership view.

Server-rendered Jinja templates with HTMX for the live parts, white-labelled per desk (name,
logo, colours, domain). Pages are thin: they call the same domain services as the JSON API
and only shape what those return for a person to read.

- ``/`` on a desk's domain: the trader portal (``portal/``);
- ``/backoffice/`` on a desk's domain: that desk's staff (``backoffice/``);
- ``/leadership`` on any host: consolidated figures across desks (``leadership/``);
- ``/static/``: CSS, the charts' glue and the vendored htmx and Chart.js.
"""
