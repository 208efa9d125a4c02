/* migrations.h -- the SQL migrations of sql/, embedded at build time (ci/embed_migrations.cmake).
 * Ordered by file name (NNN_name.sql); the table ends with a {NULL, NULL} entry. */
#ifndef LK_MIGRATIONS_H
#define LK_MIGRATIONS_H

struct migration {
    const char *name; /* file name, e.g. "001_schema.sql" */
    const char *sql;  /* the file's text */
};

extern const struct migration migrations[];

#endif
