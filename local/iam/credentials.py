"""Credentials -> principals: who an access key id belongs to, as AWS knows it from the key alone.

Looked up in this order:
1. keys registered here: ``register_role`` gives a key to a session of a role (what Lambda does for a function's
   execution role, what SageMaker does for a job's role), ``register`` to any principal;
2. temporary credentials that moto's STS issued (``AssumeRole``): the session of the assumed role, with its session
   policy, read from moto's STS backends (moto records every assumed role and its access key);
3. access keys of IAM users in moto's IAM backends;
4. anything else: the default account's root, whose requests are not evaluated (operators and tests are
   administrators of the embedded AWS).
"""

from __future__ import annotations

import threading

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

from local.iam.principals import AccountRoot, IamUser, Principal, RoleSession, role_session_from_arn


def _assumed_role(access_key_id: str) -> RoleSession | None:
    for account_backends in list(sts_backends.values()):
        for backend in list(account_backends.values()):
            assumed = backend.get_assumed_role_from_access_key(access_key_id)
            if assumed is not None:
                return role_session_from_arn(assumed.role_arn, assumed.session_name, assumed.policy or None)
    return None


def _iam_user(access_key_id: str) -> IamUser | None:
    for account_backends in list(iam_backends.values()):
        for partition, backend in list(account_backends.items()):
            user = backend.get_user_from_access_key_id(access_key_id)
            if user is not None:
                return IamUser(account=user.account_id, user_name=user.name, user_path=user.path, partition=partition)
    return None


class Principals:
    """The registry of principals by access key id (see the module docstring for the order of lookups)."""

    def __init__(self, default_account: str, partition: str = "aws") -> None:
        self.default = AccountRoot(default_account, partition)
        self._registered: dict[str, Principal] = {}
        self._lock = threading.Lock()

    def register(self, access_key_id: str, principal: Principal) -> Principal:
        with self._lock:
            self._registered[access_key_id] = principal
        return principal

    def register_role(self, access_key_id: str, role_arn: str, session_name: str) -> RoleSession:
        """Requests signed with ``access_key_id`` act as a session of the role (as Lambda's or a job's credentials)."""
        session = role_session_from_arn(role_arn, session_name)
        self.register(access_key_id, session)
        return session

    def forget(self, access_key_id: str) -> None:
        with self._lock:
            self._registered.pop(access_key_id, None)

    def clear(self) -> None:
        with self._lock:
            self._registered.clear()

    def resolve(self, access_key_id: str | None) -> Principal:
        """The principal of an access key id (the default account's root if nobody owns it)."""
        if not access_key_id:
            return self.default
        registered = self._registered.get(access_key_id)
        if registered is not None:
            return registered
        return _assumed_role(access_key_id) or _iam_user(access_key_id) or self.default
