"""The HTTP gateway: the college staff's JSON API and web interface over the services' RPC (docs/gateway.md)."""
