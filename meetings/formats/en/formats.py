# English dates for readers used to day-first dates: the month written out, never in numbers,
# so "12/06/2026" (Django's American default, month first) can be read neither way: 6 Dec 2026.
# Times on the 24-hour clock, as in Vietnamese. The screens' scripts write them the same way
# (frontend/js/format.js).
DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
