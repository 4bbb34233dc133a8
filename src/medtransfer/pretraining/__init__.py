"""The pretraining stage: self-supervised models made by the project itself, registered as backbones."""
