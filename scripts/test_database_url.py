"""Print the database URL the test suite should use, and say on stderr which one and why.

DATABASE_URL when set; else a PostgreSQL on localhost when one answers; else SQLite.
"""

import os
import sys

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/syncfirm"


def postgres_answers(url: str) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    try:
        with psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3
        ):
            return True
    except psycopg.Error:
        return False


def main() -> None:
    if os.environ.get("DATABASE_URL"):
        url, why = os.environ["DATABASE_URL"], "DATABASE_URL is set"
    elif postgres_answers(LOCAL_POSTGRES):
        url, why = LOCAL_POSTGRES, "a PostgreSQL answers on 127.0.0.1:5432"
    else:
        url, why = "sqlite:///var/test.sqlite3", "no PostgreSQL answered; falling back to SQLite"
    engine = url.split(":", 1)[0]
    print(f"make test: using {engine} ({why})", file=sys.stderr)
    print(url)


if __name__ == "__main__":
    main()
