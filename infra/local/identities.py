"""Runs each function of the local stack under its own synthesized role, with moto's IAM
enforcement on.

moto reads `INITIAL_NO_AUTH_ACTION_COUNT` once, at import, into `moto.settings`, and counts the
unchecked requests on `ActionAuthenticatorMixin.request_count`. The stack sets both itself:
unchecked while it creates its resources, the emulator user and the roles; checked from
`enforce()` on; and it puts back what it found when it stops, so several stacks started one after
another in one process are each treated the same.

Every request to the emulation is signed by botocore's `RequestSigner.sign`, patched once here
(`Identities.install`): it signs with the credentials of the identity in effect,
whatever the client was created with (clients are often created at import or cached, and all
functions run in this one process). The identity is a context variable, set around each handler
invocation (`acting_as`) and each API request (`ActingAs`); threads that copy the context
(Starlette's thread pool, LangGraph's node executor) keep it. Outside any function (test code,
the emulator's own pollers) it is the "emulator" user, allowed everything. moto's Step Functions
interpreter signs with the fixed key `ak`: its requests are signed as the state machine's role.

moto checks most services at the action level only, against resource "*", and evaluates
conditions without the request's values (`local_statement` says how policies are adapted). It
checks `dynamodb:TransactWriteItems` as one action where AWS checks each item's, and calls
`lambda:InvokeFunction` `lambda:Invoke` (`_check_as_iam_does` checks what IAM checks).
docs/local-stack-iam.md has the details.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.credentials import Credentials
from botocore.signers import RequestSigner
from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequestBase
from moto.iam.models import iam_backends

from infra.local.template import ACCOUNT, Template

log = logging.getLogger("kidstory.local.iam")

EMULATOR_USER = "emulator"
LOCAL_KEY = "local"  # the emulator user's access key id and secret
CDN_STAND_IN_POLICY = "LocalStandInForCloudFront"
# The key moto's Step Functions interpreter signs its own service calls with.
INTERPRETER_ACCESS_KEY = "ak"
# Where to append one JSON line per action moto checked (identity, action, resource, allowed).
RECORD_VARIABLE = "KIDSTORY_LOCAL_IAM_RECORD"
# moto accepts only an AWS principal of "*" in a trust policy (a service principal fails inside
# moto, an account root refuses the user): every local role trusts any principal of the account.
LOCAL_TRUST_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}
# moto names some actions by their API operation where IAM has another name.
IAM_ACTION_NAMES = {"lambda:Invoke": "lambda:InvokeFunction"}
# The item actions AWS checks for each part of a DynamoDB transaction.
TRANSACTION_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}

_identity: ContextVar[str | None] = ContextVar("kidstory_local_identity", default=None)


@contextmanager
def acting_as(identity: str) -> Iterator[None]:
    """AWS calls made in this block (and in threads that copy its context) are signed with the
    credentials of `identity` (a function name)."""
    token = _identity.set(identity)
    try:
        yield
    finally:
        _identity.reset(token)


class ActingAs:
    """ASGI middleware: each request to `app` is served under `identity` (the API function)."""

    def __init__(self, app: Any, identity: str) -> None:
        self.app = app
        self.identity = identity

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        with acting_as(self.identity):
            await self.app(scope, receive, send)


def local_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    """A policy statement as moto can check it, its actions unchanged.

    S3 statements keep their resources (moto checks object and bucket ARNs), except that moto
    checks a multi-object delete as `s3:DeleteObject` on the bucket, so an `s3:DeleteObject`
    grant on a bucket's objects also names the bucket. Every other statement gets resource "*":
    moto checks other services against "*", so a statement naming a table or bus would refuse
    even its own actions. Conditions are dropped: moto evaluates them without the request's
    values. The exact resources and conditions stay checked by tests/infra."""
    local = {key: value for key, value in statement.items() if key != "Condition"}
    actions = local.get("Action", [])
    actions = [actions] if isinstance(actions, str) else list(actions)
    if not actions or not all(action.startswith("s3:") for action in actions):
        local["Resource"] = "*"
        return local
    resources = local.get("Resource", [])
    resources = [resources] if isinstance(resources, str) else list(resources)
    if "s3:DeleteObject" in actions:
        resources += sorted({resource.split("/", 1)[0] for resource in resources} - {"*"})
    local["Resource"] = resources
    return local


def role_policies(template: Template, role_id: str) -> dict[str, dict[str, Any]]:
    """The inline policies of a role in the template (its own `Policies` and every
    AWS::IAM::Policy attached to it), resolved and adapted for moto: name -> document."""
    documents: dict[str, Any] = {
        policy["PolicyName"]: policy["PolicyDocument"]
        for policy in template.resources[role_id]["Properties"].get("Policies", [])
    }
    for policy_id, resource in template.of_type("AWS::IAM::Policy").items():
        if {"Ref": role_id} in resource["Properties"].get("Roles", []):
            documents[policy_id] = resource["Properties"]["PolicyDocument"]
    local: dict[str, dict[str, Any]] = {}
    for name, document in documents.items():
        resolved = template.resolve(document)
        statements = resolved["Statement"]
        statements = [statements] if isinstance(statements, dict) else statements
        local[name] = {**resolved, "Statement": [local_statement(s) for s in statements]}
    return local


def cdn_policy(template: Template) -> dict[str, dict[str, Any]]:
    """What the bucket policies allow CloudFront (its origin access), as a role policy for the
    function that serves media in its place locally: name -> document."""
    statements = [
        local_statement({key: value for key, value in statement.items() if key != "Principal"})
        for resource in template.of_type("AWS::S3::BucketPolicy").values()
        for statement in template.resolve(resource["Properties"]["PolicyDocument"])["Statement"]
        if statement["Effect"] == "Allow"
        and statement.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    if not statements:
        return {}
    return {CDN_STAND_IN_POLICY: {"Version": "2012-10-17", "Statement": statements}}


def role_of(template: Template, resource: Mapping[str, Any], key: str = "Role") -> str:
    """The logical id of the role a function (`Role`) or state machine (`RoleArn`) runs as."""
    reference = resource["Properties"][key]
    logical_id, _attribute = reference["Fn::GetAtt"]
    return str(logical_id)


@dataclass
class Identities:
    """The emulator user and one assumed role per function, and which one signs a request."""

    template: Template
    endpoint_url: str
    functions: dict[str, Credentials] = field(default_factory=dict)
    state_machine: Credentials | None = None
    emulator: Credentials | None = None
    _saved: tuple[float, int] | None = None
    # role logical id -> local-only policies it gets beside its own (cdn_stand_in)
    _extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    # moto's enforcement

    def hold_enforcement(self) -> None:
        """Until `enforce()`, moto checks no request."""
        self._saved = (moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, _request_count())
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")

    def enforce(self) -> None:
        """From now on moto checks every request's signature and IAM permissions."""
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0

    def release(self) -> None:
        """Put back moto's settings as they were before `hold_enforcement`."""
        if self._saved is not None:
            moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = (
                self._saved
            )
            self._saved = None
        global _active
        if _active is self:
            _active = None
            RequestSigner.sign = _botocore_sign
            IAMRequestBase.check_action_permitted = _moto_check  # type: ignore[method-assign]

    # identities, created while moto does not check

    def create(self, iam: Any, sts: Any, *, cdn_stand_in: str | None = None) -> None:
        """Create the emulator user and every function's and the state machine's role; assume
        the roles. `cdn_stand_in` (a function's logical id) serves media locally in CloudFront's
        place, so its role also gets what the bucket policies grant CloudFront."""
        iam.create_user(UserName=EMULATOR_USER)
        iam.put_user_policy(
            UserName=EMULATOR_USER,
            PolicyName="everything",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        iam.create_access_key(UserName=EMULATOR_USER)
        self.emulator = _make_key_well_known()

        roles: dict[str, Credentials] = {}

        def assumed(role_id: str, extra: dict[str, Any] | None = None) -> Credentials:
            if role_id not in roles:
                self._extras[role_id] = extra or {}
                roles[role_id] = self._create_role(iam, sts, role_id)
            return roles[role_id]

        for logical_id, resource in self.template.of_type("AWS::Lambda::Function").items():
            if resource["Properties"].get("Runtime", "").startswith("python"):
                extra = cdn_policy(self.template) if logical_id == cdn_stand_in else {}
                self.functions[self.template.names[logical_id]] = assumed(
                    role_of(self.template, resource), extra
                )
        machines = self.template.of_type("AWS::StepFunctions::StateMachine")
        if len(machines) == 1:  # the interpreter's calls do not say which machine they serve
            (machine,) = machines.values()
            self.state_machine = assumed(role_of(self.template, machine, "RoleArn"))

    def _create_role(self, iam: Any, sts: Any, role_id: str) -> Credentials:
        name = self.template.names[role_id]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(LOCAL_TRUST_POLICY))
        self._put_policies(iam, role_id, self.template)
        granted = sts.assume_role(
            RoleArn=self.template.arn(role_id), RoleSessionName=name[:64], DurationSeconds=43200
        )["Credentials"]
        return Credentials(
            granted["AccessKeyId"], granted["SecretAccessKey"], granted["SessionToken"]
        )

    def _put_policies(self, iam: Any, role_id: str, template: Template) -> None:
        name = self.template.names[role_id]
        policies = role_policies(template, role_id) | self._extras[role_id]
        for policy_name, document in policies.items():
            iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )

    def use_policies_of(self, iam: Any, template: Template) -> None:
        """Give every role the policies it has in `template` (another synthesis of the same
        stack, e.g. a stage with other providers) instead of its own; `template` = the stack's
        own template puts them back."""
        for role_id in self._extras:
            name = self.template.names[role_id]
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            self._put_policies(iam, role_id, template)

    # signing

    def install(self) -> None:
        """Sign every request to this emulation with the identity in effect."""
        global _active
        _active = self
        RequestSigner.sign = _sign_as_current_identity
        IAMRequestBase.check_action_permitted = _check_as_iam_does  # type: ignore[method-assign]

    def serves(self, url: str) -> bool:
        ours, theirs = urlsplit(self.endpoint_url), urlsplit(url)
        return theirs.port == ours.port and theirs.hostname in ("127.0.0.1", "localhost")

    def credentials_for(self, signer_credentials: Credentials | None) -> Credentials | None:
        if (
            signer_credentials is not None
            and signer_credentials.access_key == INTERPRETER_ACCESS_KEY
            and self.state_machine is not None
        ):
            return self.state_machine
        identity = _identity.get()
        if identity is None:
            return self.emulator
        return self.functions[identity]


