"""Named status transitions: one way to move a record from one status to another.

An app declares a `Machine` for each record with a life cycle: its named
transitions (from-states, to-state, and `who` may take it), how the record is
locked, how a move is logged (a timeline row, when the app keeps one) and where
its audit row belongs. `Machine.move` then performs a move inside the caller's
transaction:

1. the user may take a transition to that state (PermissionDenied otherwise);
2. the transition starts from the record's current state (ValidationError on
   the status field otherwise);
3. the record is saved with optimistic locking: on its `version` (the version
   the user loaded), or, for records without one, on the state read;
   ConflictError when someone else saved in between;
4. the log row and the audit row are written;
5. notifications are queued with `transaction.on_commit`.

`Machine.available_moves(obj, user)` is what pages and the API ask to decide
which buttons to show; nothing else re-derives the allowed moves.

`who` is a predicate `(user, obj) -> bool` supplied by the owning app. Moves
made by the system (background tasks) pass `user=None`; `system` allows those
and nothing else.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import audit
from .errors import ConflictError

Who = Callable[[Any, Any], bool]


def anyone(user, obj) -> bool:
    return True


def system(user, obj) -> bool:
    """Moves made by the application itself (tasks, jobs), never by a person."""
    return user is None


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset
    target: str
    who: Who = anyone
    # Which side makes the move (e.g. "agency" or "office"), for pages that
    # show one side's buttons only.
    side: str = ""
    # The audit action, when not the machine's default.
    action: str = ""
    # A condition on the record beyond its state (e.g. "has committed
    # chunks"), and the message when it does not hold.
    when: Callable[[Any], bool] | None = None
    unmet: Any = ""

    def holds(self, obj) -> bool:
        return self.when is None or self.when(obj)

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))


@dataclass
class Move:
    transition: Transition
    source: str
    target: str
    changes: dict


VERSION = "version"  # conditional UPDATE on the record's version field
STATE = "state"  # conditional UPDATE on the state read (records without a version)


class Machine:
    def __init__(
        self,
        *,
        transitions: Iterable[Transition],
        states,
        field: str = "status",
        lock: str = VERSION,
        action: str = "{model}.{target}",
        where: Callable[[Any], tuple] | None = None,
        log: Callable[..., Any] | None = None,
        refused=None,
        denied=None,
    ):
        """states: the TextChoices of the field (for labels in messages).
        action: the audit action, formatted with model, name, source, target.
        where: obj -> (province, office) of the audit row.
        log: writes the owner's log row: log(obj, move, user, **log_fields).
        refused: the message for a move the current state does not allow,
            formatted with `from` and `to` (the states' labels).
        denied: the message for a user who may not take the transition."""
        self.transitions = tuple(transitions)
        self.states = states
        self.field = field
        self.lock = lock
        self.action = action
        self.where = where or (lambda obj: (None, None))
        self.log = log
        self.refused = refused or _("“%(from)s” cannot become “%(to)s”.")
        self.denied = denied or _("You do not have permission to do this.")

    # --- questions -------------------------------------------------------------------------

    def state_of(self, obj) -> str:
        return getattr(obj, self.field)

    def available_moves(self, obj, user, *, side: str | None = None) -> list[Transition]:
        """The transitions `user` may take from `obj`'s current state, in the
        order they are declared."""
        state = self.state_of(obj)
        return [
            t
            for t in self.transitions
            if state in t.sources
            and (side is None or t.side == side)
            and t.who(user, obj)
            and t.holds(obj)
        ]

    def targets(self, obj, user, *, side: str | None = None) -> list[str]:
        seen = []
        for t in self.available_moves(obj, user, side=side):
            if t.target not in seen:
                seen.append(t.target)
        return seen

    def can(self, obj, user, name: str) -> bool:
        return any(t.name == name for t in self.available_moves(obj, user))

    def may(self, obj, user, *, to: str | None = None, name: str | None = None, side=None) -> bool:
        """Whether `user` may take some transition (to `to`, or named `name`)
        from any state: the permission half of a move, without the state."""
        return any(t.who(user, obj) for t in self._candidates(to, name, side))

    def authorize(self, obj, user, *, to: str | None = None, name: str | None = None) -> None:
        """PermissionDenied unless `may`. Services call it before validating
        their input, so a user who may not act learns nothing more."""
        if not self.may(obj, user, to=to, name=name):
            raise PermissionDenied(self.denied)

    def _candidates(self, to, name, side=None):
        return [
            t
            for t in self.transitions
            if (to is None or t.target == to)
            and (name is None or t.name == name)
            and (side is None or t.side == side)
        ]

    def transition_for(
        self, obj, user, *, to: str | None = None, name: str | None = None, side=None
    ) -> Transition:
        """The transition `user` would take from `obj`'s state to `to` (or
        by `name`); PermissionDenied or ValidationError as a move would raise."""
        permitted = [t for t in self._candidates(to, name, side) if t.who(user, obj)]
        if not permitted:
            raise PermissionDenied(self.denied)
        state = self.state_of(obj)
        startable = [t for t in permitted if state in t.sources]
        for t in startable:
            if t.holds(obj):
                return t
        if startable and startable[0].unmet:
            raise ValidationError(startable[0].unmet)
        target = to or permitted[0].target
        raise ValidationError({self.field: self.refused % self._labels(state, target)})

    def _labels(self, source, target) -> dict:
        def label(value):
            try:
                return self.states(value).label
            except ValueError:
                return value

        # Messages say "from"/"to" or "old"/"new"; both are given.
        return {
            "from": label(source),
            "to": label(target),
            "old": label(source),
            "new": label(target),
        }

    # --- the move --------------------------------------------------------------------------

    def move(
        self,
        obj,
        *,
        user,
        to: str | None = None,
        name: str | None = None,
        side: str | None = None,
        expected_version: int | None = None,
        fields: Iterable[str] = (),
        before: dict | None = None,
        changes: dict | None = None,
        log: dict | None = None,
        notify: Iterable[Callable[[], Any]] = (),
        on_behalf_of=None,
    ) -> Move:
        """Move `obj` to `to` (or along the transition `name`) as `user`.

        fields: other fields the caller set on `obj` and that are saved with it.
        before: an `audit.snapshot` taken before the caller changed `obj`; the
            audit row then holds the diff of those fields, else the state change.
        changes: the audit row's changes, when the caller knows better.
        log: keyword arguments for the owner's log writer.
        notify: callables run once the transaction commits.
        on_behalf_of: the person the audit row names when the system moves
            (`user=None`) on their behalf, e.g. the uploader of an import."""
        assert transaction.get_connection().in_atomic_block, "a move needs a transaction"
        transition = self.transition_for(obj, user, to=to, name=name, side=side)
        source = self.state_of(obj)
        setattr(obj, self.field, transition.target)
        try:
            self._save(obj, source, [self.field, *fields], expected_version)
        except ConflictError:
            setattr(obj, self.field, source)
            raise
        if changes is None:
            if before is not None:
                changes = audit.diff(before, audit.snapshot(obj, list(before)))
            else:
                changes = {self.field: [source, transition.target]}
        move = Move(transition, source, transition.target, changes)
        if self.log is not None:
            self.log(obj, move, user, **(log or {}))
        province, office = self.where(obj)
        audit.record(
            actor=user if on_behalf_of is None else on_behalf_of,
            action=(transition.action or self.action).format(
                model=obj._meta.model_name,
                name=transition.name,
                source=source,
                target=transition.target,
            ),
            obj=obj,
            changes=changes,
            province=province,
            office=office,
        )
        for callback in notify:
            transaction.on_commit(callback)
        return move

    def bump(self, obj, expected_version: int | None = None):
        """Save nothing but a new version: a write that changes no state still
        fails on a record someone else saved after it was loaded."""
        assert self.lock == VERSION
        self._save(obj, self.state_of(obj), [], expected_version)

    def _save(self, obj, source, fields, expected_version):
        meta = obj._meta
        names = list(dict.fromkeys(fields))
        values = {meta.get_field(f).attname: getattr(obj, meta.get_field(f).attname) for f in names}
        now = timezone.now()
        if any(f.name == "updated_at" for f in meta.concrete_fields):
            values["updated_at"] = obj.updated_at = now
        rows = type(obj).objects.filter(pk=obj.pk)
        if self.lock == VERSION:
            current = obj.version if expected_version is None else expected_version
            updated = rows.filter(version=current).update(version=current + 1, **values)
            if not updated:
                raise ConflictError()
            obj.version = current + 1
        else:
            if not rows.filter(**{self.field: source}).update(**values):
                raise ConflictError()
