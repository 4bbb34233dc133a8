"""AutoTransfer: choose the source model and how to fine-tune it, on validation evidence (sits above the pipeline)."""
