"""Operator CLI of the sniper: ``python -m ops --help`` (docs/operations.md).

Works against AWS (the stack's table, state machine and Notify function, found
from ``--stack`` outputs or the same environment variables the Lambdas read)
and against the local stack of ``make dev`` (``--local``). Every AWS call goes
through boto3 and honours the standard ``AWS_ENDPOINT_URL*`` variables.
"""
