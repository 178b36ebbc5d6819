"""The one SQLite file: schema, migrations, every SQL statement and every stored key."""
