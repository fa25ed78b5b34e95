"""A local AWS for the sniper, built from the repo's own definitions.

:func:`provision` creates, in moto, what ``template.yaml`` and the state
machine's ``.asl.json`` describe:

* the DynamoDB table, from the template's own ``AWS::DynamoDB::Table``
  properties (key schema, attributes, GSIs, billing mode, TTL);
* the token KMS key (``AWS::KMS::Key``, rotation as in the template) and its
  ``AWS::KMS::Alias``, and the app secrets (``AWS::SecretsManager::Secret``:
  the values given to :func:`provision`, over what the template's
  ``GenerateSecretString`` generates); ``${AWS::StackName}`` is
  ``<name_prefix>sniper-local``;
* one Lambda function per ``AWS::Serverless::Function`` (name = logical id,
  ``Handler`` from the template, a tiny dummy zip); invocations run our real
  handlers in-process through :mod:`sandbox.engine`;
* the state machine, with ``DefinitionSubstitutions`` resolved from the
  template's own keys to the moto function ARNs (a published version for
  ``!Ref Fn.Version``).

It works in both of moto's modes:

* in-process: :func:`in_process_aws` (``mock_aws`` with ASL execution on);
* server: :class:`MotoServer` (a ``ThreadedMotoServer`` in this process, so
  the engine's invoke hook applies too), then ``provision(endpoint_url=...)``.

Configuration: our functions read their settings from the process
environment, which the harness sets once (:meth:`LocalAws.environment` and
:func:`environ`), never per invocation.  Values are restored afterwards but keys
are never deleted (deleting raced with botocore under load).  Do not run both
modes at once in one process: they share moto's backends and ``mock_aws``
resets them.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

import boto3
from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from sandbox import engine
from sandbox.template import (
    _PLACEHOLDER,
    REPO_ROOT,
    TEMPLATE_PATH,
    TemplateError,
    _function_setting,
    _generated_secret,
    _has_intrinsic,
    _only,
    _resources,
    asl_placeholders,
    load_template,
    render_definition,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_stepfunctions import SFNClient

__all__ = [
    "ACCOUNT_ID",
    "FAKE_CREDENTIALS",
    "MOTO_CONFIG",
    "REPO_ROOT",
    "TEMPLATE_PATH",
    "LocalAws",
    "MotoServer",
    "TemplateError",
    "asl_placeholders",
    "environ",
    "in_process_aws",
    "load_template",
    "provision",
    "render_definition",
]

ACCOUNT_ID: Final = "123456789012"  # moto's default account

MOTO_CONFIG: Final[DefaultConfig] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
FAKE_CREDENTIALS: Final[dict[str, str]] = dict.fromkeys(
    (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SECURITY_TOKEN",
        "AWS_SESSION_TOKEN",
    ),
    "testing",  # moto's fake credentials
)

_FUNCTION_TYPE: Final = "AWS::Serverless::Function"
_TABLE_TYPE: Final = "AWS::DynamoDB::Table"
_STATE_MACHINE_TYPE: Final = "AWS::Serverless::StateMachine"
_KMS_KEY_TYPE: Final = "AWS::KMS::Key"
_KMS_ALIAS_TYPE: Final = "AWS::KMS::Alias"
_SECRET_TYPE: Final = "AWS::SecretsManager::Secret"  # noqa: S105 - a type name
LOCAL_STACK_NAME: Final = "sniper-local"  # ${AWS::StackName} locally
# CreateTable parameters taken from the template's table properties; the rest
# (SSE, PITR, tags, deletion protection...) is dropped.
_TABLE_KEYS: Final = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "BillingMode",
    "ProvisionedThroughput",
)
_ROLE_NAME: Final = "local-sniper-role"
_ASSUME_ROLE_POLICY: Final = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {
                    "Service": ["lambda.amazonaws.com", "states.amazonaws.com"]
                },
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


# --------------------------------------------------------------------------- #
# Environment
# --------------------------------------------------------------------------- #
def _set_environ(values: Mapping[str, str]) -> dict[str, str | None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    return saved


def _restore_environ(saved: Mapping[str, str | None]) -> None:
    for key, value in saved.items():
        if value is not None:  # never delete keys
            os.environ[key] = value


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set ``values`` in ``os.environ``; restore the previous values afterwards.

    Keys that did not exist before are left set (never deleted).
    """
    saved = _set_environ(values)
    try:
        yield
    finally:
        _restore_environ(saved)


