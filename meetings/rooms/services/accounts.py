"""Ending an account's access at once, on every web node.

An account belongs to no one conference, so what is done to it is not on a conference's record
(its role grants are, and stay: reactivating the account gives them back). Saving the account
model announces the change by itself (``realtime/admission.watch_accounts``); the services here
change accounts without ``save()`` and announce explicitly, so that no path leaves a socket
open. Code that changes accounts in bulk with a queryset ``update()`` must call
``announce_account_changed`` for each account, as these do (the web processes' stream check
would still close such sockets, a second later).
"""

import logging

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from meetings.rooms.actors import Actor
from meetings.rooms.realtime.admission import announce_account_changed

logger = logging.getLogger(__name__)


def account_deactivate(*, user: AbstractBaseUser, actor: Actor) -> bool:
    """The account can no longer sign in, its sessions admit no one, and every screen it has
    open closes. Returns whether it was active."""
    # One statement, on no conference's record; the announcement waits for the caller's
    # commit, if any.
    changed = get_user_model().objects.filter(pk=user.pk, is_active=True).update(is_active=False)
    if changed:
        announce_account_changed(user.pk)
    user.is_active = False
    if changed:
        logger.info("account %s deactivated by %s", user.pk, actor.label)
    return bool(changed)
