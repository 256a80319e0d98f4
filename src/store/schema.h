/*
 * Private to src/store/: the schema as an ordered list of migrations, one
 * list per dialect (schema.c: SQLite, schema_pg.c: PostgreSQL). db.c
 * applies each one not yet recorded in schema_migrations, one
 * transaction per migration.
 */
#ifndef KIJI_STORE_SCHEMA_H
#define KIJI_STORE_SCHEMA_H

/* SQL of migration version v (1-based); NULL past the last one. */
const char *store_schema_migration(int v);

/* Number of migrations this build knows; a database recording a higher
 * version was written by a newer kiji and is refused. */
int store_schema_version(void);

/* The same for PostgreSQL (schema_pg.c): its own list, whose v1 is the
 * SQLite schema as of its v9. */
const char *store_pg_schema_migration(int v);
int store_pg_schema_version(void);

#endif
