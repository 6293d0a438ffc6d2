"""``Idempotency-Key`` for the desk's money-moving and state-changing requests (``http``)."""
