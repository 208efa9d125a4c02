/* migrations.h -- the SQL files of sql/, embedded at build time (ci/embed_migrations.cmake).
 *
 * migrations: the versioned migrations, run once each, ordered by file name (NNN_name.sql).
 * repeatables: the views and functions (functions/NAME.sql, then views/NAME.sql, by path),
 * applied after the migrations whenever their text changed (store_schema.c).
 * Each table ends with a {NULL, NULL} entry. */
#ifndef LK_MIGRATIONS_H
#define LK_MIGRATIONS_H

struct migration {
    const char *name; /* "001_schema.sql"; for a repeatable its path under sql/ */
    const char *sql;  /* the file's text */
};

extern const struct migration migrations[];
extern const struct migration repeatables[];

#endif
