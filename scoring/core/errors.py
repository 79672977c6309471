"""Errors as data: every problem carries a stable code and a location.

A ``Problem`` is one thing wrong with one input (file, line, the code of the
sub-criterion or rule involved). Loaders collect all problems before raising a
single ``ParindexError`` so that a user sees every mistake at once.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file or argument."""

    code: str  # stable problem code, e.g. "extra_forbidden", "unknown_evidence"
    message: str  # one sentence, names quoted
    file: str | None = None
    line: int | None = None
    subject: str | None = None  # criterion code, rule code, column…
    hint: str | None = None  # how to fix it / "did you mean …?"

    def format(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        parts = [where]
        if self.subject:
            parts.append(self.subject)
        parts.append(self.code)
        text = ": ".join(parts) + ": " + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "subject": self.subject,
            "hint": self.hint,
        }


class ParindexError(Exception):
    """Base of every error a user may see. Holds one or more problems."""

    exit_code = 2

    def __init__(self, problems: Iterable[Problem] | Problem):
        if isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(p.format() for p in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from the problems (the default would call cls(message) and lose them): a copy, or an
        # error raised in the web server's helper process (scoring/web/offload.py), stays the same error
        return _rebuild, (type(self), self.problems, dict(self.__dict__))

    def with_problems(self, problems: Iterable[Problem]) -> "ParindexError":
        """The same kind of error (and its other attributes) with other problems."""
        return _rebuild(type(self), list(problems), {k: v for k, v in self.__dict__.items() if k != "problems"})


def _rebuild(cls: type["ParindexError"], problems: list[Problem], state: dict[str, Any]) -> "ParindexError":
    exc = cls.__new__(cls)
    ParindexError.__init__(exc, problems)
    exc.__dict__.update({k: v for k, v in state.items() if k != "problems"})
    return exc


class InputError(ParindexError):
    """Bad user input: files, values, arguments (exit code 2)."""


class DefinitionError(ParindexError):
    """Criteria or rules that are inconsistent (exit code 2)."""


class EngineError(ParindexError):
    """The rules engine misbehaved; a bug, not a user mistake (exit code 1)."""

    exit_code = 1


@dataclass
class ProblemList:
    """Collects problems lazily; ``raise_if_any`` raises them together."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, code: str, message: str, **where: object) -> None:
        self.problems.append(Problem(code, message, **where))  # type: ignore[arg-type]

    def extend(self, problems: Iterable[Problem]) -> None:
        self.problems.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def raise_if_any(self, cls: type[ParindexError] = InputError) -> None:
        if self.problems:
            raise cls(self.problems)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """Return "có phải 'x'? (did you mean 'x'?)" for the closest choice, or None."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"có phải '{match[0]}'? (did you mean '{match[0]}'?)" if match else None
