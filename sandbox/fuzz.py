"""``python -m sandbox.fuzz``: schemathesis against a fresh local stack.

Starts the stack of ``tests`` (moto in this process, the eBay and Postmark
simulators, the local API gateway on a free port), signs in a fresh user whose
eBay account is linked through the (simulated) consent flow, lists a few
auctions that snipes can be created on, and runs ``st run`` with every check
and every phase (examples, coverage, fuzzing, stateful) at a fixed seed.
``make fuzz`` runs it at full size; ``tests/integration/test_fuzz.py`` at CI
size. Known schemathesis false positives and their reasons: docs/fuzzing.md.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess  # nosec B404 - runs our own st command line
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sandbox import POWERTOOLS_ENV, offline_environment, prepare_process

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / "schemathesis.toml"
HOOKS = "tests.schemathesis_hooks"
DEFAULT_SEED = 1212


@dataclass(frozen=True)
class FuzzResult:
    exit_code: int
    cases: int
    failures: int
    output: str


def run(
    *, max_examples: int, seed: int = DEFAULT_SEED, report_dir: Path | None = None
) -> FuzzResult:
    """Start a stack, fuzz it, stop it (the environment is restored after)."""
    saved = dict(os.environ)
    try:
        return _run(max_examples=max_examples, seed=seed, report_dir=report_dir)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        time.tzset()


def _run(*, max_examples: int, seed: int, report_dir: Path | None) -> FuzzResult:
    namespace = POWERTOOLS_ENV["POWERTOOLS_METRICS_NAMESPACE"]
    prepare_process(
        {
            **offline_environment("fuzz", namespace),
            # Thousands of requests: no per-request log lines or metric blobs.
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    from sandbox.auth import email_for, issue_token, load_key
    from sandbox.dev import link_through_consent
    from sandbox.httpserver import BackgroundServer
    from sandbox.local_api import LocalApi
    from sandbox.stack import StackConfig, local_stack

    origins = "http://localhost:3000,http://127.0.0.1:3000"
    config = StackConfig(
        lead_seconds=3.0,
        settle_seconds=1.0,
        extra_env={"CORS_ALLOWED_ORIGINS": origins},
    )
    key = load_key()
    with local_stack(config) as stack:
        from api.app import lambda_handler

        api = BackgroundServer(
            LocalApi(lambda_handler, signing_key=key, origins=origins.split(",")),
            name="fuzz-api",
        ).start()
        try:
            user = f"fuzz-{uuid.uuid4().hex[:8]}"
            token = issue_token(user, key=key, email=email_for(user))
            link_through_consent(api.url, token, user)
            # The documented examples' items exist (so the examples phase and
            # the stateful phase create real snipes), and a few more.
            stack.ebay.create_auction(
                title="Vintage Omega Seamaster 1968",
                start_price="5.00",
                end_in_s=3600,
                item_id="v1|123456789012|0",
            )
            stack.ebay.create_auction(
                title="Leica M6 body",
                start_price="2450.00",
                end_in_s=7200,
                item_id="v1|223456789012|0",
                listing_type="FIXED_PRICE",
            )
            for n in range(3):
                stack.ebay.create_auction(
                    title=f"Fuzz lot {n}", start_price="5.00", end_in_s=3600 + n
                )
            return _schemathesis(api.url, token, max_examples, seed, report_dir)
        finally:
            api.stop()


def _schemathesis(
    api_url: str, token: str, max_examples: int, seed: int, report_dir: Path | None
) -> FuzzResult:
    report = report_dir or REPO / ".sandbox" / "fuzz"
    report.mkdir(parents=True, exist_ok=True)
    events = report / "events.ndjson"
    command = [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{api_url}/api/openapi.json",
        "--checks",
        "all",
        # Replaced by the hook valid_data_passes_validation (docs/fuzzing.md).
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--header",
        f"Authorization: Bearer {token}",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(events),
        "--no-color",
        "--output-sanitize",
        "true",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": HOOKS, "PYTHONPATH": str(REPO)}
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - our own command line  # nosec B603
        command, env=env, capture_output=True, text=True, cwd=REPO, check=False
    )
    output = done.stdout + done.stderr
    output += f"\n(schemathesis ran {time.monotonic() - started:.0f} s)\n"
    cases, failures = _count(done.stdout)
    return FuzzResult(done.returncode, cases, failures, output)


def _count(summary: str) -> tuple[int, int]:
    """Test cases generated and unique failures, from st's summary."""
    generated = re.search(r"(\d+) generated", summary)
    found = re.search(r"found (\d+) unique failures", summary)
    return (
        int(generated.group(1)) if generated else 0,
        int(found.group(1)) if found else 0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--min-cases", type=int, default=0, help="fail unless this many ran"
    )
    args = parser.parse_args()
    result = run(max_examples=args.max_examples, seed=args.seed)
    print(result.output)
    print(f"fuzz: {result.cases} test cases, {result.failures} unique failures")
    if result.cases < args.min_cases:
        print(f"fuzz: fewer than {args.min_cases} test cases", file=sys.stderr)
        return 1
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
