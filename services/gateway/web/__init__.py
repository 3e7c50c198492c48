"""The college staff's web interface: server-rendered pages (Jinja2) over the gateway's API operations.

``app.handle(request, ctx)`` is the one entry the gateway calls for ``/``, ``/login``, ``/logout`` and ``/ui/...``.
Views are plain functions ``(ctx, request, **url_args) -> (template, context) | Response``; they reach the services
only through ``ctx.api(...)``, which authorizes and audits exactly as the JSON API does.
"""
