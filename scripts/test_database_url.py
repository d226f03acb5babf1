"""Print the database URL the test suite should use, and say on stderr which one and why.

DATABASE_URL when set; else a PostgreSQL on localhost when one answers; else SQLite. For
PostgreSQL it also creates the named database when missing, so `manage.py makemigrations
--check` can read the migration history (the suite itself uses test_<name>).
"""

import os
import sys
from urllib.parse import urlsplit

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/syncfirm"


def _server_dsn(url: str) -> str:
    parts = urlsplit(url)
    dsn = f"host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} dbname=postgres"
    if parts.username:
        dsn += f" user={parts.username}"
    if parts.password:
        dsn += f" password={parts.password}"
    return dsn


def postgres_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(_server_dsn(url), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def ensure_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_server_dsn(url), autocommit=True, connect_timeout=5) as conn:
        for database in (name, f"{name}_sandbox"):  # the app's and the emulators' (see settings)
            query = "SELECT 1 FROM pg_database WHERE datname = %s"
            if not conn.execute(query, [database]).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def main() -> None:
    if os.environ.get("DATABASE_URL"):
        url, why = os.environ["DATABASE_URL"], "DATABASE_URL is set"
    elif postgres_answers(LOCAL_POSTGRES):
        url, why = LOCAL_POSTGRES, "a PostgreSQL answers on 127.0.0.1:5432"
    else:
        url, why = "sqlite:///var/test.sqlite3", "no PostgreSQL answered; falling back to SQLite"
    engine = url.split(":", 1)[0]
    if engine.startswith("postgres"):
        try:
            ensure_database(url)
        except Exception as error:  # report and let the suite fail loudly
            print(f"make test: could not prepare {url}: {error}", file=sys.stderr)
    print(f"make test: using {engine} ({why})", file=sys.stderr)
    print(url)


if __name__ == "__main__":
    main()
