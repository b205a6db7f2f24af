"""Signals other apps listen to, so rooms does not import them.

``meeting_created`` is sent inside the transaction that creates a conference, with
``meeting`` and ``actor``: the questions app gives it its default topics there.
"""

from django.dispatch import Signal

meeting_created = Signal()
