"""Named errors of the member features."""

from __future__ import annotations

from veiviser.errors import InvalidInput, VeiviserError


class LoginFailed(VeiviserError):
    """A member token was refused; the chat goes on anonymously.

    ``reason`` is a short code safe to log (expired, wrong_audience, ...);
    the token and its claims never go into the message.
    """

    status = 401
    code = "member_login_failed"

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or f"Member login failed: {reason}.")
        self.reason = reason


class DirectoryUnavailable(VeiviserError):
    """The member directory did not answer in time, or answered wrongly."""

    status = 503
    code = "member_directory_unavailable"


class MemberImportProblem:
    """One problem in a member CSV file: file, line and what is wrong."""

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        self.file = file
        self.line = line
        self.problem = problem

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "problem": self.problem}


class MemberImportError(VeiviserError):
    """Member CSV files are invalid; nothing was imported."""

    status = 422
    code = "member_import_invalid"

    def __init__(self, problems: list[MemberImportProblem]) -> None:
        self.problems = problems
        super().__init__(
            "The member files are invalid; nothing was imported:\n"
            + "\n".join(str(problem) for problem in problems),
            details={"problems": [problem.as_dict() for problem in problems]},
        )


class PersonalTemplateError(InvalidInput):
    """A personal answer template uses a placeholder it may not use."""

    code = "personal_template_invalid"


class MemberSettingsError(VeiviserError):
    """The member settings cannot work (keys, directory or URL)."""

    status = 500
    code = "member_settings_invalid"
