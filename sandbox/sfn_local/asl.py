"""Our ASL, adapted at definition time for Step Functions Local.

AWS marks Step Functions Local "unsupported" and "without feature parity"
(docs/local-stack.md, "Step Functions Local"): its last image predates several
ASL additions. The AWS definition in ``statemachines/`` is never weakened;
instead, when the state machine is created in Step Functions Local, the
rendered definition goes through :func:`adapt_for_sfn_local`, which walks every
state (also inside ``Parallel`` branches and ``Map`` processors) and applies
the rules of :data:`RULES`:

* a rule with a rewrite replaces the feature by the closest construct Step
  Functions Local has, and records a :class:`Change` saying what differs;
* a rule without one (JSONata, variables, ...) cannot be emulated faithfully:
  :class:`UnsupportedDefinition` names every state that uses it, and the
  engine refuses to start rather than run a different workflow.

Rules match on field names wherever they appear, so a definition that gains
another capped retrier, an ``ErrorPath``, or a new Wait loop is adapted
without touching this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

__all__ = [
    "RULES",
    "Adapted",
    "Change",
    "Rule",
    "UnsupportedDefinition",
    "adapt_for_sfn_local",
    "retry_delays",
    "walk",
]

Kind = Literal["machine", "state", "retrier", "catcher", "choice"]
Node = dict[str, Any]

# ASL defaults for a retrier (States Language specification).
DEFAULT_INTERVAL_SECONDS: Final = 1
DEFAULT_MAX_ATTEMPTS: Final = 3
DEFAULT_BACKOFF_RATE: Final = 2.0


@dataclass(frozen=True)
class Change:
    """One substitution made for Step Functions Local."""

    where: str  # e.g. "Check result.Retry[2]"
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.detail}"


class UnsupportedDefinition(ValueError):
    """The definition uses a feature Step Functions Local cannot run."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems  # (where, rule, reason)
        lines = "\n".join(f"  {w}: {r} ({why})" for w, r, why in problems)
        super().__init__(
            "the state machine uses features Step Functions Local does not have "
            f"and that cannot be substituted faithfully:\n{lines}\n"
            "Use the moto engine (make dev) for this definition."
        )


@dataclass(frozen=True)
class Rule:
    """A feature Step Functions Local lacks, and what to do about it.

    ``rewrite`` mutates the node and returns a description of the difference;
    ``None`` means the feature cannot be substituted (the definition is refused).
    """

    name: str
    kind: Kind
    applies: Callable[[Node], bool]
    reason: str
    rewrite: Callable[[Node], str] | None = None


@dataclass(frozen=True)
class Adapted:
    definition: str  # JSON text for CreateStateMachine
    changes: tuple[Change, ...]


# --------------------------------------------------------------------------- #
# Walking a definition
# --------------------------------------------------------------------------- #
def walk(machine: Node, prefix: str = "") -> Iterator[tuple[Kind, str, Node]]:
    """Every node a rule can apply to: ``(kind, where, node)``, depth first.

    Covers the machine itself, each state, its retriers, catchers and Choice
    rules, and the states of ``Parallel`` branches and ``Map`` iterators or
    item processors (``where`` nests: ``"Fan out.Branches[0].Bid"``).
    """
    if not prefix:
        yield "machine", "(machine)", machine
    for name, state in (machine.get("States") or {}).items():
        if not isinstance(state, dict):
            continue
        where = f"{prefix}{name}"
        yield "state", where, state
        for i, retrier in enumerate(state.get("Retry") or []):
            if isinstance(retrier, dict):
                yield "retrier", f"{where}.Retry[{i}]", retrier
        for i, catcher in enumerate(state.get("Catch") or []):
            if isinstance(catcher, dict):
                yield "catcher", f"{where}.Catch[{i}]", catcher
        for i, choice in enumerate(state.get("Choices") or []):
            if isinstance(choice, dict):
                yield "choice", f"{where}.Choices[{i}]", choice
        for i, branch in enumerate(state.get("Branches") or []):
            if isinstance(branch, dict):
                yield from walk(branch, f"{where}.Branches[{i}].")
        for key in ("Iterator", "ItemProcessor"):
            inner = state.get(key)
            if isinstance(inner, dict):
                yield from walk(inner, f"{where}.{key}.")


