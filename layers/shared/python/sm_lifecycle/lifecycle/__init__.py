"""Train once, promote everywhere: a model package version's way through the stages of SageMaker's
``ModelLifeCycle`` (``stages``: the state machine, pure)."""
