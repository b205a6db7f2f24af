"""Who did something, as the record names them."""

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AbstractBaseUser

from meetings.rooms.bounded import bounded

# The record's actor_label column (models/event.py). Every label is cut to it here, where
# labels are made: a hall's name may take the whole 200 characters before "voter: " is put in
# front, an account's full name 301, and the label is hashed as it is stored.
LABEL_MAX_LENGTH = 200


class ActorKind(StrEnum):
    USER = "user"  # a signed-in account: chair, secretary, candidate, operator, observer
    OPERATOR_LINK = "operator_link"  # a hall's kiosk, admitted by its operator link
    VOTER = "voter"  # a voter's phone, admitted by the hall's voter link
    SYSTEM = "system"  # the platform itself: a reaped connection, a management command


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user: AbstractBaseUser | None = None
    hall_id: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", bounded(self.label, LABEL_MAX_LENGTH))

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None else None

    @classmethod
    def for_user(cls, user: AbstractBaseUser) -> "Actor":
        label = user.get_full_name().strip() or user.get_username()
        return cls(ActorKind.USER, label, user=user)

    @classmethod
    def for_operator_link(cls, hall) -> "Actor":
        return cls(ActorKind.OPERATOR_LINK, f"kiosk: {hall.name}", hall_id=hall.pk)

    @classmethod
    def for_voter(cls, hall) -> "Actor":
        # Never a device id or a name: the record is public, voters are not.
        return cls(ActorKind.VOTER, f"voter: {hall.name}", hall_id=hall.pk)

    @classmethod
    def system(cls, what: str = "platform") -> "Actor":
        return cls(ActorKind.SYSTEM, what)