# --------------------------------------------------------------------------- #
# LocalAws
# --------------------------------------------------------------------------- #
@dataclass
class LocalAws:
    """Handles to the provisioned local resources."""

    region: str
    table_name: str
    state_machine_arn: str
    function_names: dict[str, str]  # logical id -> function name
    endpoint_url: str | None = None  # None: in-process (mock_aws)
    app_secrets_arn: str = ""  # the AppSecrets secret
    token_kms_key_id: str = ""  # as the functions get it (the alias name)
    # Step Functions elsewhere (Step Functions Local); None: moto's, endpoint_url
    stepfunctions_url: str | None = None
    _session: Any = field(default=None, init=False, repr=False, compare=False)
    _clients: dict[str, Any] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def client(self, service: str) -> Any:
        """A boto3 client for this local AWS (cached, fake credentials)."""
        with self._lock:  # boto3 sessions are not thread-safe
            client = self._clients.get(service)
            if client is None:
                if self._session is None:
                    self._session = _session(self.region)
                endpoint = self.endpoint_url
                if service == "stepfunctions" and self.stepfunctions_url:
                    endpoint = self.stepfunctions_url
                client = self._clients[service] = self._session.client(
                    service, endpoint_url=endpoint
                )
            return client

    @property
    def stepfunctions(self) -> SFNClient:
        return cast("SFNClient", self.client("stepfunctions"))

    @property
    def dynamodb(self) -> DynamoDBClient:
        return cast("DynamoDBClient", self.client("dynamodb"))

    @property
    def lambda_(self) -> LambdaClient:
        return cast("LambdaClient", self.client("lambda"))

    def environment(self) -> dict[str, str]:
        """What our functions and the API need in their process environment.

        ``AWS_ENDPOINT_URL`` is ``""`` in-process (boto3 treats it as unset),
        which also neutralises a value left over from a server-mode run;
        ``AWS_ENDPOINT_URL_SFN`` (boto3's Step Functions override) likewise.
        """
        return {
            "TABLE_NAME": self.table_name,
            "STATE_MACHINE_ARN": self.state_machine_arn,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url or "",
            "AWS_ENDPOINT_URL_SFN": self.stepfunctions_url or "",
            "APP_SECRETS_ARN": self.app_secrets_arn,
            "TOKEN_KMS_KEY_ID": self.token_kms_key_id,
            **FAKE_CREDENTIALS,
        }

    def execution_history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of an execution, oldest first."""
        events: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = self.stepfunctions.get_execution_history(**kwargs)
            events.extend(cast(list[dict[str, Any]], page["events"]))
            token = page.get("nextToken")
            if not token:
                return events
            kwargs["nextToken"] = token

    def wait_for_execution(
        self, execution_arn: str, timeout: float = 30.0
    ) -> dict[str, Any]:
        """``describe_execution`` once the execution is no longer RUNNING.

        Raises:
            TimeoutError: still RUNNING after ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        delay = 0.02
        while True:
            described = cast(
                dict[str, Any],
                self.stepfunctions.describe_execution(executionArn=execution_arn),
            )
            if described["status"] != "RUNNING":
                return described
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{execution_arn} still RUNNING after {timeout:.1f} s"
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, 0.25)


def _session(region: str) -> boto3.session.Session:
    return boto3.session.Session(
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "README.txt", "Runs in-process through sandbox.engine; no code here.\n"
        )
    return buffer.getvalue()


