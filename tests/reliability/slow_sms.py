"""An SMS gateway that takes its time, so a test can kill a worker in the middle of a send."""

import os
import time

from govgrid.notifications.sms import FileBackend


class SlowFileBackend(FileBackend):
    """FileBackend that waits SLOW_SMS_SECONDS (default 5) before appending the line."""

    def send(self, *, phone: str, text: str) -> None:
        time.sleep(float(os.environ.get("SLOW_SMS_SECONDS", "5")))
        super().send(phone=phone, text=text)
