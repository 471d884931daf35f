"""The stack runtime: template.yaml deployed on the embedded AWS and run as Lambda runs it.

``template`` (SAM transform, parameters) and ``intrinsics`` read the template; ``deployment`` creates its resources
(``resources`` for plain types, ``functions`` for Lambda's, ``rules`` for EventBridge's); ``event_queues``,
``invoker``, ``workers`` (with the standard-library-only ``lambda_worker``) and ``outcomes`` run the functions with
Lambda's asynchronous semantics; ``logs`` and ``alarms`` stand in for CloudWatch; :class:`LocalStack` puts it
together.
"""

from local.stack.local_stack import LocalStack

__all__ = ["LocalStack"]
