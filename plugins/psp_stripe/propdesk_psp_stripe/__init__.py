"""Stripe payments for Propdesk. So far it holds ``simulator``: a stateful simulator of the
Stripe API (the subset a prop CRM uses) and of its signed webhooks."""