# --------------------------------------------------------------------------- #
# provision
# --------------------------------------------------------------------------- #
def provision(
    *,
    region: str = "us-east-1",
    endpoint_url: str | None = None,
    template_path: Path | str = TEMPLATE_PATH,
    asl_path: Path | str | None = None,
    name_prefix: str = "",
    app_secrets: Mapping[str, str] | None = None,
    stepfunctions_url: str | None = None,
    adapt_definition: Callable[[str], str] | None = None,
) -> LocalAws:
    """Create the table, key, secret, functions and state machine of the template.

    Call inside :func:`in_process_aws` / ``mock_aws`` (``endpoint_url=None``) or
    against a :class:`MotoServer` (``endpoint_url=server.url``).  ``asl_path``
    defaults to the state machine's ``DefinitionUri``.  ``name_prefix`` is
    prepended to every resource name (several stacks in one moto).
    ``app_secrets`` are JSON fields of the app secret, over the ones the
    template's ``GenerateSecretString`` makes. ``stepfunctions_url`` creates the
    state machine in another Step Functions (Step Functions Local), from the
    rendered definition passed through ``adapt_definition``.

    Raises:
        TemplateError: the template or the ASL cannot be mapped.
    """
    template = load_template(template_path)
    local = LocalAws(
        region=region,
        table_name="",
        state_machine_arn="",
        function_names={},
        endpoint_url=endpoint_url,
        stepfunctions_url=stepfunctions_url,
    )

    # Table
    table_id, table_props = _only(template, _TABLE_TYPE)
    table_name = f"{name_prefix}{table_id}"
    create_table = {key: table_props[key] for key in _TABLE_KEYS if key in table_props}
    if _has_intrinsic(create_table):
        raise TemplateError(
            f"{table_id}: intrinsic functions in {sorted(create_table)}"
        )
    local.dynamodb.create_table(TableName=table_name, **create_table)
    ttl = table_props.get("TimeToLiveSpecification")
    if ttl and not _has_intrinsic(ttl):
        local.dynamodb.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={
                "AttributeName": ttl["AttributeName"],
                "Enabled": bool(ttl.get("Enabled", False)),
            },
        )
    table_arn = local.dynamodb.describe_table(TableName=table_name)["Table"]["TableArn"]

    # Token key and app secrets
    _provision_secrets(
        local,
        template,
        stack_name=f"{name_prefix}{LOCAL_STACK_NAME}",
        values=app_secrets,
    )

    # Role and functions
    role_arn = local.client("iam").create_role(
        RoleName=f"{name_prefix}{_ROLE_NAME}",
        AssumeRolePolicyDocument=_ASSUME_ROLE_POLICY,
    )["Role"]["Arn"]
    globals_ = template.get("Globals", {}).get("Function", {})
    code = _dummy_zip()
    function_arns: dict[str, str] = {}
    for function_id, resource in _resources(template, _FUNCTION_TYPE).items():
        props = resource.get("Properties", {})
        handler = _function_setting(props, globals_, "Handler")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{function_id}: no usable Handler ({handler!r})")
        name = f"{name_prefix}{function_id}"
        spec: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": _function_setting(props, globals_, "Runtime") or "python3.11",
            "Role": role_arn,
            "Handler": handler,
            "Code": {"ZipFile": code},
        }
        for key in ("MemorySize", "Timeout"):
            value = _function_setting(props, globals_, key)
            if value is not None:
                spec[key] = int(value)
        function_arns[function_id] = local.lambda_.create_function(**spec)[
            "FunctionArn"
        ]
        local.function_names[function_id] = name
        engine.HANDLERS.setdefault(name, engine.LazyHandler(handler))

    # State machine
    machine_id, machine_props = _only(template, _STATE_MACHINE_TYPE)
    if asl_path is None:
        uri = machine_props.get("DefinitionUri")
        if not isinstance(uri, str):
            raise TemplateError(f"{machine_id}: DefinitionUri must be a local path")
        asl_path = Path(template_path).parent / uri

    versions: dict[str, str] = {}

    def published_version(function_id: str) -> str:
        if function_id not in versions:
            versions[function_id] = local.lambda_.publish_version(
                FunctionName=local.function_names[function_id]
            )["FunctionArn"]
        return versions[function_id]

    def resolve(key: str, value: Any) -> str:
        if isinstance(value, str) and not _PLACEHOLDER.search(value):
            return value
        if isinstance(value, dict) and len(value) == 1:
            (function, argument), *_ = value.items()
            if function == "Fn::GetAtt":
                target, _, attribute = (
                    argument.partition(".")
                    if isinstance(argument, str)
                    else (argument[0], ".", argument[1])
                )
                if attribute == "Arn" and target in function_arns:
                    return function_arns[target]
                if attribute == "Arn" and target == table_id:
                    return table_arn
            if function == "Ref" and argument in local.function_names:
                return local.function_names[argument]
            # `!Ref Fn.Version` (AutoPublishAlias): as on AWS, the state
            # machine invokes a published version of the function.
            target, _, kind = str(argument).partition(".")
            if function == "Ref" and target in function_arns and kind == "Version":
                return published_version(target)
            if function == "Ref" and argument == table_id:
                return table_name
        raise TemplateError(f"{machine_id}: cannot resolve substitution {key}={value}")

    substitutions = {
        key: resolve(key, value)
        for key, value in machine_props.get("DefinitionSubstitutions", {}).items()
    }
    definition = render_definition(
        Path(asl_path).read_text(encoding="utf-8"), substitutions
    )
    if adapt_definition is not None:
        definition = adapt_definition(definition)
    local.table_name = table_name
    local.state_machine_arn = local.stepfunctions.create_state_machine(
        name=f"{name_prefix}{machine_id}",
        definition=definition,
        roleArn=role_arn,
        type=machine_props.get("Type", "STANDARD"),
    )["stateMachineArn"]
    return local


