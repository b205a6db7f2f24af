"""The minutes (biên bản) of a conference: gathered once (data.py), written as DOCX, PDF and
CSV/XLSX by the modules beside it."""
