"""Real Celery workers on a real (private) Redis: outages, racing scans, a worker killed.

Each test commits its data (transactional test) so the worker processes, started with
`celery -A govgrid worker` against the current test database, see it. The module starts
its own redis-server on a free port: stopping it never touches the machine's shared Redis.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.db import connection, transaction

from dispatch import tasks as dispatch_tasks
from dispatch.services import incident_act
from govgrid.notifications import tasks as notification_tasks
from govgrid.notifications.models import Channel, Event, Notification, OutboxMessage
from govgrid.notifications.services import notify
from incidents.models import Category, IncidentEvent
from incidents.services import ReportInput, incident_report
from tests.factories import ensure_seeded

# serialized_rollback: the flush after a transactional test must give back the seeded
# categories, calendar and templates for the tests that run after it.
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.worker,
]

ROOT = Path(__file__).resolve().parents[2]
CELERY = ROOT / ".venv" / "bin" / "celery"
REDIS_SERVER = "/usr/bin/redis-server"
REDIS_FLAGS = ["--save", "", "--appendonly", "no", "--daemonize", "no"]
SH = ZoneInfo("Asia/Shanghai")
WAIT = 20  # seconds, for anything a worker has to do


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, *, timeout: float = WAIT, what: str = "condition", interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class PrivateRedis:
    """A redis-server of our own, on a free port, without persistence."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def _ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", *REDIS_FLAGS],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._ping, timeout=10, what="the private redis-server")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1)


@pytest.fixture(scope="module")
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", autouse=True)
def _seeded_data_back_after_the_last_flush(seeded_rows_back_after_flush):
    """The flush after this module's last transactional test must not leave it empty."""


def _reset_producers(app) -> None:
    # Connections and producers are pooled per app: drop them when the broker changes (a
    # new pool is made for the new URL on first use).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(private_redis, settings, tmp_path):
    """This process sends tasks to the private Redis, for real (not eagerly)."""
    from govgrid.celery import app

    ensure_seeded()
    # Read the app's configuration before the settings change: Celery reads Django's
    # settings lazily, so reading it afterwards would "save" the private server's address.
    saved = {
        k: app.conf[k]
        for k in ("broker_url", "result_backend", "task_always_eager", "broker_connection_timeout")
    }
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = private_redis.url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.SMS_BACKEND = "govgrid.notifications.sms.FileBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.log")
    _reset_producers(app)
    app.conf.broker_url = app.conf.result_backend = private_redis.url
    app.conf.task_always_eager = False
    app.conf.broker_connection_timeout = 1
    private_redis.client().flushdb()  # our own server: nothing left from an earlier test
    yield app
    _reset_producers(app)
    app.conf.update(saved)


class Workers:
    """Celery workers started as subprocesses against the current test database."""

    def __init__(self, redis_url: str, sms_path: Path, log_dir: Path) -> None:
        self.redis_url = redis_url
        self.sms_path = sms_path
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "govgrid.settings.local",
            "DATABASE_URL": f"postgis://postgres@127.0.0.1:5432/{db['NAME']}",
            "DJANGO_CONN_MAX_AGE": "0",
            "CELERY_BROKER_URL": self.redis_url,
            "CELERY_RESULT_BACKEND": self.redis_url,
            "REDIS_URL": self.redis_url,
            "CACHE_URL": self.redis_url,
            "SMS_BACKEND": "govgrid.notifications.sms.FileBackend",
            "SMS_FILE_PATH": str(self.sms_path),
            "DJANGO_DEBUG": "False",
        }
        env.update(extra)
        return env

    def start(self, *, pool: str = "solo", concurrency: int = 1, **env: str) -> subprocess.Popen:
        n = len(self.procs)
        log = (self.log_dir / f"worker{n}.log").open("wb")
        command = [str(CELERY), "-A", "govgrid", "worker", "--pool", pool, "-l", "warning"]
        proc = subprocess.Popen(
            [*command, "--concurrency", str(concurrency), "-n", f"w{n}@%h"],
            cwd=ROOT,
            env=self.env(**env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def wait_ready(self, app, count: int = 1) -> None:
        """Until `count` running workers answer a ping over the broker."""

        def answered():
            for proc in self.procs:
                if proc.poll() is not None:
                    raise AssertionError(f"a worker exited with {proc.returncode}: {self.logs()}")
            return len(app.control.ping(timeout=0.5)) >= count

        wait_for(answered, what="the workers to answer", interval=0.2)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-2000:] for p in self.log_dir.glob("*.log"))

    def stop_all(self) -> None:
        for proc in self.procs:
            stop_process(proc)


@pytest.fixture
def workers(private_redis, broker, tmp_path):
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    w = Workers(private_redis.url, Path(django_settings.SMS_FILE_PATH), log_dir)
    yield w
    w.stop_all()  # before the database is flushed