def _strings(value: Any) -> Iterator[str]:
    """Every string value (not keys, not comments) in ``value``."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "Comment":
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _own_fields(node: Node) -> Node:
    """The node without nested states (so a finding is reported once)."""
    nested = {
        "States",
        "Branches",
        "Iterator",
        "ItemProcessor",
        "Retry",
        "Catch",
        "Choices",
    }
    return {k: v for k, v in node.items() if k not in nested}


# --------------------------------------------------------------------------- #
# Retry: MaxDelaySeconds, JitterStrategy
# --------------------------------------------------------------------------- #
def retry_delays(retrier: Mapping[str, Any]) -> list[float]:
    """The waits before each retry, as AWS computes them without jitter.

    ``IntervalSeconds * BackoffRate^(n-1)``, capped at ``MaxDelaySeconds``.
    """
    interval = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL_SECONDS))
    rate = float(retrier.get("BackoffRate", DEFAULT_BACKOFF_RATE))
    attempts = int(retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS))
    cap = retrier.get("MaxDelaySeconds")
    delays = [interval * rate**n for n in range(attempts)]
    if cap is not None:
        delays = [min(d, float(cap)) for d in delays]
    return delays


def _schedule(delays: list[float]) -> str:
    shown = ", ".join(f"{d:g}" if d == int(d) else f"{d:.1f}" for d in delays)
    return f"[{shown}] s, {sum(delays):.0f} s in all"


def _rewrite_max_delay(retrier: Node) -> str:
    """Keep every wait under the cap and keep the number of attempts.

    Without ``MaxDelaySeconds`` the exponential schedule would outgrow the cap
    (2 s * 2^7 = 256 s instead of 120 s). The rewrite lowers ``BackoffRate`` so
    that the last retry waits at most the cap: the same attempts, no wait
    longer than on AWS, a shorter total (stated in the change).
    """
    aws = retry_delays(retrier)
    cap = int(retrier.pop("MaxDelaySeconds"))
    interval = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL_SECONDS))
    rate = float(retrier.get("BackoffRate", DEFAULT_BACKOFF_RATE))
    attempts = int(retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS))
    if attempts <= 0 or (interval < cap and interval * rate ** (attempts - 1) <= cap):
        return f"cap {cap} s never reached; dropped (same schedule {_schedule(aws)})"
    if interval >= cap:
        retrier["IntervalSeconds"] = cap
        retrier["BackoffRate"] = 1.0
    else:  # attempts >= 2 here: a single attempt waits `interval` < cap
        lowered = math.floor((cap / interval) ** (1 / (attempts - 1)) * 1000) / 1000
        retrier["BackoffRate"] = max(1.0, lowered)
    local = retry_delays(retrier)
    return (
        f"cap {cap} s dropped, BackoffRate {rate:g} -> {retrier['BackoffRate']:g}: "
        f"AWS waits {_schedule(aws)}; here {_schedule(local)}"
    )


def _rewrite_jitter(retrier: Node) -> str:
    strategy = retrier.pop("JitterStrategy")
    if strategy == "NONE":
        return "NONE is the default; dropped"
    return (
        f"{strategy} dropped: every retry waits its full interval "
        "(the upper bound of AWS's randomised wait)"
    )


# --------------------------------------------------------------------------- #
# Fail: ErrorPath, CausePath
# --------------------------------------------------------------------------- #
def _rewrite_path(field: str, static: str) -> Callable[[Node], str]:
    def rewrite(state: Node) -> str:
        path = state.pop(field)
        state[static] = f"{field} {path}"
        return (
            f"{field} {path!r} replaced by the static {static} {state[static]!r}; "
            f"on AWS the {static.lower()} is read from the state's input"
        )

    return rewrite


# --------------------------------------------------------------------------- #
# Features that cannot be substituted
# --------------------------------------------------------------------------- #
def _has(field: str) -> Callable[[Node], bool]:
    return lambda node: field in node


def _jsonata(node: Node) -> bool:
    if node.get("QueryLanguage") == "JSONata":
        return True
    return any("{%" in s and "%}" in s for s in _strings(_own_fields(node)))


_ALL_KINDS: Final[tuple[Kind, ...]] = (
    "machine",
    "state",
    "retrier",
    "catcher",
    "choice",
)

RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "MaxDelaySeconds",
        "retrier",
        _has("MaxDelaySeconds"),
        "Retry field added to ASL in September 2023",
        _rewrite_max_delay,
    ),
    Rule(
        "JitterStrategy",
        "retrier",
        _has("JitterStrategy"),
        "Retry field added to ASL in September 2023",
        _rewrite_jitter,
    ),
    Rule(
        "ErrorPath",
        "state",
        _has("ErrorPath"),
        "Fail field added to ASL in September 2023",
        _rewrite_path("ErrorPath", "Error"),
    ),
    Rule(
        "CausePath",
        "state",
        _has("CausePath"),
        "Fail field added to ASL in September 2023",
        _rewrite_path("CausePath", "Cause"),
    ),
    *(
        Rule("JSONata", kind, _jsonata, "query language added in November 2024")
        for kind in _ALL_KINDS
    ),
    *(
        Rule("Assign", kind, _has("Assign"), "variables added in November 2024")
        for kind in ("state", "catcher", "choice")
    ),
    Rule(
        "Credentials",
        "state",
        _has("Credentials"),
        "cross-account task credentials added in November 2023",
    ),
    Rule(
        "HttpInvoke",
        "state",
        lambda state: str(state.get("Resource", "")).startswith(
            "arn:aws:states:::http:"
        ),
        "HTTP Task (arn:aws:states:::http:invoke) added in November 2023",
    ),
    Rule(
        "MaxConcurrencyPath",
        "state",
        _has("MaxConcurrencyPath"),
        "Map field added in 2024",
    ),
)
"""What Step Functions Local lacks that an ASL of ours might use, in order."""


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #
def adapt_for_sfn_local(definition: str | Mapping[str, Any]) -> Adapted:
    """The definition Step Functions Local can run, and what was changed.

    Raises:
        UnsupportedDefinition: a feature without a faithful substitute is used.
        ValueError: ``definition`` is not a JSON object.
    """
    source = json.loads(definition) if isinstance(definition, str) else definition
    if not isinstance(source, dict):
        raise ValueError("an ASL definition is a JSON object")
    machine: Node = json.loads(json.dumps(source))  # a copy sharing no node
    changes: list[Change] = []
    problems: list[tuple[str, str, str]] = []
    for kind, where, node in list(walk(machine)):
        for rule in RULES:
            if rule.kind != kind or not rule.applies(node):
                continue
            if rule.rewrite is None:
                problems.append((where, rule.name, rule.reason))
            else:
                changes.append(Change(where, rule.name, rule.rewrite(node)))
    if problems:
        raise UnsupportedDefinition(problems)
    return Adapted(json.dumps(machine, indent=2), tuple(changes))
