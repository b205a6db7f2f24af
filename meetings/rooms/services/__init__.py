"""The only code that changes state. Each function is one transaction, takes keyword
arguments and an ``actor``, and appends what it did to the meeting's record."""
