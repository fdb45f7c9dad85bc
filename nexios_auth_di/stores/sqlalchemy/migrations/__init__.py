"""Alembic migrations of the SQLAlchemy stores' schema (``tables.py``); run them with
``nexios-auth db upgrade`` (``stores/sqlalchemy/migrate.py``)."""
