"""Consolidated reports across desks for leadership: revenue, refunds, payouts, pass rates and
funded accounts per desk and in total, in one reporting currency.

Each desk's money comes from its own double-entry ledger, so the figures match its books; the
counts come from its orders and its challenges' lifecycle history. ``period`` and
``conversion`` and ``figures`` are pure; ``service`` reads the desks; ``routes`` serves JSON
and CSV.
"""
