"""What both benchmarks need from PostgreSQL before Django connects."""

import os


def ensure_database() -> None:
    """Create the database named in DATABASE_URL when it does not exist yet,
    so a benchmark runs with the command its docs give and nothing before it."""
    import psycopg
    from dj_database_url import parse

    cfg = parse(os.environ["DATABASE_URL"])
    admin = psycopg.connect(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"],
        password=cfg["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        if not admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone():
            admin.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
