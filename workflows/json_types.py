"""JSON-faithful input types for request models.

JSON Schema's ``integer`` is a number with no fractional part: ``74.0`` is an
integer, ``"74"`` and ``true`` are not. pydantic's strict ``int`` refuses
``74.0`` and its lax ``int`` accepts ``"74"``. ``WholeNumbers`` (a base for
request bodies whose fields are never floats) turns a whole float into an int
before strict validation, so a strict int field accepts exactly what the
schema promises (and the schema keeps its ``minimum``/``maximum``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator


def _integral_float_to_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


class WholeNumbers(BaseModel):
    @model_validator(mode="before")
    @classmethod
    def _whole_numbers(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: _integral_float_to_int(v) for key, v in data.items()}
        return data
