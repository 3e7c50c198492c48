"""The gateway's rules without HTTP: roles and scope from the roster, lock-out, passwords, masking."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.gateway.domain.lockout import Attempt, locked_until
from services.gateway.domain.masking import mask_email, mask_phone, mask_text
from services.gateway.domain.passwords import hash_password, hasher_from_env, password_problem, verify_password
from services.gateway.domain.principal import Principal, Scope, scope_for
from services.gateway.principals import NotInRoster, for_token, for_user

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def failures(*minutes):
    return [Attempt(T0 + timedelta(minutes=m), "failure") for m in minutes]


def test_five_failures_within_fifteen_minutes_lock_until_the_oldest_leaves_the_window():
    attempts = failures(0, 1, 2, 3, 4)
    assert locked_until(attempts[:4], T0 + timedelta(minutes=5)) is None
    assert locked_until(attempts, T0 + timedelta(minutes=5)) == T0 + timedelta(minutes=15)
    assert locked_until(attempts, T0 + timedelta(minutes=15)) is None


def test_failures_spread_over_more_than_the_window_do_not_lock():
    assert locked_until(failures(0, 4, 8, 12, 16), T0 + timedelta(minutes=16)) is None


def test_a_success_or_an_unlock_starts_afresh_and_attempts_while_locked_do_not_extend_it():
    attempts = failures(0, 1, 2, 3, 4)
    now = T0 + timedelta(minutes=6)
    assert locked_until(attempts + [Attempt(T0 + timedelta(minutes=5), "unlocked")], now) is None
    assert locked_until(failures(0, 1) + [Attempt(T0 + timedelta(minutes=2), "success")] + failures(3, 4, 5),
                        now) is None
    hammered = attempts + [Attempt(T0 + timedelta(minutes=m), "locked") for m in range(5, 14)]
    assert locked_until(hammered, T0 + timedelta(minutes=14)) == T0 + timedelta(minutes=15)


def test_passwords_are_argon2_hashes_and_weak_ones_are_refused():
    assert hasher_from_env().hash("x").startswith("$argon2id$v=19$m=65536,t=3,")   # RFC 9106's profile
    digest = hash_password("correct horse battery")
    assert digest.startswith("$argon2id$") and "correct" not in digest
    assert verify_password(digest, "correct horse battery")
    assert not verify_password(digest, "correct horse batterY")
    assert not verify_password("not a hash", "x")
    assert password_problem("short", "t1001")
    assert password_problem("t1001-is-my-password", "t1001")
    assert password_problem("aaaaaaaaaaaa")
    assert password_problem("correct horse battery", "t1001") is None


def test_roles_and_scope_come_from_the_roster_rows():
    roles, scope = scope_for([{"role": "head_teacher", "scope": ["机械2101"]},
                              {"role": "counselor", "scope": [2021]},
                              {"role": "department_head", "scope": ["机械"]}], classes_led=["机械2102"])
    assert roles == {"head_teacher", "counselor", "department_head"}
    assert scope == Scope(False, frozenset({"机械2101", "机械2102"}), frozenset({"2021"}), frozenset({"机械"}))
    roles, scope = scope_for([{"role": "vice_dean", "scope": ["学院"]}])
    assert scope.college and roles == {"vice_dean"}


def test_a_principal_covers_students_by_class_cohort_or_major():
    counselor = Principal("user:c", "C2021", "c", frozenset({"counselor"}), Scope(cohorts=frozenset({"2021"})))
    assert counselor.covers_student({"class_name": "x", "cohort": 2021, "major": "m"})
    assert not counselor.covers_student({"class_name": "x", "cohort": 2022, "major": "m"})
    assert not counselor.covers_student(None)
    dean = Principal("user:v", "V", "v", frozenset({"vice_dean"}), Scope(college=True))
    assert dean.covers_student(None)
    assert counselor.can("warnings.read") and not counselor.can("grades.upload")
    admin = Principal("user:root", None, "root", frozenset({"admin"}))
    assert admin.can("accounts.manage") and not admin.can("warnings.read")


def test_an_account_whose_staff_id_the_roster_does_not_know_gets_no_principal():
    user = {"username": "ghost", "staff_id": "X1", "display_name": "ghost", "is_admin": False}
    try:
        for_user(user, None)
    except NotInRoster as error:
        assert "not in the roster" in error.reason
    else:
        raise AssertionError("signed in without roles")
    admin = for_user({**user, "is_admin": True}, None)
    assert admin.roles == {"admin"}


def test_a_token_acts_in_its_one_role_with_only_that_roles_scope():
    member = {"name": "t", "roles": [{"role": "head_teacher", "scope": ["A"]}, {"role": "counselor", "scope": ["2021"]}],
              "classes_led": ["A"]}
    token = for_token({"token_id": "ab12", "name": "sis", "role": "head_teacher", "staff_id": "T1"}, member)
    assert token.roles == {"head_teacher"} and token.scope.classes == {"A"} and not token.scope.cohorts
    assert token.user_id == "token:ab12" and token.via_token
    college = for_token({"token_id": "cd34", "name": "bi", "role": "academic_affairs", "staff_id": None}, None)
    assert college.college_wide


def test_contacts_are_masked():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_email("zhang.san@college.edu.cn") == "z***@college.edu.cn"
    assert mask_text("call 13812345678 or mail li.si@example.com; student 2021001") == \
        "call 138****5678 or mail l***@example.com; student 2021001"
    assert mask_phone(None) is None and mask_text("") == ""


def test_the_client_address_behind_trusted_proxies():
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request
    from services.gateway.context import client_address
    request = Request(EnvironBuilder(headers={"X-Forwarded-For": "6.6.6.6, 10.0.0.7"},
                                     environ_base={"REMOTE_ADDR": "10.0.0.1"}).get_environ())
    assert client_address(request, 0) == "10.0.0.1"          # nobody trusted: the header is ignored
    assert client_address(request, 1) == "10.0.0.7"          # one proxy: what it saw
    assert client_address(request, 3) == "10.0.0.1"          # fewer entries than proxies: not trusted
