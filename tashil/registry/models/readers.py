"""Who reads an office's registry rows, shared by the registry's tables."""

from tashil.accounts.scopes import ScopePaths

# Office staff see their offices' rows, province managers their province's.
# Liaisons and analysts never see household rows.
OFFICE_RECORD_READERS = ScopePaths(offices="office", managed_provinces="office__province")
