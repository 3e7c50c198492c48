"""Routes: on which channels each recipient is told, with which fallbacks (domain/routing.py)."""
import pytest

from services.notification.domain.routing import (
    DEFAULT_ROUTES, format_routes, parse_route_table, parse_routes, routes_by_kind, usable,
)

INSTALLED = {"in_app", "email", "sms", "wecom", "dingtalk"}


def test_commas_separate_routes_and_arrows_make_fallback_chains():
    assert parse_routes("in_app, sms>email") == (("in_app",), ("sms", "email"))
    assert parse_routes(["in_app", "wecom > dingtalk > email"]) == (("in_app",), ("wecom", "dingtalk", "email"))
    assert format_routes(parse_routes(" in_app ,sms > email")) == "in_app,sms>email"
    with pytest.raises(ValueError):
        parse_routes(" , ")


def test_defaults_guardian_sms_first_everyone_else_in_app_and_email():
    table = routes_by_kind()
    assert table["guardian"] == (("sms", "email"),)
    assert table["student"] == (("in_app",), ("email",))
    for kind in ("head_teacher", "counselor", "department_head", "vice_dean", "staff"):
        assert table[kind] == (("in_app",), ("email",))
    assert set(DEFAULT_ROUTES) == set(table)


def test_a_channel_that_is_not_enabled_is_skipped_inside_its_chain():
    # The guardian's sms>email means e-mail until an SMS gateway is configured.
    assert usable(parse_routes("sms>email"), {"in_app", "email"}) == (("email",),)
    assert usable(parse_routes("in_app,wecom>email"), {"in_app", "email", "wecom"}) == (("in_app",), ("wecom", "email"))
    assert usable(parse_routes("wecom"), {"email"}) == ()


def test_configuration_replaces_the_routes_of_a_kind_and_is_checked():
    table = routes_by_kind(parse_route_table("guardian=email; head_teacher = in_app,wecom>email"), INSTALLED)
    assert table["guardian"] == (("email",),)
    assert table["head_teacher"] == (("in_app",), ("wecom", "email"))
    assert table["counselor"] == (("in_app",), ("email",))
    with pytest.raises(ValueError, match="parents"):
        routes_by_kind({"parents": "email"})
    with pytest.raises(ValueError, match="pigeon"):
        routes_by_kind({"guardian": "pigeon>email"}, INSTALLED)
    with pytest.raises(ValueError, match="KIND=ROUTES"):
        parse_route_table("guardian:sms")
