"""ioc package."""