def _pseudo_sub(value: Any, *, stack_name: str, region: str) -> str:
    """A string, or an ``Fn::Sub`` string of pseudo parameters only."""
    if isinstance(value, str):
        return value
    text = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(text, str):
        raise TemplateError(f"cannot resolve {value!r} locally")
    pseudo = {
        "AWS::StackName": stack_name,
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) not in pseudo:
            raise TemplateError(f"cannot resolve ${{{match.group(1)}}} locally")
        return pseudo[match.group(1)]

    return _PLACEHOLDER.sub(substitute, text)


def _provision_secrets(
    local: LocalAws,
    template: Mapping[str, Any],
    *,
    stack_name: str,
    values: Mapping[str, str] | None,
) -> None:
    """The KMS key (+ aliases) and the app secret; exported as the template does."""
    region = local.region
    refs: dict[str, str] = {}  # logical id -> what Ref returns
    key_id, key_props = _only(template, _KMS_KEY_TYPE)
    kms = local.client("kms")
    key = kms.create_key(
        Description=_pseudo_sub(
            key_props.get("Description", ""), stack_name=stack_name, region=region
        ),
        KeyUsage=key_props.get("KeyUsage", "ENCRYPT_DECRYPT"),
        KeySpec=key_props.get("KeySpec", "SYMMETRIC_DEFAULT"),
    )["KeyMetadata"]
    if str(key_props.get("EnableKeyRotation", "false")).lower() == "true":
        kms.enable_key_rotation(KeyId=key["KeyId"])
    refs[key_id] = key["KeyId"]
    for alias in _resources(template, _KMS_ALIAS_TYPE).values():
        props = alias.get("Properties", {})
        if props.get("TargetKeyId") != {"Ref": key_id}:
            raise TemplateError(f"alias of an unknown key: {props.get('TargetKeyId')}")
        kms.create_alias(
            AliasName=_pseudo_sub(
                props["AliasName"], stack_name=stack_name, region=region
            ),
            TargetKeyId=key["KeyId"],
        )

    secret_id, secret_props = _only(template, _SECRET_TYPE)
    secret_value = {**_generated_secret(secret_props), **(values or {})}
    refs[secret_id] = local.client("secretsmanager").create_secret(
        Name=_pseudo_sub(
            secret_props.get("Name", secret_id), stack_name=stack_name, region=region
        ),
        SecretString=json.dumps(secret_value),
    )["ARN"]

    def exported(name: str, default: str) -> str:
        variables = (
            template.get("Globals", {})
            .get("Function", {})
            .get("Environment", {})
            .get("Variables", {})
        )
        value = variables.get(name)
        if value is None:
            return default
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in refs:
            return refs[value["Ref"]]
        return _pseudo_sub(value, stack_name=stack_name, region=region)

    local.token_kms_key_id = exported("TOKEN_KMS_KEY_ID", refs[key_id])
    local.app_secrets_arn = exported("APP_SECRETS_ARN", refs[secret_id])


