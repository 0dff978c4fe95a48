"""Errors the planner raises at its edge; each message tells a person what to do next."""

from __future__ import annotations


class PlannerError(Exception):
    """Base of every error the planner reports to the operator."""


class GroundingError(PlannerError):
    """A command that could not be turned into a goal over the scene's objects and places."""


class PlanningError(PlannerError):
    """A goal with no plan from the observed world (missing object, out of reach, no route)."""


class PlanValidationError(PlanningError):
    """A proposed plan whose step does not hold in the symbolic domain (checked before anything moves)."""

    def __init__(self, message: str, step: int | None = None) -> None:
        super().__init__(message)
        self.step = step


class AmbiguityError(GroundingError):
    """A command that could mean several things ("bring me the mug" with two mugs): ask, never guess."""

    def __init__(self, message: str, options: list[str]) -> None:
        super().__init__(message)
        self.options = list(options)
