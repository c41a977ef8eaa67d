"""The login security baseline: lockout, strong passwords, idle timeout, deploy checks."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import translation

from govgrid.audit.models import AuditAction, AuditEntry
from tests import factories

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def login(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_wrong_password_gets_a_clear_message_and_no_session(client, people):
    with translation.override("en"):
        r = login(client, "t_worker", "wrong-password")
    assert r.status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(
        action=AuditAction.LOGIN_FAILED, actor_name="t_worker"
    ).exists()


def test_ten_wrong_passwords_lock_the_account(client, people):
    for _ in range(10):
        r = login(client, "t_worker", "wrong-password")
    assert r.status_code == 429
    assert b"Account locked" in r.content or "账号已锁定".encode() in r.content
    # Even the right password is refused now, and nothing logged the user in.
    r = login(client, "t_worker", factories.PASSWORD)
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditAction.LOCKED_OUT, actor_name="t_worker").exists()
    # Another account from the same address is not locked (offices share one NAT address).
    r = login(client, "t_street", factories.PASSWORD)
    assert r.status_code == 302


def test_lockout_threshold_is_the_configured_limit(client, people):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "t_worker", "nope")
    assert login(client, "t_worker", factories.PASSWORD).status_code == 302


def test_successful_login_is_audited(client, people):
    assert login(client, "t_worker", factories.PASSWORD).status_code == 302
    entry = AuditEntry.objects.get(action=AuditAction.LOGIN)
    assert entry.actor == people["worker"]
    assert entry.ip_address == "127.0.0.1"


@pytest.mark.parametrize(
    "password",
    ["short1A!", "alllowercaseletters", "ALLUPPER12345", "1234567890123", "password123"],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_strong_password_is_accepted():
    validate_password("Grid-worker-2026")


def test_sessions_expire_after_idle_time():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_audit_log_cannot_be_edited_or_deleted(people):
    entry = AuditEntry.objects.create(action=AuditAction.LOGIN, actor_name="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == "x"


def test_check_deploy_with_production_settings_is_clean():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak into a deploy check.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SECRET_KEY": "k" * 20 + "-production-like-secret-key-0123456789abcdefgh",
        "DJANGO_ALLOWED_HOSTS": "govgrid.example.gov.cn",
        "GOVGRID_PII_KEYS": "Qk2n0yYqCkq2mQd3b0Q2mW1v8u7c6x5z4a3s2d1f0gE=",
        "GOVGRID_PII_INDEX_KEY": "production-like-index-key-0123456789",
        "DJANGO_SETTINGS_MODULE": "govgrid.settings.production",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr
    assert "no issues" in result.stdout
