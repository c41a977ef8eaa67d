"""Browser tests: Playwright driving Debian's Chromium against the live test server."""

import os
import random
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# to set up data are still synchronous and safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1600, "height": 1000}


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run scripts/bootstrap.sh")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def demo_city(django_db_serialized_rollback, transactional_db):
    from govgrid.synthetic.city import build_city
    from govgrid.synthetic.incidents import routing_rules_create
    from tests.factories import ensure_seeded

    ensure_seeded()
    random.seed(0)
    build_city(scale_name="demo", seed=2026, progress=lambda it, desc, total: it, incidents=False)
    routing_rules_create()


@pytest.fixture
def open_page(browser, live_server):
    """open_page(viewport) -> a Playwright page; console errors fail the test."""
    contexts, errors = [], []

    def _open(viewport, **context_options):
        ctx = browser.new_context(viewport=viewport, locale="zh-CN", **context_options)
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "console",
            lambda m: errors.append(m.text) if m.type == "error" else None,
        )
        page.set_default_timeout(15_000)
        page.base = live_server.url
        # A test that provokes an error status on purpose clears this list afterwards.
        page.console_errors = errors
        return page

    yield _open
    for ctx in contexts:
        ctx.close()
    assert not errors, f"browser errors: {errors}"


def login(page, username, password="Govgrid#2026"):
    page.goto(page.base + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button.primary")
    page.wait_for_load_state("networkidle")


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
