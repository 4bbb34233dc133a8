"""Training: the Lightning module and loop, the feature cache, batched prediction."""
