"""Reading an uploaded file for the first time, in a child process held to a
memory and a time limit.

The web request only stores the upload (after the cheap checks of
limits.check_archive); the worker's inspect task calls `read_in_child`,
which starts `python -m tashil.registry.importer.reader`. The child sets
RLIMIT_AS and RLIMIT_CPU on itself before it reads a byte, unpacks every zip
member as a counted stream (limits.check_members), then reads the whole sheet
once (sources.py, which refuses more rows or columns, or longer cells, than
allowed) and answers with the header, a bounded preview and the row count, as
JSON on its standard output. A file that needs more memory or time than
allowed ends the child only; the batch is marked failed with the reason.

Once a file has passed this reading, the checking and committing passes read
it in the worker itself: everything they can meet is within the limits.

This module is imported by the child before Django is set up: it must not
import models, and the child configures only what translations need.
"""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from django.utils.translation import gettext as _

from tashil.core.text import search_key

from .limits import MB, LimitExceeded, Limits, check_members, number
from .sources import FileProblem, cell_text, find_header, open_source, sniff

logger = logging.getLogger(__name__)

# What the mapping page shows of the file: a few rows, each cell cut short.
PREVIEW_ROWS = 3
PREVIEW_CHARS = 100
HEADER_CHARS = 100
# The child's exit when it ran out of memory.
EXIT_MEMORY = 3
# What the child runs (tests run a module of theirs, with its own reading).
CHILD_COMMAND = ("-m", "tashil.registry.importer.reader")


def _header_key(text) -> str:
    return search_key(str(text or "")).replace(" ", "")


def _merged_header(source, header_row: int) -> None:
    for ref in source.merged:
        first, _sep, last = ref.partition(":")
        rows = [int(part.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) for part in (first, last or first)]
        if rows[0] <= header_row <= rows[1] and first != (last or first):
            raise FileProblem(
                _(
                    "The header row has merged cells (%(range)s). Unmerge them so that each "
                    "column has its own name."
                )
                % {"range": ref},
                row=header_row,
            )


def scan(path, *, sheet: str = "", limits: Limits, header_keys) -> dict:
    """Everything the mapping step needs, from one full reading of the file
    under `limits`; FileProblem (or LimitExceeded) when it cannot be imported."""
    file_format = sniff(path)
    if file_format == "xlsx":
        check_members(path, limits)
    keys = frozenset(header_keys)

    def score(cells):
        return sum(1 for cell in cells if cell and _header_key(cell) in keys)

    source = open_source(path, file_format=file_format, sheet=sheet or None, limits=limits)
    try:
        if file_format == "xlsx":
            source.check_shared_strings()
        header = find_header(source, score=score)
        if not any(header.columns):
            raise FileProblem(
                _("The file has no header row: the first row should name the columns.")
            )
        _merged_header(source, header.row)
        width = len(header.columns)
        samples: dict[str, list[str]] = {}
        rows = 0
        for raw in source.rows(max_columns=width):
            if raw.number <= header.row:
                continue
            rows += 1
            if rows <= PREVIEW_ROWS:
                for index, value in enumerate(raw.values):
                    text = cell_text(value)
                    if text:
                        samples.setdefault(str(index), []).append(text[:PREVIEW_CHARS])
        return {
            "file_format": file_format,
            "encoding": source.encoding,
            "delimiter": source.delimiter,
            "sheet": source.sheet,
            "sheets": [name[:120] for name in source.sheets[:50]],
            "header_row": header.row,
            "columns": [name[:HEADER_CHARS] for name in header.columns],
            "samples": samples,
            "rows": rows,
            "stopped_at": source.stopped_at,
        }
    finally:
        if hasattr(source, "close"):
            source.close()


# --- The parent's side --------------------------------------------------------------------


def read_in_child(path, *, sheet: str = "", limits: Limits, header_keys, language: str) -> dict:
    """scan() in a child process under the memory and time limits; FileProblem
    with the reason when the file is refused or the child had to be stopped."""
    from django.conf import settings

    request = {
        "path": str(path),
        "sheet": sheet or "",
        "limits": limits.as_dict(),
        "header_keys": sorted(header_keys),
        "language": language,
        "locale_paths": [str(p) for p in settings.LOCALE_PATHS],
    }
    base = Path(settings.BASE_DIR)
    # The child reads a stranger's file: it gets no secrets from the environment.
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(base),
        "LANG": "C.UTF-8",
        "PYTHONIOENCODING": "utf-8",
    }
    try:
        done = subprocess.run(
            [sys.executable, *CHILD_COMMAND],
            input=json.dumps(request).encode(),
            capture_output=True,
            timeout=limits.reader_seconds,
            cwd=base,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise FileProblem(
            _(
                "Reading the file took longer than the %(seconds)s seconds allowed, so it was "
                "stopped. Split the file into smaller files and upload them one by one."
            )
            % {"seconds": number(limits.reader_seconds)}
        ) from None
    answer = None
    if done.returncode == 0:
        try:
            answer = json.loads(done.stdout.decode() or "null")
        except ValueError:
            answer = None
    if isinstance(answer, dict) and "problem" in answer:
        raise FileProblem(answer["problem"], row=answer.get("row"), column=answer.get("column"))
    if isinstance(answer, dict) and "ok" in answer:
        return answer["ok"]
    if done.returncode == EXIT_MEMORY or done.returncode < 0:
        _log_exit(logging.WARNING, "stopped", path, done, 2000)
        raise FileProblem(
            _(
                "Reading the file needed more than the %(mb)s MB of memory allowed, so it was "
                "stopped. Split the file into smaller files, or remove long texts from it."
            )
            % {"mb": number(limits.reader_memory_mb)}
        )
    _log_exit(logging.ERROR, "failed", path, done, 4000)
    raise FileProblem(
        _(
            "The file could not be read because of an unexpected error. Try again; if it "
            "happens again, send the file to the system's administrators."
        )
    )


# --- The child's side ---------------------------------------------------------------------


def _log_exit(level, outcome, path, done, tail) -> None:
    """The child's exit and the end of what it wrote on stderr, for the administrators."""
    logger.log(
        level,
        "reading import file %s %s (exit %s): %s",
        path,
        outcome,
        done.returncode,
        done.stderr[-tail:].decode(errors="replace"),
    )


def _limit_resources(limits: Limits) -> None:
    import resource

    memory = limits.reader_memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    seconds = max(1, limits.reader_seconds)
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))


def _configure(request) -> None:
    """Only what translated messages need: no apps, no database, no URLs."""
    from django.apps import apps
    from django.conf import settings

    settings.configure(
        USE_I18N=True,
        LANGUAGE_CODE=request["language"] or "fa",
        LOCALE_PATHS=request["locale_paths"],
        INSTALLED_APPS=[],
    )
    apps.populate([])
    from django.utils import translation

    translation.activate(request["language"] or "fa")


def child_main(target=scan) -> int:
    request = json.loads(sys.stdin.buffer.read())
    limits = Limits(**request["limits"])
    _limit_resources(limits)
    try:
        _configure(request)
        result = target(
            request["path"],
            sheet=request["sheet"],
            limits=limits,
            header_keys=request["header_keys"],
        )
        answer = {"ok": result}
    except (FileProblem, LimitExceeded) as exc:
        answer = {
            "problem": exc.message,
            "row": getattr(exc, "row", None),
            "column": getattr(exc, "column", None),
        }
    except MemoryError:
        return EXIT_MEMORY
    sys.stdout.write(json.dumps(answer, default=str))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
