"""Fixtures of the unit tests (defined in ``tests/support``)."""

from tests.support.api import env

__all__ = ["env"]
