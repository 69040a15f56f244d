"""The guard every registry write service puts before its fields."""


def reject_unknown(fields, allowed, what: str) -> None:
    # A caller's typo must fail loudly, not be dropped as if it were saved.
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {what} fields: {sorted(unknown)}")
