# Dates as Vietnamese documents write them: "ngày 26 tháng 11 năm 2026", lower case so that they
# read inside a sentence ("Thời gian: 14:00, ngày 26 tháng 11 năm 2026"), the day unpadded.
# Django's own Vietnamese formats capitalise "Ngày" and pad the day; the rest are Django's.
DATE_FORMAT = r"\n\gà\y j \t\há\n\g n \nă\m Y"
DATETIME_FORMAT = r"H:i, \n\gà\y j \t\há\n\g n \nă\m Y"
