"""PostgreSQL: the connection pool, migrations and every query Roster runs."""
