"""The transactional outbox: domain events committed with the change, dispatched after commit."""
