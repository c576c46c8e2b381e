"""Named errors, all under one base so callers can catch veiviser's own."""


class VeiviserError(Exception):
    """Base of every error veiviser raises on purpose.

    ``status`` is the HTTP status the web layer answers with and ``code`` a
    stable machine-readable name; the CLI turns the error into a message and
    exit code 2.
    """

    status = 400
    code = "error"

    def __init__(self, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidInput(VeiviserError):
    """A member's or operator's input cannot be used as it is."""

    status = 422
    code = "invalid_input"


class EmptyMessage(InvalidInput):
    """A message that holds nothing once whitespace is removed."""

    code = "empty_message"


class MessageTooLong(InvalidInput):
    """A message over the configured character limit."""

    code = "message_too_long"


class KnowledgeBaseError(VeiviserError):
    """A knowledge-base file is malformed; carries file, line and problem."""

    status = 422
    code = "knowledge_base_invalid"

    def __init__(self, problems: list["KnowledgeBaseProblem"]) -> None:
        self.problems = problems
        lines = [str(problem) for problem in problems]
        super().__init__(
            "The knowledge base is invalid:\n" + "\n".join(lines),
            details={"problems": [p.as_dict() for p in problems]},
        )


class KnowledgeBaseProblem:
    """One problem found while loading a knowledge base.

    ``problem`` is English, for the CLI, logs and developers. ``code`` names
    the kind of problem and ``params`` its values (JSON types only), so a
    staff page can say the same in its own language; the admin's Norwegian
    texts are ``kb_problem.<code>`` in ``web/admin/texts_nb/kb_problems.yaml``.
    """

    def __init__(
        self,
        file: str,
        line: int | None,
        problem: str,
        code: str = "invalid",
        params: dict | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.problem = problem
        self.code = code
        self.params = params or {}

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}"

    def __repr__(self) -> str:
        return f"KnowledgeBaseProblem({self.file!r}, {self.line!r}, {self.code!r})"

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "problem": self.problem,
            "code": self.code,
            "params": self.params,
        }


class NotTrained(VeiviserError):
    """A model was used before it was trained or loaded."""

    status = 503
    code = "not_trained"


class ModelVersionMismatch(VeiviserError):
    """A stored model was made by an incompatible version of veiviser."""

    status = 503
    code = "model_version_mismatch"


class TrainingFailed(VeiviserError):
    """Training could not produce a model; the last good one stays in use."""

    status = 422
    code = "training_failed"


class EvaluationDataError(VeiviserError):
    """An evaluation or training file is malformed."""

    status = 422
    code = "evaluation_data_invalid"


class NotFound(VeiviserError):
    """The addressed object does not exist."""

    status = 404
    code = "not_found"


class Forbidden(VeiviserError):
    """The caller may not do this."""

    status = 403
    code = "forbidden"


class StorageUnavailable(VeiviserError):
    """The database cannot be written to (read-only, full or unreachable)."""

    status = 503
    code = "storage_unavailable"
