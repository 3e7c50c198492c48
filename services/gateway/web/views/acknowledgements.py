"""The page a guardian or a student opens from the signed link in a formal warning notice (回执): what the notice
said (the student's name and id masked), and a form to sign that it was read.

The link's token is the only credential: no sign-in, no cookie, so no CSRF token either (app.py exempts these
pages); the API refuses an invalid (404), expired or withdrawn (410) or already used (409) link."""
from __future__ import annotations

from services.gateway.errors import ApiError, Unprocessable

REFUSALS = {404: "ack.invalid", 410: "ack.expired", 409: "ack.already"}


def _refused(exc: ApiError):
    if exc.status not in REFUSALS:
        raise exc
    return "ack.html", {"ack": None, "refused": REFUSALS[exc.status]}, exc.status


def ack_page(ctx, request, token: str):
    try:
        answer = ctx.api("acknowledgement.open", token=token)
    except ApiError as exc:
        return _refused(exc)
    return "ack.html", {"ack": answer, "token": token}


def ack_sign(ctx, request, token: str):
    signer = (request.form.get("signer_name") or "").strip()
    try:
        if not signer:
            # Said before asking the service to sign: the page again, with what is missing.
            answer = ctx.api("acknowledgement.open", token=token)
            return "ack.html", {"ack": answer, "token": token, "error": "error.required"}, 422
        answer = ctx.api("acknowledgement.sign", token=token, signer_name=signer)
    except Unprocessable as exc:        # the name was refused (too long, not a name): the reason, and the form again
        answer = ctx.api("acknowledgement.open", token=token)
        return "ack.html", {"ack": answer, "token": token, "error_text": exc.reason, "signer": signer}, 422
    except ApiError as exc:
        return _refused(exc)
    return "ack.html", {"ack": answer, "token": token, "signed": True}
