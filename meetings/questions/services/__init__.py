"""The only code that changes questions. Each function is one transaction and appends what it
did to the meeting's record: a staff event with the moderators' view and, when the public
sees a change, a public event with the public view. Counts (votes, each hall's tally) are
announced in batches (counts.py)."""
