"""Logging in lands each role on its page, in Chinese by default and in English on request."""

import pytest

from tests.browser.conftest import PHONE, WIDE, login, screenshot

# serialized_rollback: the flush after a transactional test must give back the seeded
# calendar and categories that other tests on this worker rely on.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_grid_worker_on_a_phone(open_page, demo_city):
    page = open_page(PHONE)
    login(page, "gridworker")
    assert page.url.endswith("/grids/mine/")
    assert page.locator("h1").inner_text() == "我的网格"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    card = page.locator(".grid-card").first
    assert "第1网格" in card.locator("h2").inner_text()
    assert "420103" in card.inner_text()
    page.wait_for_selector("#area-map[data-loaded='1']")
    assert page.locator("#area-map path.leaflet-interactive").count() >= 1
    # The page fits the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "grid-worker-phone-zh")

    page.click("button[name=language][value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "My grids"
    assert page.locator("html").get_attribute("lang") == "en"
    screenshot(page, "grid-worker-phone-en")


def test_street_centre_on_a_wide_screen(open_page, demo_city):
    page = open_page(WIDE)
    login(page, "street")
    assert page.url.endswith("/dispatch/triage/")  # a centre starts the day at its desk
    page.click("nav.mainnav >> text=区域")
    page.wait_for_load_state("networkidle")
    assert "/grids/areas/420103001/" in page.url
    assert page.locator("h1").inner_text().startswith("民族街道")
    rows = page.locator("table.table tbody tr")
    assert rows.count() == 3  # the street's communities
    assert "社区" in rows.first.inner_text()
    page.wait_for_selector("#area-map[data-loaded='1']")
    # the street itself, its communities and its grids are drawn
    assert page.locator("#area-map path").count() >= 1 + 3
    screenshot(page, "street-centre-wide-zh")

    page.click("button[name=language][value=en]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".stat-label").first.inner_text() == "Communities"
    screenshot(page, "street-centre-wide-en")

    # Another street's page is not found, in English too.
    response = page.goto(page.base + "/grids/areas/420103002/")
    assert response.status == 404
    assert "Not found" in page.locator("h1").inner_text()
    page.console_errors.clear()  # the 404 above was the point


def test_wrong_passwords_lock_the_account_in_the_browser(open_page, demo_city):
    page = open_page(WIDE)
    for _ in range(4):
        login(page, "station", "wrong-password")
        assert "正确的用户名和密码" in page.locator(".form-errors").inner_text()
    login(page, "station", "wrong-password")  # the fifth failure locks the account
    assert "账号已锁定" in page.locator("h1").inner_text()
    login(page, "station")  # and now even the right password is refused
    assert "账号已锁定" in page.locator("h1").inner_text()
    assert "/accounts/login/" in page.url
    page.console_errors.clear()  # the 429 responses were the point
