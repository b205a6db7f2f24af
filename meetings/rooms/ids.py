"""The range of the numbers clients send: what the database can hold.

Ids and seqs are 64-bit signed integers in PostgreSQL and SQLite. A larger number that reaches
a query fails inside the driver (SQLite: OverflowError, PostgreSQL: "bigint out of range"), a
500; it must be refused as invalid input before. Every integer a client sends to the API or on
the websocket is one of these types (tests/security/test_error_shape.py walks the OpenAPI
document and fails for an integer without a maximum); pages read their query numbers with
``query_id``.
"""

import re
from typing import Annotated

from pydantic import Field

MAX_ID = 2**63 - 1

# An object's id (a hall, a question, a candidate, an agenda item).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
# A position in a conference's record; 0 is before the first entry.
Seq = Annotated[int, Field(ge=0, le=MAX_ID)]
# A question's version, as the moderator saw it.
Version = Annotated[int, Field(ge=1, le=MAX_ID)]

_DIGITS = re.compile(r"[0-9]{1,19}")


def query_id(value: str | None) -> int | None:
    """An id from a page's query string, or None when it is not one: not ASCII digits (str's
    isdigit() admits "²", which int() refuses), or out of range."""
    if value is None or not _DIGITS.fullmatch(value.strip()):
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None
