"""Exports of a finished run that other tools read (ONNX)."""
