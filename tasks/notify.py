"""Task Lambda: make sure a final status is recorded and email the user."""

from __future__ import annotations

from tasks.handler import task_handler
from workflows.notifications import NotifyInput, finish_and_notify

lambda_handler = task_handler(NotifyInput, finish_and_notify)
