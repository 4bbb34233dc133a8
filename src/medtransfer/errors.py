"""The project's exception types: the CLI prints their message and exits 2."""


class MedtransferError(Exception):
    """Base class for errors a user can fix: the message names the thing and the fix."""


class DataError(MedtransferError):
    """Bad or missing input data: unreadable file, missing column, too few examples."""


class BackboneError(MedtransferError):
    """A backbone that cannot be resolved, built or loaded."""


class ConfigError(MedtransferError):
    """A configuration value or combination that cannot work."""


class RunError(MedtransferError):
    """A run directory that is missing, incomplete or already exists."""


class ExplainError(MedtransferError):
    """An explanation that cannot be made: unknown method, or one the model's backbone cannot support."""


class ExportError(MedtransferError):
    """A model that cannot be exported, or whose export does not reproduce it."""
