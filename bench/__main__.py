"""``python -m bench [--smoke] [--out DIR] [SUITE ...]``.

Suites: ``fire``, ``cost``, ``api``, ``coldstart``, ``artifact`` (default: all,
in that order). ``--smoke`` runs the small version of each (seconds, for CI:
it checks that the harness works, not the figures). Results go to
``bench/results/`` (git-ignored): one JSON per figure, PNG histograms, and
``summary.md`` (the table quoted by ``docs/benchmarks.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import env as _env  # noqa: F401 - before anything loads boto3/Powertools
from bench.common import results_dir

SUITES = ("fire", "cost", "api", "coldstart", "artifact")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)}")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (CI)")
    parser.add_argument("--out", type=Path, default=None, help="results directory")
    parser.add_argument(
        "--fire-runs",
        default="",
        help="comma-separated fire run names (default: every run of the mode)",
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="artifact: measure the existing .aws-sam/build (skip make build)",
    )
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    suites = args.suites or list(SUITES)
    out = results_dir(args.out)

    from bench import runner

    return runner.run(
        suites,
        out=out,
        smoke=args.smoke,
        fire_runs=[r for r in args.fire_runs.split(",") if r],
        build=not args.no_build,
    )


if __name__ == "__main__":
    sys.exit(main())
