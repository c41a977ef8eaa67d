"""Project-level behaviour: landing page per role, health check, language switch."""

import json

import pytest
from django.test import override_settings
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db

LANDINGS = {
    "admin": "/accounts/admin-home/",
    "leader": "/grids/areas/420103/",
    "district": "/dispatch/triage/",
    "street": "/dispatch/triage/",
    "station": "/dispatch/triage/",
    "gridleader": "/grids/mine/",
    "worker": "/grids/mine/",
    "handler": "/dispatch/unit/",
}


@pytest.mark.parametrize("role", sorted(LANDINGS))
def test_every_role_lands_on_its_page(client, people, role):
    client.force_login(people[role])
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == LANDINGS[role]
    assert response.status_code == 200


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_pages_are_chinese_by_default_and_english_on_request(client, people):
    client.force_login(people["worker"])
    body = client.get("/grids/mine/").content.decode()
    assert '<html lang="zh-hans">' in body
    assert "我的网格" in body
    response = client.post(reverse("language_set"), {"language": "en", "next": "/grids/mine/"})
    assert response.status_code == 302
    body = client.get("/grids/mine/").content.decode()
    assert '<html lang="en">' in body
    assert "My grids" in body


def test_unknown_language_is_refused_with_a_message_and_changes_nothing(client, people):
    client.force_login(people["worker"])
    response = client.post(
        reverse("language_set"), {"language": "xx-evil", "next": "/grids/mine/"}, follow=True
    )
    body = response.content.decode()
    assert "未知语言" in body
    assert '<html lang="zh-hans">' in body
    assert (
        "govgrid_language" not in response.cookies or not response.cookies["govgrid_language"].value
    )


def test_language_switch_refuses_offsite_redirects(client):
    response = client.post(
        reverse("language_set"), {"language": "en", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_healthz_is_ok_when_database_and_redis_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_says_redis_is_down(client):
    dead_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }
    # override_settings resets the cache handlers (django.test.signals).
    with override_settings(CACHES=dead_redis):
        response = client.get("/healthz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["redis"].startswith("down")


def test_user_without_role_gets_an_explanation(client):
    user = factories.make_user(roles=[])
    client.force_login(user)
    response = client.get("/", follow=True)
    assert "没有角色".encode() in response.content or b"no role" in response.content


def test_api_docs_page_is_served_without_a_cdn(client, people):
    client.force_login(people["admin"])
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui" in body
    assert "cdn" not in body.lower() and "unpkg" not in body.lower()
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/incidents/report/" in schema.content
