"""Stopping the child processes the local stack and its tests start."""

from __future__ import annotations

import os
import signal
import subprocess  # nosec B404 # only stops processes we started
from typing import Any


def stop_process(
    process: subprocess.Popen[Any],
    sig: signal.Signals,
    timeout: float,
    *,
    group: bool,
) -> None:
    """Send ``sig`` to ``process`` (to its whole process group when ``group``),
    wait up to ``timeout`` seconds for it to end, then kill it; nothing when it
    has ended already."""
    if process.poll() is not None:
        return

    def send(s: signal.Signals) -> None:
        if group:
            os.killpg(process.pid, s)
        else:
            process.send_signal(s)

    send(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait()
