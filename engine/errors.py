"""Refusals the engine gives, each with a Chinese message the UI and API show as they are."""


class GongkaiError(Exception):
    """Base of every refusal; `message` is for the user (Chinese), `code` for machines."""

    code = "error"

    def __init__(self, message: str, *, details: object | None = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(GongkaiError):
    code = "not_found"


class PermissionDenied(GongkaiError):
    code = "forbidden"


class WorkflowError(GongkaiError):
    """The action is not allowed in the case's current stage (HTTP 409)."""

    code = "workflow"


class StaleCase(GongkaiError):
    """The case changed since the form was rendered (optimistic locking, HTTP 409)."""

    code = "stale"


class RuleViolation(GongkaiError):
    """A rule of the statute refuses the action, e.g. a refusal without a valid exemption (HTTP 422)."""

    code = "rule"


class InvalidInput(GongkaiError):
    """Bad or incomplete input (HTTP 400)."""

    code = "invalid"


class PeriodLocked(GongkaiError):
    """The change would alter a published annual report (HTTP 409)."""

    code = "period_locked"


class IntegrityFailure(GongkaiError):
    """Stored bytes no longer match the hash recorded when they were written (HTTP 409); never served."""

    code = "integrity"
