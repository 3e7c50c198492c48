"""API functions, one module per area; each registers its endpoints in services.gateway.routes."""