_active: Identities | None = None
_botocore_sign = RequestSigner.sign
_moto_check = IAMRequestBase.check_action_permitted
_record_lock = threading.Lock()


def _make_key_well_known() -> Credentials:
    """The emulator user's key becomes `local`/`local`, the key the local stack has always
    documented (`make key`, the AWS CLI against `make run`): moto makes a random one."""
    user = iam_backends[ACCOUNT]["aws"].get_user(EMULATOR_USER)
    (key,) = user.access_keys
    key.access_key_id = key.secret_access_key = LOCAL_KEY
    return Credentials(LOCAL_KEY, LOCAL_KEY)


def _request_count() -> int:
    return ActionAuthenticatorMixin.request_count


def _sign_as_current_identity(
    self: RequestSigner, operation_name: str, request: Any, *args: Any, **kwargs: Any
) -> Any:
    if _active is not None and _active.serves(request.url):
        credentials = _active.credentials_for(self._credentials)
        request.context.setdefault("signing", {})["request_credentials"] = credentials
    return _botocore_sign(self, operation_name, request, *args, **kwargs)


def _check_as_iam_does(self: IAMRequestBase, resource: str) -> None:
    """Checks the actions IAM checks where moto names another: AWS authorizes a DynamoDB
    transaction by each item's action (a Put needs PutItem, a ConditionCheck needs
    ConditionCheckItem), where moto would check `dynamodb:TransactWriteItems`, an action IAM
    does not have; Lambda's Invoke is `lambda:InvokeFunction`. Records what was checked when
    asked to (RECORD_VARIABLE)."""
    actions = [IAM_ACTION_NAMES.get(self._action, self._action)]
    if self._action in ("dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"):
        items = json.loads(self._body or b"{}").get("TransactItems", [])
        actions = sorted({TRANSACTION_ITEM_ACTIONS[kind] for item in items for kind in item})
    for action in actions:
        self._action = action
        try:
            _moto_check(self, resource)
        except Exception:
            _record(self, action, resource, allowed=False)
            log.warning("AccessDenied: %s may not %s (%s)", _principal(self), action, resource)
            raise
        _record(self, action, resource, allowed=True)


def _principal(request: IAMRequestBase) -> str:
    arn = str(request._access_key.arn)
    # arn:aws:sts::<account>:assumed-role/<role>/<session> or arn:aws:iam::<account>:user/<name>
    return arn.split(":", 5)[5].split("/")[1]


def _record(request: IAMRequestBase, action: str, resource: str, *, allowed: bool) -> None:
    path = os.environ.get(RECORD_VARIABLE)
    if not path:
        return
    line = json.dumps(
        {
            "principal": _principal(request),
            "action": action,
            "resource": resource,
            "allowed": allowed,
        }
    )
    with _record_lock, Path(path).open("a") as record:
        record.write(line + "\n")
