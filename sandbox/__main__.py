"""Sandbox commands.

python -m sandbox dev          run the whole stack locally until Ctrl-C
python -m sandbox dev-sfn-local  the same, Step Functions Local (Docker) as engine
python -m sandbox demo         drive a winning and a losing snipe against it
python -m sandbox token USER   print a bearer token for USER (their ``sub``)
"""

from __future__ import annotations

import argparse
import os
import sys

from sandbox import POWERTOOLS_ENV


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the local stack until Ctrl-C")
    commands.add_parser(
        "dev-sfn-local", help="the local stack with Step Functions Local (Docker)"
    )
    commands.add_parser("demo", help="drive two snipes against a running stack")
    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("user", help="the user id (Cognito 'sub')")
    token.add_argument("--email", help="email claim (default: <user>@example.com)")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    args = parser.parse_args(argv)
    # Before Powertools is imported: it reads these once (as on AWS, where the
    # function's environment exists before its code loads).
    for key, value in POWERTOOLS_ENV.items():
        os.environ.setdefault(key, value)

    if args.command == "dev":
        from sandbox import dev

        return dev.main()
    if args.command == "dev-sfn-local":
        from sandbox.sfn_local import cli

        return cli.main()
    if args.command == "demo":
        from sandbox import demo

        return demo.main()
    from sandbox.auth import issue_token, load_key

    print(
        issue_token(args.user, key=load_key(), email=args.email, ttl_seconds=args.ttl)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
