"""The ``scenario`` fixture: a fresh user with a linked eBay account on the
session's local stack (``tests/support/scenarios.py``)."""

from __future__ import annotations

import uuid

import pytest

from sandbox.stack import LocalStack
from tests.support.scenarios import Scenario


@pytest.fixture
def scenario(stack: LocalStack) -> Scenario:
    """A fresh user with a linked eBay account."""
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    stack.link_ebay(user_id)
    return Scenario(stack=stack, user=(user_id, f"{user_id}@example.com"))
