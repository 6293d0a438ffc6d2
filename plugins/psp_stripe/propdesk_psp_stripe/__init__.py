"""Stripe for Propdesk: the payment provider (``adapter``), the payout rail on Connect
transfers (``rail``), and ``simulator``, a stateful simulator of the Stripe API (the subset a
prop CRM uses) and of its signed webhooks."""
