"""MetaTrader 5 for Propdesk: the Web API client (``client``), the platform adapter
(``adapter``), the hooks (``plugin``) and a simulator of the Web API (``simulator``)."""
