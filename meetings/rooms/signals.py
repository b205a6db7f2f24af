"""Signals other apps listen to, so rooms does not import them.

``meeting_created`` is sent inside the transaction that creates a conference, with
``meeting`` and ``actor``: the questions app gives it its default topics there.

``stream_round`` is sent by each web process once per heartbeat interval, in its database
thread, with ``meeting_ids`` (the conferences it serves): the questions app announces there the
counts a web node that died left unannounced.
"""

from django.dispatch import Signal

meeting_created = Signal()
stream_round = Signal()
