"""Load Iran's official holidays from the `holidays` package.

    manage.py sync_holidays --from 1397 --to 1410
    manage.py sync_holidays --gregorian --from 2018 --to 2031

Safe to run again: corrections made by administrators are kept."""

from django.core.management.base import BaseCommand, CommandError

from tashil.core import jalali
from tashil.core.calendar import sync_holidays


def gregorian_years_of(first_jalali: int, last_jalali: int) -> list[int]:
    """The Gregorian years that Jalali years first..last overlap (a Jalali
    year runs from about 21 March to 20 March)."""
    start = jalali.Period("year", first_jalali).start
    end = jalali.Period("year", last_jalali).end
    return list(range(start.year, end.year + 1))


class Command(BaseCommand):
    help = "Load Iran's official holidays from the holidays package (Jalali years by default)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--from", dest="first", type=int, help="first year (default: last year)"
        )
        parser.add_argument("--to", dest="last", type=int, help="last year (default: next year)")
        parser.add_argument(
            "--gregorian", action="store_true", help="read --from and --to as Gregorian years"
        )

    def handle(self, *args, first=None, last=None, gregorian=False, **options):
        current = jalali.to_jalali(jalali.today()).year
        if gregorian:
            current = jalali.today().year
        first = current - 1 if first is None else first
        last = current + 1 if last is None else last
        if first > last:
            raise CommandError("--from must not be after --to.")
        if gregorian:
            if not 1900 <= first <= 2200 or not 1900 <= last <= 2200:
                raise CommandError("Gregorian years must be between 1900 and 2200.")
            years = list(range(first, last + 1))
        else:
            if not 1300 <= first <= 1600 or not 1300 <= last <= 1600:
                raise CommandError(
                    "Jalali years must be between 1300 and 1600 (use --gregorian for Gregorian years)."
                )
            years = gregorian_years_of(first, last)
        result = sync_holidays(years)
        self.stdout.write(
            self.style.SUCCESS(
                f"Holidays {years[0]}–{years[-1]}: {result.created} added, {result.updated} updated, "
                f"{result.removed} removed, {result.kept_corrections} administrator corrections kept."
            )
        )
