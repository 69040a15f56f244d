"""What an import column is: its key, labels, level (household, person or
membership), kind and, for choices, the words people write in the cells.
"""

from dataclasses import dataclass, field

from django.utils.functional import Promise

from ..models import Connection, Household, Membership, Person

HOUSEHOLD, PERSON, MEMBERSHIP = "household", "person", "membership"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: Promise
    level: str
    kind: str
    required: bool = False
    aliases: tuple = ()
    # For choice fields: the model's choices and {word people write: value}.
    choices: type | None = None
    words: dict = field(default_factory=dict)
    help: Promise | str = ""
    example: str = ""

    @property
    def max_length(self) -> int | None:
        model = {HOUSEHOLD: Household, PERSON: Person, MEMBERSHIP: Membership}[self.level]
        name = {"household_id": "external_id", "household_note": "note"}.get(self.key, self.key)
        try:
            return getattr(model._meta.get_field(name), "max_length", None)
        except Exception:  # noqa: BLE001 - fields without a model column (neighbourhood)
            return None


YES_WORDS = (
    "بله",
    "بلی",
    "آری",
    "اری",
    "دارد",
    "هست",
    "است",
    "yes",
    "y",
    "true",
    "1",
    "✓",
    "✔",
    "x",
    "*",
    "+",
    "دارای",
)
NO_WORDS = ("خیر", "نه", "ندارد", "نیست", "no", "n", "false", "0", "-", "فاقد")

CONNECTION_WORDS = {
    "formal": Connection.FORMAL,
    "رسمی": Connection.FORMAL,
    "دارد": Connection.FORMAL,
    "قانونی": Connection.FORMAL,
    "مجاز": Connection.FORMAL,
    "بله": Connection.FORMAL,
    "انشعاب رسمی": Connection.FORMAL,
    "informal": Connection.INFORMAL,
    "غیررسمی": Connection.INFORMAL,
    "غیر رسمی": Connection.INFORMAL,
    "غیرمجاز": Connection.INFORMAL,
    "غیر مجاز": Connection.INFORMAL,
    "غیرقانونی": Connection.INFORMAL,
    "none": Connection.NONE,
    "ندارد": Connection.NONE,
    "بدون": Connection.NONE,
    "خیر": Connection.NONE,
    "بدون انشعاب": Connection.NONE,
}
