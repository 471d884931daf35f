"""Domain package of the SageMaker lifecycle automation, shared by every function through the layer."""
