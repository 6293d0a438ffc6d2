"""Identity and access: staff users, sessions, API tokens, casbin RBAC with tenant domains."""
