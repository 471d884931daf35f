"""Domain package of the SageMaker lifecycle automation, shared by every function through the layer.

``kernel`` holds what every feature shares; ``alerting``, ``promotion``, ``tagging`` and ``deployment`` are the
features, one per function. Features depend on the kernel and never on each other.
"""
