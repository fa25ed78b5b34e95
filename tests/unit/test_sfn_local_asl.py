"""The ASL substitution for Step Functions Local (sandbox.sfn_local.asl).

The repo's state machine is read at test time, whatever it contains then: the
expectations are derived from the file itself (where it uses a feature Step
Functions Local lacks), never from a copy of it.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import aws
from sandbox.sfn_local.asl import (
    RULES,
    UnsupportedDefinition,
    adapt_for_sfn_local,
    retry_delays,
)
from tests.support.local import json_fields

REPO = Path(__file__).resolve().parents[2]
_MACHINE = next(
    r["Properties"]
    for r in aws.load_template()["Resources"].values()
    if r["Type"] == "AWS::Serverless::StateMachine"
)
ASL_PATH = aws.TEMPLATE_PATH.parent / _MACHINE["DefinitionUri"]
# Fields Step Functions Local lacks that have a substitute.
SUBSTITUTED = {"MaxDelaySeconds", "JitterStrategy", "ErrorPath", "CausePath"}


def _repo_asl() -> dict[str, Any]:
    return dict(json.loads(ASL_PATH.read_text(encoding="utf-8")))


# --------------------------------------------------------------------------- #
# An independent reading of a definition (not the module's walker)
# --------------------------------------------------------------------------- #
def _states(machine: dict[str, Any], prefix: str = "") -> dict[str, dict[str, Any]]:
    """Every state by its nested name, Parallel branches and Map bodies too."""
    found: dict[str, dict[str, Any]] = {}
    for name, state in machine.get("States", {}).items():
        found[prefix + name] = state
        for i, branch in enumerate(state.get("Branches", [])):
            found.update(_states(branch, f"{prefix}{name}.Branches[{i}]."))
        for key in ("Iterator", "ItemProcessor"):
            if key in state:
                found.update(_states(state[key], f"{prefix}{name}.{key}."))
    return found


def _uses(machine: dict[str, Any]) -> set[tuple[str, str]]:
    """(where, field) for every substituted field the definition uses."""
    uses: set[tuple[str, str]] = set()
    for where, state in _states(machine).items():
        for field in ("ErrorPath", "CausePath"):
            if field in state:
                uses.add((where, field))
        for i, retrier in enumerate(state.get("Retry", [])):
            for field in ("MaxDelaySeconds", "JitterStrategy"):
                if field in retrier:
                    uses.add((f"{where}.Retry[{i}]", field))
    return uses


def _without_substituted(
    machine: dict[str, Any], uses: set[tuple[str, str]]
) -> dict[str, Any]:
    """The definition minus what the rules may change where ``uses`` says."""
    result = copy.deepcopy(machine)
    for where, state in _states(result).items():
        if {(where, "ErrorPath"), (where, "CausePath")} & uses:
            for field in ("ErrorPath", "CausePath", "Error", "Cause"):
                state.pop(field, None)
        for i, retrier in enumerate(state.get("Retry", [])):
            if (f"{where}.Retry[{i}]", "MaxDelaySeconds") in uses:
                for field in ("MaxDelaySeconds", "IntervalSeconds", "BackoffRate"):
                    retrier.pop(field, None)
            retrier.pop("JitterStrategy", None)
    return result


# --------------------------------------------------------------------------- #
# The repo's state machine, as it is now
# --------------------------------------------------------------------------- #
def test_repo_asl_is_adapted_where_it_uses_what_sfn_local_lacks() -> None:
    original = _repo_asl()

    adapted = adapt_for_sfn_local(json.dumps(original))

    assert {(c.where, c.rule) for c in adapted.changes} == _uses(original)
    assert not json_fields(json.loads(adapted.definition)) & SUBSTITUTED


def test_repo_asl_keeps_its_workflow() -> None:
    """States, transitions, parameters, paths, errors matched, catchers, retry
    counts: all as on AWS; only the substituted fields differ."""
    original = _repo_asl()

    adapted = json.loads(adapt_for_sfn_local(original).definition)

    uses = _uses(original)
    assert _without_substituted(adapted, uses) == _without_substituted(original, uses)
    assert list(adapted["States"]) == list(original["States"])


def test_repo_asl_retries_as_often_and_never_wait_longer_than_on_aws() -> None:
    original = _states(_repo_asl())
    adapted = _states(json.loads(adapt_for_sfn_local(_repo_asl()).definition))

    for where, state in original.items():
        for aws_retrier, local_retrier in zip(
            state.get("Retry", []), adapted[where].get("Retry", []), strict=True
        ):
            aws_delays = retry_delays(aws_retrier)
            local_delays = retry_delays(local_retrier)
            assert len(local_delays) == len(aws_delays), where
            assert all(
                local <= theirs + 1e-9
                for local, theirs in zip(local_delays, aws_delays, strict=True)
            ), (where, aws_delays, local_delays)


def test_repo_asl_adapted_passes_statelint(tmp_path: Path) -> None:
    statelint = shutil.which("statelint") or str(REPO / ".venv/bin/statelint")
    if not Path(statelint).exists():
        pytest.fail("statelint is a dev dependency (requirements-dev.txt)")
    adapted = tmp_path / "adapted.asl.json"
    adapted.write_text(adapt_for_sfn_local(_repo_asl()).definition)

    result = subprocess.run(  # noqa: S603 - our own dev tool
        [statelint, "--ignore=URI", str(adapted)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


# --------------------------------------------------------------------------- #
# Each rule on a definition made for it
# --------------------------------------------------------------------------- #
def _machine(**states: dict[str, Any]) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


TASK = "arn:aws:lambda:us-east-1:123456789012:function:F"


def test_max_delay_keeps_attempts_and_the_cap_with_a_lower_backoff() -> None:
    retrier = {
        "ErrorEquals": ["AuctionNotSettled"],
        "IntervalSeconds": 2,
        "MaxAttempts": 8,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 120,
    }
    machine = _machine(
        T={"Type": "Task", "Resource": TASK, "Retry": [retrier], "End": True}
    )

    adapted = adapt_for_sfn_local(machine)

    local = json.loads(adapted.definition)["States"]["T"]["Retry"][0]
    assert "MaxDelaySeconds" not in local
    assert local["MaxAttempts"] == 8
    assert local["IntervalSeconds"] == 2
    assert 1.0 < local["BackoffRate"] < 2.0
    delays = retry_delays(local)
    assert max(delays) <= 120
    assert delays[-1] > 115  # the last retry still waits about the cap
    (change,) = adapted.changes
    assert change.where == "T.Retry[0]"
    assert "366 s" in change.detail  # AWS's total is stated next to ours


def test_max_delay_below_the_interval_waits_the_cap_every_time() -> None:
    retrier = {"ErrorEquals": ["X"], "IntervalSeconds": 30, "MaxDelaySeconds": 10}
    machine = _machine(
        T={"Type": "Task", "Resource": TASK, "Retry": [retrier], "End": True}
    )

    local = json.loads(adapt_for_sfn_local(machine).definition)["States"]["T"]

    assert retry_delays(local["Retry"][0]) == retry_delays(retrier) == [10, 10, 10]


def test_a_cap_that_is_never_reached_is_only_dropped() -> None:
    retrier = {"ErrorEquals": ["X"], "IntervalSeconds": 1, "MaxDelaySeconds": 60}
    machine = _machine(
        T={"Type": "Task", "Resource": TASK, "Retry": [retrier], "End": True}
    )

    local = json.loads(adapt_for_sfn_local(machine).definition)["States"]["T"]

    assert local["Retry"][0] == {"ErrorEquals": ["X"], "IntervalSeconds": 1}


@pytest.mark.parametrize("strategy", ["FULL", "NONE"])
def test_jitter_is_dropped(strategy: str) -> None:
    retrier = {"ErrorEquals": ["X"], "JitterStrategy": strategy}
    machine = _machine(
        T={"Type": "Task", "Resource": TASK, "Retry": [retrier], "End": True}
    )

    adapted = adapt_for_sfn_local(machine)

    assert json.loads(adapted.definition)["States"]["T"]["Retry"][0] == {
        "ErrorEquals": ["X"]
    }
    assert [c.rule for c in adapted.changes] == ["JitterStrategy"]


def test_fail_paths_become_static_and_say_so() -> None:
    machine = _machine(
        F={"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.why"}
    )

    adapted = adapt_for_sfn_local(machine)

    fail = json.loads(adapted.definition)["States"]["F"]
    assert fail == {
        "Type": "Fail",
        "Error": "ErrorPath $.failure.Error",
        "Cause": "CausePath $.why",
    }
    assert {c.rule for c in adapted.changes} == {"ErrorPath", "CausePath"}


def test_states_inside_parallel_branches_and_map_bodies_are_adapted() -> None:
    inner = _machine(
        Bid={
            "Type": "Task",
            "Resource": TASK,
            "Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}],
            "Next": "Stop",
        },
        Stop={"Type": "Fail", "ErrorPath": "$.e"},
    )
    machine = _machine(
        Fan={
            "Type": "Parallel",
            "Branches": [inner],
            "Next": "Each",
        },
        Each={
            "Type": "Map",
            "ItemProcessor": {**inner, "ProcessorConfig": {"Mode": "INLINE"}},
            "End": True,
        },
    )

    adapted = adapt_for_sfn_local(machine)

    assert {(c.where, c.rule) for c in adapted.changes} == _uses(machine)
    assert len(adapted.changes) == 4
    assert not json_fields(json.loads(adapted.definition)) & SUBSTITUTED


def test_a_definition_without_such_features_is_unchanged() -> None:
    machine = _machine(
        W={"Type": "Wait", "TimestampPath": "$.plan.wake_at", "Next": "T"},
        T={
            "Type": "Task",
            "Resource": TASK,
            "Retry": [{"ErrorEquals": ["X"], "BackoffRate": 1.5}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "W"}],
            "End": True,
        },
    )

    adapted = adapt_for_sfn_local(machine)

    assert adapted.changes == ()
    assert json.loads(adapted.definition) == machine


def test_the_input_is_not_modified() -> None:
    machine = _machine(F={"Type": "Fail", "ErrorPath": "$.e"})
    before = copy.deepcopy(machine)

    adapt_for_sfn_local(machine)

    assert machine == before


# --------------------------------------------------------------------------- #
# What cannot be substituted
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    ("machine", "rule", "where"),
    [
        (
            {"QueryLanguage": "JSONata", **_machine(S={"Type": "Succeed"})},
            "JSONata",
            "(machine)",
        ),
        (
            _machine(
                P={"Type": "Pass", "Output": "{% $states.input.a %}", "End": True}
            ),
            "JSONata",
            "P",
        ),
        (
            _machine(P={"Type": "Pass", "Assign": {"x.$": "$.a"}, "End": True}),
            "Assign",
            "P",
        ),
        (
            _machine(
                C={
                    "Type": "Choice",
                    "Choices": [
                        {
                            "Variable": "$.a",
                            "IsPresent": True,
                            "Assign": {"seen": True},
                            "Next": "S",
                        }
                    ],
                    "Default": "S",
                },
                S={"Type": "Succeed"},
            ),
            "Assign",
            "C.Choices[0]",
        ),
        (
            _machine(
                T={
                    "Type": "Task",
                    "Resource": TASK,
                    "Credentials": {"RoleArn": "arn:aws:iam::1:role/x"},
                    "End": True,
                }
            ),
            "Credentials",
            "T",
        ),
        (
            _machine(
                H={
                    "Type": "Task",
                    "Resource": "arn:aws:states:::http:invoke",
                    "Parameters": {"ApiEndpoint": "https://example.com"},
                    "End": True,
                }
            ),
            "HttpInvoke",
            "H",
        ),
    ],
)
def test_features_without_a_faithful_substitute_are_refused(
    machine: dict[str, Any], rule: str, where: str
) -> None:
    with pytest.raises(UnsupportedDefinition) as refused:
        adapt_for_sfn_local(machine)

    assert (where, rule) in {(w, r) for w, r, _ in refused.value.problems}
    assert "make dev" in str(refused.value)


def test_jsonata_looking_comments_are_only_comments() -> None:
    machine = _machine(
        P={"Type": "Pass", "Comment": "not {% an expression %} here", "End": True}
    )

    assert adapt_for_sfn_local(machine).changes == ()


def test_every_problem_is_reported_at_once() -> None:
    machine = _machine(
        A={"Type": "Pass", "Assign": {"x": 1}, "Next": "B"},
        B={"Type": "Pass", "Assign": {"y": 2}, "End": True},
    )

    with pytest.raises(UnsupportedDefinition) as refused:
        adapt_for_sfn_local(machine)

    assert [w for w, _, _ in refused.value.problems] == ["A", "B"]


def test_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError):
        adapt_for_sfn_local("[1, 2]")


def test_every_rule_is_documented() -> None:
    docs = (REPO / "docs" / "local-stack.md").read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule.name}`" in docs, rule.name


# --------------------------------------------------------------------------- #
# The retry rewrite, for any retrier
# --------------------------------------------------------------------------- #
@given(
    interval=st.integers(1, 120),
    rate=st.floats(1.0, 5.0),
    attempts=st.integers(0, 25),
    cap=st.integers(1, 3600),
)
def test_retry_rewrite_keeps_attempts_and_never_outwaits_aws(
    interval: int, rate: float, attempts: int, cap: int
) -> None:
    retrier = {
        "ErrorEquals": ["X"],
        "IntervalSeconds": interval,
        "BackoffRate": rate,
        "MaxAttempts": attempts,
        "MaxDelaySeconds": cap,
    }
    machine = _machine(
        T={"Type": "Task", "Resource": TASK, "Retry": [retrier], "End": True}
    )

    local = json.loads(adapt_for_sfn_local(machine).definition)["States"]["T"]["Retry"][
        0
    ]

    aws_delays = retry_delays(retrier)
    local_delays = retry_delays(local)
    assert "MaxDelaySeconds" not in local
    assert isinstance(local.get("IntervalSeconds", 1), int)
    assert local.get("BackoffRate", 2.0) >= 1.0
    assert len(local_delays) == attempts
    assert all(
        ours <= theirs + 1e-6
        for ours, theirs in zip(local_delays, aws_delays, strict=True)
    )
    if all(d < cap for d in aws_delays):
        assert local_delays == pytest.approx(aws_delays)
