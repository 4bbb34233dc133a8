"""The run directory: atomic creation, resume, manifest. Later features read it, never training internals."""
