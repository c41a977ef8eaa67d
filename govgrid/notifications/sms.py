"""SMS gateways, chosen by the `SMS_BACKEND` setting (a dotted path).

- `FileBackend` appends one JSON line per message to `SMS_FILE_PATH` (development, tests);
- `ConsoleBackend` only logs;
- `HttpBackend` POSTs `{"phone", "text"}` as JSON to `SMS_HTTP_URL` with the bearer token
  `SMS_HTTP_TOKEN`, at most `SMS_RATE_PER_SECOND` messages a second per process.

Every backend raises `SmsError` with a message an admin can act on; the outbox records it
and retries with back-off.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The gateway did not take the message; the text says why."""


class BaseBackend:
    def send(self, *, phone: str, text: str) -> None:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    def send(self, *, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", phone, text)


class FileBackend(BaseBackend):
    def send(self, *, phone: str, text: str) -> None:
        path = Path(settings.SMS_FILE_PATH)
        line = json.dumps(
            {"at": timezone.now().isoformat(), "phone": phone, "text": text}, ensure_ascii=False
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
        except OSError as exc:
            raise SmsError(
                _("Could not write the SMS file %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc


class TokenBucket:
    """At most `rate` acquisitions a second on average, bursts of `capacity`.

    Blocks (sleeps) until a token is free: fine in a Celery worker, which has nothing
    better to do while the gateway's limit holds it back.
    """

    def __init__(
        self,
        rate: float,
        capacity: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def acquire(self) -> None:
        with self.lock:
            while True:
                now = self.clock()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                self.sleep((1 - self.tokens) / self.rate)


# One bucket per process and rate: every HttpBackend instance of a worker shares it.
_buckets: dict[float, TokenBucket] = {}
_buckets_lock = threading.Lock()


def _bucket(rate: float) -> TokenBucket:
    with _buckets_lock:
        if rate not in _buckets:
            _buckets[rate] = TokenBucket(rate)
        return _buckets[rate]


class HttpBackend(BaseBackend):
    def send(self, *, phone: str, text: str) -> None:
        url = settings.SMS_HTTP_URL
        if not url:
            raise SmsError(_("SMS_HTTP_URL is not set: no SMS gateway to send to."))
        timeout = settings.SMS_HTTP_TIMEOUT
        rate = settings.SMS_RATE_PER_SECOND
        if rate and rate > 0:
            _bucket(float(rate)).acquire()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if settings.SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.SMS_HTTP_TOKEN}"
        request = urllib.request.Request(
            url,
            data=json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                answer = response.read(500)
        except urllib.error.HTTPError as exc:
            detail = exc.read(200).decode("utf-8", "replace").strip()
            raise SmsError(
                _("The SMS gateway answered HTTP %(status)s: %(detail)s")
                % {"status": exc.code, "detail": detail or exc.reason}
            ) from exc
        except TimeoutError as exc:
            raise SmsError(
                _("The SMS gateway did not answer within %(seconds)s seconds.")
                % {"seconds": timeout}
            ) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise SmsError(
                    _("The SMS gateway did not answer within %(seconds)s seconds.")
                    % {"seconds": timeout}
                ) from exc
            raise SmsError(
                _("The SMS gateway could not be reached: %(reason)s") % {"reason": exc.reason}
            ) from exc
        except OSError as exc:
            raise SmsError(
                _("The SMS gateway could not be reached: %(reason)s") % {"reason": exc}
            ) from exc
        if not 200 <= status < 300:
            raise SmsError(
                _("The SMS gateway answered HTTP %(status)s: %(detail)s")
                % {"status": status, "detail": answer.decode("utf-8", "replace").strip()}
            )


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def sms_send(*, phone: str, text: str) -> None:
    """Hand one SMS to the configured gateway; raises SmsError when it is not taken."""
    get_backend().send(phone=phone, text=text)
