import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from govgrid.notifications import sms
from govgrid.notifications.models import NotificationTemplate
from govgrid.notifications.template_seed import seed_templates
from incidents.models import Category, Incident
from incidents.services import ReportInput, incident_report


@pytest.fixture(autouse=True)
def _sms_to_a_temporary_file(settings, tmp_path):
    settings.SMS_BACKEND = "govgrid.notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    sms._buckets.clear()
    yield
    sms._buckets.clear()


@pytest.fixture
def templates(db):
    """The seeded templates (put back if a transactional test elsewhere flushed them)."""
    seed_templates(NotificationTemplate)


@pytest.fixture
def incident(people, city) -> Incident:
    from tests.factories import ensure_seeded

    ensure_seeded()
    category = Category.objects.filter(parent__isnull=False, is_active=True).first()
    point = city.grids[0].boundary.point_on_surface
    return incident_report(
        data=ReportInput(category=category, description="路灯损坏", lon=point.x, lat=point.y),
        actor=people["worker"],
    )


def sms_lines(settings) -> list[dict]:
    try:
        with open(settings.SMS_FILE_PATH, encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    except FileNotFoundError:
        return []


class Gateway:
    """A tiny SMS gateway on 127.0.0.1: answers `status` after `delay` seconds."""

    def __init__(self) -> None:
        self.status = 200
        self.delay = 0.0
        self.received: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                gateway.received.append(
                    {
                        "body": json.loads(self.rfile.read(length)),
                        "authorization": self.headers.get("Authorization"),
                    }
                )
                time.sleep(gateway.delay)
                try:
                    self.send_response(gateway.status)
                    self.end_headers()
                    self.wfile.write(
                        b'{"error": "gateway says no"}' if gateway.status >= 400 else b"{}"
                    )
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def gateway(settings):
    gw = Gateway()
    settings.SMS_BACKEND = "govgrid.notifications.sms.HttpBackend"
    settings.SMS_HTTP_URL = gw.url
    settings.SMS_HTTP_TOKEN = "test-token"
    settings.SMS_HTTP_TIMEOUT = 0.3
    settings.SMS_RATE_PER_SECOND = 0
    yield gw
    gw.close()
