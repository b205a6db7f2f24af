# Dates as Vietnamese documents write them: "ngày 26 tháng 11 năm 2026", lower case so that they
# read inside a sentence ("Thời gian: 14:00, ngày 26 tháng 11 năm 2026"), the day unpadded.
# Django's own Vietnamese formats capitalise "Ngày" and pad the day, and its short ones use
# dashes (26-11-2026); the short ones here use the slashes of Vietnamese forms (26/11/2026).
# The screens' scripts write them the same way (frontend/js/format.js).
DATE_FORMAT = r"\n\gà\y j \t\há\n\g n \nă\m Y"
DATETIME_FORMAT = r"H:i, \n\gà\y j \t\há\n\g n \nă\m Y"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "H:i, d/m/Y"
