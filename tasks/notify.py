"""Task Lambda: make sure a final status is recorded and email the user.

While the result is not settled (``$.result.settled`` false) it sends at most
one "result pending" email instead and the state machine checks again.
"""

from __future__ import annotations

from tasks.handler import task_handler
from workflows.notifications import NotifyInput, finish_and_notify

lambda_handler = task_handler(NotifyInput, finish_and_notify)
