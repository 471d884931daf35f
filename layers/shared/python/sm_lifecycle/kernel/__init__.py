"""The kernel: what every feature shares, and nothing feature-specific.

``errors`` (the error taxonomy), ``timestamps`` (the one time parser), ``settings`` (the common function settings
and the environment-variable readers), ``clients`` (boto3 clients, retries, AWS error classification),
``registry`` (model registry values: approval statuses, the git SHA property), ``stages`` (the ModelLifeCycle stage
state machine and its one writer), ``arns`` (SageMaker ARNs in
SageMaker's spelling), ``tags`` (the tag keys and values the stack writes), ``events`` (the SageMaker event models),
``notify`` (alerts and dead letters), ``idempotency`` (Powertools idempotency, built once per cold start, on canonical
keys) and ``handler`` (the Lambda handler factory).

Features import the kernel; the kernel imports no feature. Nothing is imported here: a function loads only the
kernel modules it uses.
"""
