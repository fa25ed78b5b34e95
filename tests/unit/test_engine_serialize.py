"""sandbox.engine patch 6: DynamoDB items serialised directly, as moto would.

The direct serialiser must write exactly the body moto's generic, shape-driven
serialiser writes, for any item, in every response that carries items.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.core.serialize import (
    ResponseSerializer,
    XFormedAttributePicker,
    get_serializer_class,
)
from moto.core.utils import get_service_model

from sandbox import engine

_SERVICE = get_service_model("dynamodb")
_JSON = get_serializer_class("dynamodb", "json")


class _Generic(_JSON):  # type: ignore[misc, valid-type]
    _serialize = engine._ORIGINAL_SERIALIZE


class _Direct(_JSON):  # type: ignore[misc, valid-type]
    _serialize = engine._fast_serialize


def _body(cls: type[ResponseSerializer], operation: str, result: Any) -> Any:
    serializer = cls(
        operation_model=_SERVICE.operation_model(operation),
        pretty_print=False,
        value_picker=XFormedAttributePicker(response_transformers=None),
    )
    response = serializer.serialize(result)
    return response["status_code"], response["headers"], response["body"]


_names = st.text(min_size=1, max_size=8)
_numbers = st.integers(-(10**12), 10**12).map(str) | st.decimals(
    allow_nan=False, allow_infinity=False, places=3
).map(str)
_blobs = st.binary(max_size=24)
# What moto hands the serialiser: DynamoType values expanded to plain dicts,
# binary values as raw bytes (moto.dynamodb.models.utilities.dynamo_to_dict).
_scalar = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=16)),
    st.builds(lambda v: {"N": v}, _numbers),
    st.builds(lambda v: {"B": v}, _blobs),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": sorted(v)}, st.sets(st.text(max_size=6), min_size=1)),
    st.builds(lambda v: {"NS": sorted(v)}, st.sets(_numbers, min_size=1)),
    st.builds(lambda v: {"BS": sorted(v)}, st.sets(_blobs, min_size=1, max_size=4)),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(inner, max_size=4)),
        st.builds(lambda v: {"M": v}, st.dictionaries(_names, inner, max_size=4)),
    ),
    max_leaves=12,
)
_items = st.dictionaries(_names, _value, min_size=1, max_size=10)


@settings(max_examples=300, deadline=None)
@given(item=_items)
def test_get_item_body_is_the_same(item: dict[str, Any]) -> None:
    assert _body(_Direct, "GetItem", {"Item": item}) == _body(
        _Generic, "GetItem", {"Item": item}
    )


@settings(max_examples=100, deadline=None)
@given(items=st.lists(_items, max_size=4), last=_items)
def test_query_and_update_bodies_are_the_same(
    items: list[dict[str, Any]], last: dict[str, Any]
) -> None:
    query = {"Items": items, "Count": len(items), "ScannedCount": len(items)}
    query["LastEvaluatedKey"] = last
    assert _body(_Direct, "Query", query) == _body(_Generic, "Query", query)
    update = {"Attributes": last, "ConsumedCapacity": {"TableName": "t"}}
    assert _body(_Direct, "UpdateItem", update) == _body(_Generic, "UpdateItem", update)
    batch = {"Responses": {"t": items}, "UnprocessedKeys": {}}
    assert _body(_Direct, "BatchGetItem", batch) == _body(
        _Generic, "BatchGetItem", batch
    )


@pytest.mark.parametrize(
    "odd",
    [
        {"S": 5},  # not a string: the generic serialiser decides
        {"X": "unknown type"},
        {"M": [("a", {"S": "b"})]},
        {"L": ({"S": "tuple"},)},
    ],
)
def test_values_it_does_not_know_go_the_generic_way(odd: dict[str, Any]) -> None:
    def outcome(cls: type[ResponseSerializer]) -> Any:
        try:
            return _body(cls, "GetItem", {"Item": {"a": odd}})
        except Exception as exc:  # the same failure counts as the same outcome
            return type(exc).__name__

    assert outcome(_Direct) == outcome(_Generic)


def test_a_real_round_trip_through_moto_with_the_patch() -> None:
    item: dict[str, Any] = {
        "PK": {"S": "k"},
        "n": {"N": "12.50"},
        "b": {"B": b"\x00\xffbytes"},
        "bs": {"BS": [b"a", b"b"]},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2"]},
        "m": {"M": {"inner": {"L": [{"S": "v"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    installed_here = not engine.is_installed()
    with mock_aws():
        if installed_here:
            engine.install()
        try:
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            client.put_item(TableName="t", Item=item)
            got = client.get_item(TableName="t", Key={"PK": {"S": "k"}})["Item"]
            updated = client.update_item(
                TableName="t",
                Key={"PK": {"S": "k"}},
                UpdateExpression="SET s = :s",
                ExpressionAttributeValues={":s": {"S": "new"}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        finally:
            if installed_here:
                engine.uninstall()
    assert json.dumps(got, sort_keys=True, default=repr) == json.dumps(
        item, sort_keys=True, default=repr
    )
    assert updated == {**item, "s": {"S": "new"}}
