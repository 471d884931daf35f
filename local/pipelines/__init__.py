"""Local execution of SageMaker pipelines on the embedded AWS (see :mod:`local.pipelines.runner`).

``PipelineRunner(aws).install()`` makes every ``StartPipelineExecution`` on the embedded AWS run for real;
``runner.interrupt_training(after_checkpoints=2)`` arms a Spot interruption of the next training job;
``runner.wait(execution_arn)`` returns ``DescribePipelineExecution`` once the execution has ended.
"""

from local.pipelines.injections import CapacityShortage, SpotInterruption
from local.pipelines.runner import PipelineRunner

__all__ = ["CapacityShortage", "PipelineRunner", "SpotInterruption"]
