"""Views: plain functions ``(ctx, request, **url_args) -> (template, context) | werkzeug Response``.

They read and change things only through ``ctx.api(name, **params)``; app.py checks sign-in, the page's
permission and the CSRF token before a view runs, and renders what it returns."""
from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Response


def see_other(path: str, **query) -> Response:
    """After a successful POST: go to a page by GET (303), with a non-personal note in the query."""
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return redirect(path + (("?" + urlencode(query)) if query else ""), code=303)
