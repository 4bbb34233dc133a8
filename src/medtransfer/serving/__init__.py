"""``medtransfer serve``: a run over HTTP (Open Inference Protocol v2 and a friendly /predict)."""
