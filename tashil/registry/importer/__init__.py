"""Spreadsheet imports into the household registry.

The file
--------
XLSX, or CSV in UTF-8 (with or without BOM), UTF-16 with BOM or Windows-1256.
One row per person, with the household's columns repeated on every member's
row. The header row may sit below a title row; columns are recognised by
their Persian or English names (Arabic ي/ك, ZWNJ and spacing do not matter)
and can be mapped by hand and saved per office. Required: household id,
first name, last name, relation to head. fields.py lists every column and the
words each one accepts; offices get the same as the template file's guide
sheet.

- The household id groups people into households and finds the household
  again on the next import. A household's own columns are read from its
  head's row, or from its first row when the file names no head.
- Digits may be Persian, Arabic or Latin; text is normalised as everywhere
  else (Arabic ي/ك become ی/ک).
- Dates are Jalali text (1365/04/12, also with - or . and as 13650412). A
  year alone in the birth date column is the birth year. Text with a year
  from 1700 on is Gregorian and is refused with its Jalali equivalent in the
  message: a column mixing calendars cannot be trusted, and guessing would
  hide the rows typed wrongly. A real Excel date cell is Gregorian by
  definition (Excel has no Jalali calendar) and is accepted as such.
- Impossible dates (1402/12/30), dates in the future and birth dates before
  1280 are refused, as the forms refuse them.
- Reading stops after 1,000 empty rows in a row (what a sheet formatted down
  to row 1,048,576 contains), with a notice saying where.

Refused outright, with the reason and the limit: a zip that declares too
much (limits.py), more rows or columns with data, or a longer cell, than
settings.IMPORT_LIMITS allows. Refused outright, with the reason: an empty file, a file that is not a
spreadsheet (PDF, picture, Word, zip, old .xls), a damaged workbook, a wrong
sheet name (the message lists the sheets), a header row with merged cells.
Refused row by row, naming the row and the column: merged cells and formula
or error cells in mapped columns, and every rule of the registry's forms
(national code and mobile through core.validators, Jalali dates through
core.jalali, choices, lengths), a national code twice in the file, two heads
for one household.

Re-import
---------
A person is matched by national code, or, without one, by name and birth year
among the current members of the household with the same household id. A
household is matched by its id within the office. Only the values that differ
are written (and the record's version bumped), and an empty cell never erases
a recorded value, so importing the same file twice changes nothing the second
time. Someone registered by another office, or recorded as deceased, is
refused; someone in another household of the same office moves.

Steps and modules
-----------------
upload (the first bytes and the zip directory checked, limits.py; nothing is
kept for a file refused there) → reading (reader.py, in a child process under
memory and time limits: the sheet, the header, a bounded preview; the batch
fails with the reason when the file is refused) → mapping (fields.py suggests which
column is which field) → preview (engine.check_batch: every row checked
against the file and the registry, nothing written) → commit
(engine.commit_batch, in recorded chunks, or all or nothing; writing.py) →
done, with the error file (report.py). services.py holds the permission
checks; tasks.py the background tasks.
"""
