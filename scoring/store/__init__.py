"""The web application's store: SQLAlchemy 2 models, Alembic migrations, queries.

Only this package knows SQL. Points are kept exactly (``Decimal`` as text: SQLite's REAL is not exact);
uploaded files are kept immutable and content-addressed (see ``files``).
"""

from .db import Store, default_database, migrate

__all__ = ["Store", "default_database", "migrate"]