# --------------------------------------------------------------------------- #
# In-process mode
# --------------------------------------------------------------------------- #
@contextmanager
def in_process_aws(
    *,
    region: str = "us-east-1",
    template_path: Path | str = TEMPLATE_PATH,
    asl_path: Path | str | None = None,
    name_prefix: str = "",
    export_environment: bool = True,
    app_secrets: Mapping[str, str] | None = None,
) -> Iterator[LocalAws]:
    """moto in-process with ASL execution, the engine patches and our resources.

    Sets ``TZ=UTC`` and fake credentials (and, with ``export_environment``,
    :meth:`LocalAws.environment`) in ``os.environ``; restores the previous values
    afterwards without deleting keys.  :data:`sandbox.engine.HANDLERS` is
    restored too.  Let executions finish before leaving: leaving resets moto.
    """
    saved = _set_environ(
        {
            "TZ": "UTC",
            "AWS_DEFAULT_REGION": region,
            "AWS_REGION": region,
            "AWS_ENDPOINT_URL": "",
            **FAKE_CREDENTIALS,
        }
    )
    time.tzset()
    handlers = dict(engine.HANDLERS)
    installed_here = not engine.is_installed()
    try:
        with mock_aws(config=MOTO_CONFIG):
            engine.install()
            try:
                local = provision(
                    region=region,
                    template_path=template_path,
                    asl_path=asl_path,
                    name_prefix=name_prefix,
                    app_secrets=app_secrets,
                )
                if export_environment:
                    for key, value in _set_environ(local.environment()).items():
                        saved.setdefault(key, value)
                yield local
            finally:
                if installed_here:
                    engine.uninstall()
                engine.HANDLERS.clear()
                engine.HANDLERS.update(handlers)
    finally:
        _restore_environ(saved)
        time.tzset()


# --------------------------------------------------------------------------- #
# Server mode
# --------------------------------------------------------------------------- #
class MotoServer:
    """A moto server on 127.0.0.1 in a thread of this process, ASL execution on.

    ``start()`` also sets ``MOTO_PORT`` (moto's interpreter calls
    ``localhost:$MOTO_PORT``), ``TZ=UTC``, and installs the engine patches;
    ``stop()`` undoes them (values restored, keys never deleted) and restores
    :data:`sandbox.engine.HANDLERS`.
    """

    def __init__(self, *, ip_address: str = "127.0.0.1", quiet: bool = True) -> None:
        self.ip_address = ip_address
        if quiet:  # werkzeug logs every request at INFO unless told otherwise
            werkzeug_logger = logging.getLogger("werkzeug")
            if werkzeug_logger.level == logging.NOTSET:
                werkzeug_logger.setLevel(logging.WARNING)
        self._server: ThreadedMotoServer | None = None
        self._url: str | None = None
        self._saved: dict[str, str | None] = {}
        self._handlers: dict[str, engine.Handler] = {}
        self._installed_here = False

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("MotoServer is not started")
        return self._url

    def start(self, port: int = 0) -> str:
        """Start the server (``port=0``: any free port) and return its URL."""
        if self._url is not None:
            return self._url
        server = ThreadedMotoServer(
            ip_address=self.ip_address, port=port, verbose=False
        )
        server.start()
        host, bound_port = server.get_host_and_port()
        self._server = server
        self._url = f"http://{host}:{bound_port}"
        self._saved = _set_environ({"MOTO_PORT": str(bound_port), "TZ": "UTC"})
        time.tzset()
        self._handlers = dict(engine.HANDLERS)
        self._installed_here = not engine.is_installed()
        engine.install()
        self._post("/moto-api/config", MOTO_CONFIG)
        return self._url

    def reset(self) -> None:
        """Drop every resource (moto's reset API); the config is kept."""
        self._post("/moto-api/reset", None)
        self._post("/moto-api/config", MOTO_CONFIG)

    def provision(self, **kwargs: Any) -> LocalAws:
        """:func:`provision` against this server."""
        return provision(endpoint_url=self.url, **kwargs)

    def stop(self) -> None:
        """Stop the server and undo :meth:`start` (no-op when not started)."""
        if self._server is None:
            return
        try:
            self._server.stop()
        finally:
            self._server = None
            self._url = None
            if self._installed_here:
                engine.uninstall()
                self._installed_here = False
            engine.HANDLERS.clear()
            engine.HANDLERS.update(self._handlers)
            _restore_environ(self._saved)
            self._saved = {}
            time.tzset()

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _post(self, path: str, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.url}{path}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  # nosec B310 # our own loopback http URL
            response.read()
