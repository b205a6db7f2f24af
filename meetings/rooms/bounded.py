"""Text made from what people typed, fitted to the column that stores it."""

ELLIPSIS = "…"


def bounded(text: str, limit: int) -> str:
    """``text`` if it has at most ``limit`` characters, else its start and an ellipsis in
    ``limit`` characters. For labels built by joining a name to a prefix ("voter: <hall>",
    "Action programme: <candidate>"): each part fits its own column, the whole may not, and a
    write that does not fit fails on PostgreSQL (SQLite stores it whole)."""
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)] + ELLIPSIS
