"""A stand-in for the import reader's child process whose reading eats memory
or time without end, to prove the limits stop it, or shows what it was given (run as a module by the
child: `python -m tests.registry.reader_hogs memory|time`)."""

import sys
import time

from tashil.registry.importer import reader


def eat_memory(path, **kwargs):
    hoard = []
    while True:
        hoard.append(bytearray(16 * 1024 * 1024))


def take_time(path, **kwargs):
    time.sleep(600)


def show_environment(path, **kwargs):
    import os

    return dict(os.environ)


if __name__ == "__main__":
    sys.exit(
        reader.child_main(
            {"memory": eat_memory, "time": take_time, "env": show_environment}[sys.argv[1]]
        )
    )
