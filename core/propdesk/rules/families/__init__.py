"""The standard rule families, registered through the plugin contract (``plugin``)."""
