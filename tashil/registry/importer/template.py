"""The template file offices download to start an import: the columns in
the user's language, two example households, and a guide sheet listing
every column, whether it is required and the values it accepts."""

import io

from django.utils.translation import gettext as _

from tashil.core.exports import CsvWriter

from .columns import FIELDS

EXAMPLE = [
    {
        "household_id": "ZV-0001",
        "neighbourhood": "",
        "address": "کوچه ۱۲، پلاک ۴",
        "dwelling_type": "خانه",
        "tenure": "مستاجر",
        "water": "رسمی",
        "electricity": "رسمی",
        "sewage": "ندارد",
        "gas": "رسمی",
        "main_income": "روزمزدی",
        "support_relief": "بله",
        "national_code": "0012345679",
        "first_name": "مریم",
        "last_name": "احمدی",
        "sex": "زن",
        "birth_date": "1358/06/21",
        "nationality": "ایرانی",
        "mobile": "09121234567",
        "relation": "سرپرست",
        "marital_status": "بیوه",
        "education": "ابتدایی",
        "employment": "بیکار",
        "health_insurance": "سلامت",
    },
    {
        "household_id": "ZV-0001",
        "first_name": "علی",
        "last_name": "احمدی",
        "sex": "مرد",
        "birth_date": "1392",
        "relation": "فرزند",
        "in_school": "خیر",
        "employment": "کودک",
        "health_insurance": "ندارد",
    },
    {
        "household_id": "ZV-0002",
        "neighbourhood": "",
        "address": "پشت مدرسه، خانه سوم",
        "dwelling_type": "کپر",
        "tenure": "متصرف",
        "water": "غیررسمی",
        "electricity": "غیررسمی",
        "sewage": "ندارد",
        "gas": "ندارد",
        "first_name": "گل محمد",
        "last_name": "رحیمی",
        "sex": "مرد",
        "birth_year": "1365",
        "nationality": "فاقد مدرک",
        "relation": "سرپرست",
        "employment": "کارگر روزمزد",
    },
]


def header_row() -> list[str]:
    return [str(spec.label) for spec in FIELDS]


def example_rows() -> list[list[str]]:
    return [[example.get(spec.key, "") for spec in FIELDS] for example in EXAMPLE]


def guide_rows() -> list[list[str]]:
    rows = [[_("Column"), _("Required"), _("What to write")]]
    for spec in FIELDS:
        if spec.kind in ("choice", "bool") and spec.choices is not None:
            accepted = "، ".join(str(label) for _value, label in spec.choices.choices)
        elif spec.kind == "bool":
            accepted = _("yes or no")
        else:
            accepted = ""
        text = " ".join(part for part in (str(spec.help), accepted) if part)
        rows.append([str(spec.label), _("yes") if spec.required else "", text])
    return rows


def build(file_format: str) -> bytes:
    stream = io.BytesIO()
    if file_format == "csv":
        writer = CsvWriter(stream)
        writer.writerow(header_row())
        for row in example_rows():
            writer.writerow(row)
        writer.close()
        return stream.getvalue()
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Households")[:31]
    sheet.sheet_view.rightToLeft = True
    sheet.append(header_row())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in example_rows():
        sheet.append(row)
    # National codes and mobiles are text: Excel would drop their leading zero.
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            cell.number_format = "@"
    guide = book.create_sheet(_("Guide")[:31])
    guide.sheet_view.rightToLeft = True
    for row in guide_rows():
        guide.append(row)
    book.save(stream)
    return stream.getvalue()
