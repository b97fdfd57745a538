"""Keras building blocks shared by the study's networks: the estimator base, the head, the training loop."""
