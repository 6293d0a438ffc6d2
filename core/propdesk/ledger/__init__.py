"""The desk's double-entry ledger: every payment, refund, chargeback, payout and commission."""
