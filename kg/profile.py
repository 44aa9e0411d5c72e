"""The learner's profile (known, not known, goals), kept at the workspace root so it survives rebuilds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import BaseModel, ConfigDict, Field

from studygraph.learner_files import learner_file_lock, read_learner_file
from studygraph.workspace import Workspace, atomic_write_json

PROFILE_LOCK = ".profile.lock"


def _merge(items: Iterable[str], extra: Iterable[str]) -> list[str]:
    return list(dict.fromkeys([*items, *extra]))


def _without(items: Iterable[str], drop: Iterable[str]) -> list[str]:
    gone = {d.casefold() for d in drop}
    return [i for i in items if i.casefold() not in gone]


class Profile(BaseModel):
    """What a learner knows, does not know, and wants to learn: concept names (or ids), resolved when used.

    Names rather than ids are kept so a profile still means the same after the notes are re-ingested.
    """

    model_config = ConfigDict(extra="forbid")

    known: list[str] = Field(default_factory=list, description="Concepts the learner knows (parts and "
                             "prerequisites included).")
    not_known: list[str] = Field(default_factory=list, description="Concepts not known, even when implied.")
    goals: list[str] = Field(default_factory=list, description="Concepts the learner wants to learn.")

    def know(self, names: Iterable[str]) -> Profile:
        """Mark as known (and no longer as not known)."""
        names = list(names)
        return Profile(known=_merge(self.known, names), not_known=_without(self.not_known, names), goals=self.goals)

    def unknow(self, names: Iterable[str]) -> Profile:
        """Mark as not known (and no longer as known)."""
        names = list(names)
        return Profile(known=_without(self.known, names), not_known=_merge(self.not_known, names), goals=self.goals)

    def add_goals(self, names: Iterable[str]) -> Profile:
        return Profile(known=self.known, not_known=self.not_known, goals=_merge(self.goals, names))

    def drop(self, names: Iterable[str]) -> Profile:
        """Forget the names everywhere: neither known, nor not known, nor goals."""
        names = list(names)
        return Profile(known=_without(self.known, names), not_known=_without(self.not_known, names),
                       goals=_without(self.goals, names))


def load_profile(workspace: Workspace) -> Profile:
    """The saved profile, or an empty one when none was saved.

    Raises:
        WorkspaceError: the profile file exists but cannot be read or is malformed.
    """
    found = read_learner_file(workspace.profile_path, Profile, "the learner profile",
                              "fix it or delete it and run `studygraph profile know NAME...` again.")
    return found if found is not None else Profile()


def save_profile(workspace: Workspace, profile: Profile) -> None:
    """Write the profile atomically at the workspace root (outside generation directories)."""
    atomic_write_json(workspace.profile_path, profile.model_dump(mode="json"))


def update_profile(workspace: Workspace, change: Callable[[Profile], Profile], timeout: float = 10.0) -> Profile:
    """Read, change and save the profile under a lock, so two concurrent edits do not lose each other.

    Args:
        workspace: the workspace that holds the profile.
        change: a function from the current Profile to the new one.
        timeout: seconds to wait for another editor.

    Returns:
        The saved profile.
    """
    with learner_file_lock(workspace.root, PROFILE_LOCK, "the profile", timeout):
        profile = change(load_profile(workspace))
        save_profile(workspace, profile)
    return profile
