"""Signals other apps listen to, so rooms does not import them.

``meeting_created`` is sent inside the transaction that creates a conference, with
``meeting`` and ``actor``: the questions app gives it its default topics there.

``meeting_ending`` is sent inside the transaction that ends a conference, with ``meeting`` and
``actor``, before its status changes: what a listener appends there is on the record before the
end (the questions app announces the counts still pending).

``stream_round`` is sent by each web process once per heartbeat interval, in its database
thread, with ``meeting_ids`` (the conferences it serves): the questions app announces there the
counts a web node that died left unannounced.
"""

from django.dispatch import Signal

meeting_created = Signal()
meeting_ending = Signal()
stream_round = Signal()
