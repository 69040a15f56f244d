"""The system pages at /system/: the working calendar that province managers
keep (closures) and national administrators correct (holidays), and the
audit-log browsing, with the scope rules that decide who sees which rows.

It stands above `core`, `accounts` and `geo`: `core` keeps the calendar
arithmetic and the audit writer, which need no notion of users' scopes."""
