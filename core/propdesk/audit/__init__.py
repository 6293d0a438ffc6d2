"""The hash-chained audit log: one chain per tenant and one for the shared schema."""
