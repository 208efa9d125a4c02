/* atomic_file.h -- a file replaced whole or not at all (the metrics textfile, the report).
 *
 * atomic_file_open creates a fresh temporary beside the target (mkstemp: O_CREAT|O_EXCL, so a
 * symlink or file planted at that name is never followed or reused); the caller writes the
 * stream; atomic_file_commit sets the final mode (fchmod, so the process umask does not
 * decide who may read it), fsyncs, renames it over the target and fsyncs the directory.
 * A reader therefore sees the old file or the new one, never half of one.
 */
#ifndef LK_ATOMIC_FILE_H
#define LK_ATOMIC_FILE_H

#include <stdio.h>
#include <sys/types.h>

struct lk_error;
struct atomic_file;

/* Start replacing path. what names the file in errors ("the metrics file"). On success the
 * caller owns *out and must end it with atomic_file_commit or atomic_file_abort. Returns 0 or
 * LK_ECONFIG (the directory cannot be written: err names the path and the reason). */
int atomic_file_open(struct atomic_file **out, const char *path, const char *what,
                     struct lk_error *err);
/* The stream to write to; owned by af. */
FILE *atomic_file_stream(struct atomic_file *af);
/* Give the file mode (e.g. 0644), make it durable and put it in place; frees af whatever
 * happens. Returns 0 or LK_ECONFIG (write, fsync or rename failed; the target is untouched). */
int atomic_file_commit(struct atomic_file *af, mode_t mode, struct lk_error *err);
/* Drop the temporary and free af; NULL is a no-op. Cannot fail. */
void atomic_file_abort(struct atomic_file *af);

#endif
