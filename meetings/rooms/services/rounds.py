"""Rounds of conferences (đợt tiếp xúc cử tri) and their organisers.

A round is on no conference's record; what it changes in a conference is: the conference joins
its round when it is created (``meeting_create(round=...)``), and an organiser's grant or
revocation is appended to the record of every conference of the round (``role.granted`` and
``role.revoked`` with the role ``organiser``), which also has the organiser's open screens
checked again.
"""

from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError
from django.utils.translation import gettext as _

from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Audience, Round, RoundGrant, RoundLevel
from meetings.rooms.services.events import event_append, record_write
from meetings.rooms.viewers import ORGANISER


def round_create(
    *, slug: str, title: str, election: str, level: str, starts_on: date, ends_on: date
) -> Round:
    title, election = title.strip(), election.strip()
    if not title or not election:
        raise Invalid(_("A round needs a title and an election."))
    if level not in RoundLevel.values:
        raise Invalid(_("Unknown level: %s") % level)
    if ends_on < starts_on:
        raise Invalid(_("A round cannot end before it starts."))
    if Round.objects.filter(slug=slug).exists():
        raise Conflict(_("A round with this identifier already exists."))
    round = Round(
        slug=slug, title=title, election=election, level=level, starts_on=starts_on, ends_on=ends_on
    )
    round.full_clean()
    round.save()
    return round


def round_organiser_grant(*, round: Round, user: AbstractBaseUser, actor: Actor) -> RoundGrant:
    """Make the account an organiser of the round: it sees every conference of the round as an
    observer does. Each conference's record says so."""
    try:
        grant = RoundGrant.objects.create(round=round, user=user)
    except IntegrityError:
        raise Conflict(_("This account already organises this round.")) from None
    for meeting in round.meetings.order_by("pk"):
        with record_write(meeting=meeting):
            event_append(
                meeting=meeting,
                type="role.granted",
                audience=Audience.STAFF,
                payload={
                    "user": Actor.for_user(user).label,
                    "role": ORGANISER,
                    "hall": None,
                    "candidate": None,
                },
                actor=actor,
            )
    return grant


def round_organiser_revoke(*, grant: RoundGrant, actor: Actor) -> None:
    """The account no longer organises the round; its screens of the round's conferences close
    as each record's entry is announced."""
    deleted, _count = RoundGrant.objects.filter(pk=grant.pk).delete()
    if not deleted:
        return
    for meeting in grant.round.meetings.order_by("pk"):
        with record_write(meeting=meeting):
            event_append(
                meeting=meeting,
                type="role.revoked",
                audience=Audience.STAFF,
                payload={"user": Actor.for_user(grant.user).label, "role": ORGANISER},
                actor=actor,
            )
