"""Client frames that belong to other apps, routed by the meeting websocket's consumer.

The frames themselves are declared with the others in frames.py; their handlers live with the
app they concern (questions: ``vote``) and are registered from its ready(), so that rooms does
not import it. A handler is ``async handler(consumer, frame)``.
"""

from collections.abc import Awaitable, Callable

Handler = Callable[..., Awaitable[None]]

frame_handlers: dict[str, Handler] = {}


def register_frame_handler(frame_type: str, handler: Handler) -> None:
    frame_handlers[frame_type] = handler
