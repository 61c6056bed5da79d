"""The project's own errors.

Client-library exceptions are turned into these at the boundary, with the cause kept, and each
carries a sentence that tells the user what to do next.
"""


class WorkshopError(Exception):
    """Base class: `str(error)` is one line a person can act on."""


class BrokerUnavailable(WorkshopError):
    """The AMQP port does not answer (refused, unknown host, timeout, not AMQP)."""


class BrokerAuthFailed(WorkshopError):
    """The broker answered but refused the user name or password."""


class VhostNotFound(WorkshopError):
    """The broker answered but the virtual host does not exist or the user may not use it."""


class ManagementUnavailable(WorkshopError):
    """The management HTTP API does not answer, or answers with something unexpected."""


class ManagementAuthFailed(WorkshopError):
    """The management API refused the credentials."""


class CourseError(WorkshopError):
    """Releasing or grading the nbgrader course failed."""


class StoreUnavailable(WorkshopError):
    """The score store (SQLite file or PostgreSQL) cannot be opened."""
