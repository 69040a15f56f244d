"""python -m bench.generators <demands|registry_files> [options]; --help on
either lists its options."""

import importlib
import os
import sys
from pathlib import Path

GENERATORS = ("demands", "registry_files")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in GENERATORS:
        sys.exit(f"usage: python -m bench.generators {{{','.join(GENERATORS)}}} [options] [--help]")
    root = Path(__file__).resolve().parent.parent.parent
    sys.path.insert(0, str(root))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tashil.settings")
    import django

    django.setup()
    module = importlib.import_module(f"bench.generators.{argv[0]}")
    module.Command().run_from_argv(["python -m bench.generators", *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