def sms_lines(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    except FileNotFoundError:
        return []


def all_sent() -> bool:
    return not OutboxMessage.objects.exclude(status="sent").exists()


@pytest.fixture
def incident(people, city, broker):
    category = Category.objects.filter(
        parent__isnull=False, handling_level=3, deadline_unit="workday", is_active=True
    ).first()
    point = city.grids[0].boundary.point_on_surface
    return incident_report(
        data=ReportInput(category=category, description="井盖缺失", lon=point.x, lat=point.y),
        actor=people["worker"],
    )


def test_actions_while_redis_is_down_are_delivered_once_when_it_is_back(
    private_redis, workers, incident, people, broker, caplog
):
    handler, street = people["handler"], people["street"]
    handler.phone = "13800000001"
    handler.save()
    street.phone = "13800000002"
    street.save()

    private_redis.stop()
    caplog.set_level(logging.WARNING, logger="govgrid.notifications.services")
    try:
        # The broker is down: the actions still commit; notify only logs the lost enqueue.
        incident_act(
            incident_id=incident.pk,
            action="dispatch",
            actor=street,
            lead_unit=people["units"]["department"],
        )
        incident_act(incident_id=incident.pk, action="return", actor=handler, reason="不归我们管")
    finally:
        private_redis.start()
    lost = [r for r in caplog.records if "Could not queue outbox delivery" in r.getMessage()]
    assert len(lost) == 2  # one per action: the broker really was down
    messages = list(OutboxMessage.objects.order_by("pk"))
    assert {(m.event, m.channel, m.recipient_id) for m in messages} == {
        (Event.DISPATCHED, Channel.INAPP, handler.pk),
        (Event.DISPATCHED, Channel.SMS, handler.pk),
        (Event.RETURNED, Channel.INAPP, street.pk),
        (Event.RETURNED, Channel.SMS, street.pk),
    }
    assert {m.status for m in messages} == {"pending"}

    # Redis is back; a worker starts and the sweep (what beat sends each minute) runs.
    workers.start()
    notification_tasks.outbox_deliver.delay()
    wait_for(all_sent, what=f"every message sent; worker said: {workers.logs()}")

    for m in messages:
        if m.channel == Channel.INAPP:
            assert Notification.objects.filter(outbox_message=m).count() == 1
    assert Notification.objects.count() == 2
    lines = sms_lines(workers.sms_path)
    assert sorted(line["phone"] for line in lines) == ["13800000001", "13800000002"]


def test_two_scans_at_once_record_and_tell_each_level_once(workers, incident, people, broker):
    street, handler = people["street"], people["handler"]
    start = datetime(2025, 9, 1, 9, 0, tzinfo=SH)  # a Monday, far from any holiday
    with time_machine.travel(start, tick=False):
        incident_act(
            incident_id=incident.pk,
            action="dispatch",
            actor=street,
            now=start,
            lead_unit=people["units"]["department"],
        )
        incident_act(incident_id=incident.pk, action="sign", actor=handler, now=start)
    # Today is long past the handling deadline: every level is due for the scan.
    workers.start(pool="prefork", concurrency=2)
    workers.wait_ready(broker)
    results = [dispatch_tasks.warnings_scan_task.apply_async() for _ in range(2)]
    assert len({r.id for r in results}) == 2

    levels = ["blue", "yellow", "red", "yellow_card", "red_card"]

    def scans_done():
        recorded = IncidentEvent.objects.filter(
            incident=incident, action__in=["warning", "supervision_card"]
        ).count()
        if recorded < len(levels):
            return False
        # Both scan tasks finished: nothing queued, nothing running.
        if broker_queue_length(workers.redis_url):
            return False
        active = broker.control.inspect(timeout=0.5).active() or {}
        return not any(active.values()) and all_sent()

    wait_for(scans_done, what=f"both scans done; worker said: {workers.logs()}", interval=0.3)
    history = IncidentEvent.objects.filter(
        incident=incident, action__in=["warning", "supervision_card"]
    ).order_by("at", "pk")
    assert [e.data["level"] for e in history] == levels
    for user in (handler, street):
        told = list(
            OutboxMessage.objects.filter(recipient=user, channel=Channel.INAPP)
            .exclude(event=Event.DISPATCHED)
            .order_by("pk")
            .values_list("event", flat=True)
        )
        assert told == [
            "warning_blue",
            "warning_yellow",
            "warning_red",
            "supervision",
            "supervision",
        ]
        assert Notification.objects.filter(recipient=user).exclude(
            outbox_message__event=Event.DISPATCHED
        ).count() == len(levels)


def broker_queue_length(url: str) -> int:
    return redis.Redis.from_url(url, socket_connect_timeout=1).llen("celery")


def test_a_worker_killed_while_sending_is_replaced_and_the_sms_goes_once(workers, broker):
    first = workers.start(SMS_BACKEND="tests.reliability.slow_sms.SlowFileBackend")
    workers.wait_ready(broker)
    with transaction.atomic():  # delivery is queued when this commits
        notify(
            event=Event.DISPATCHED,
            recipients=[],
            context={"number": "WG-TEST-1"},
            dedupe_key="reliability:killed",
            channels=[Channel.SMS],
            phone="13800000009",
        )
    message = OutboxMessage.objects.get()

    def sending():
        message.refresh_from_db()
        return message.status == "sending"

    wait_for(sending, what=f"the worker to claim the message; it said: {workers.logs()}")
    time.sleep(1)  # well inside the 5-second send
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert sms_lines(workers.sms_path) == []
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sending", 1)

    # The claim is a lease of CLAIM_LEASE (10 minutes) and the task takes no `now`: move
    # the lease's end into the past, as if the ten minutes had passed.
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=message.next_attempt_at - timedelta(minutes=11)
    )
    workers.start(SMS_BACKEND="tests.reliability.slow_sms.SlowFileBackend", SLOW_SMS_SECONDS="0.1")
    notification_tasks.outbox_deliver.delay()  # the next beat sweep
    wait_for(all_sent, what=f"the message sent; worker said: {workers.logs()}")
    message.refresh_from_db()
    assert message.attempts == 2
    assert [line["phone"] for line in sms_lines(workers.sms_path)] == ["13800000009"]
