"""The round's synthesis (tổng hợp ý kiến, kiến nghị của cử tri): every question of every
conference of a round, grouped by topic, agency and locality, with the concerns raised in
several conferences linked; as the DOCX report and the XLSX workbook (docs/rounds.md)."""
