"""The plugin manager, its typed facade and the registries built from registration hooks."""
