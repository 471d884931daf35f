"""The SageMaker that moto 5.2.5 lacks, by area, each split as moto splits a service.

Every area has a module of state and logic (``models``: backend methods, moto's typed errors) and one of wire
(``responses``: request parameters, results, and the ``PATCHES`` that put both into moto):

* ``endpoints``: endpoints, endpoint configs and models, over time (``deployment``: UpdateEndpoint's blue/green);
* ``registry``: model packages;
* ``pipelines``: pipeline executions, the steps an executor records (``store``) and where it attaches
  (``executors``);
* ``jobs``: training, processing and transform jobs (names in their case, ARNs lower-cased);
* ``tags``: tags on every ARN;
* ``events``: what SageMaker emits to EventBridge (``models``: shapes and publishing; ``delivery``: the wire);
* ``serving``: InvokeEndpoint answered by the endpoint's model, with data capture.

:mod:`local.aws.extensions` installs them all.
"""
