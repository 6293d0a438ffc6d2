"""The arq worker: outbox dispatch, plugin jobs, and the tenant context for jobs."""

from propdesk.worker.decorators import tenant_job

__all__ = ["tenant_job"]
