"""Log in as a demo user and screenshot pages in headless Chromium (for looking at them).

.venv/bin/python scripts/screenshot.py USER PATH OUT.png [--phone] [--lang en]
"""

import argparse

from playwright.sync_api import sync_playwright

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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("user")
    ap.add_argument("path")
    ap.add_argument("out")
    ap.add_argument("--phone", action="store_true")
    ap.add_argument("--wall", action="store_true")
    ap.add_argument("--lang", default="zh-hans")
    ap.add_argument("--base", default="http://127.0.0.1:8000")
    ap.add_argument("--password", default="Govgrid#2026")
    a = ap.parse_args()
    viewport = (
        {"width": 390, "height": 844}
        if a.phone
        else ({"width": 2560, "height": 1440} if a.wall else {"width": 1440, "height": 900})
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport=viewport, device_scale_factor=1)
        ctx.add_cookies([{"name": "govgrid_language", "value": a.lang, "url": a.base}])
        page = ctx.new_page()
        page.on("console", lambda m: print("console:", m.type, m.text))
        page.on("pageerror", lambda e: print("pageerror:", e))
        page.goto(a.base + "/accounts/login/")
        page.fill("#id_username", a.user)
        page.fill("#id_password", a.password)
        page.click("button[type=submit].primary")
        page.wait_for_load_state("networkidle")
        page.goto(a.base + a.path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        page.screenshot(path=a.out, full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
