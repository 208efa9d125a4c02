/* atomic_file.c -- replace a file whole; see atomic_file.h.
 *
 * The temporary is PATH.XXXXXX beside the target (rename is atomic only within one file
 * system), made by mkstemp, which opens with O_CREAT|O_EXCL: an attacker who can write the
 * directory cannot make us write through a symlink. Data flows: open -> caller's fprintf ->
 * commit (fflush, fchmod, fsync, fclose, rename, fsync of the directory).
 */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

struct atomic_file {
    FILE *stream;
    char *path;
    char *temporary;
    const char *what;
};

/* Make the rename durable: fsync the directory holding path. Best effort. */
static void sync_directory(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = NULL;
    int fd;

    if (slash == NULL)
        dir = strdup(".");
    else
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (dir == NULL)
        return;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int atomic_file_open(struct atomic_file **out, const char *path, const char *what,
                     struct lk_error *err)
{
    struct atomic_file *af = calloc(1, sizeof *af);
    size_t length = strlen(path);
    int fd = -1;
    int rc = LK_ECONFIG;

    *out = NULL;
    if (af == NULL || (af->path = strdup(path)) == NULL ||
        (af->temporary = malloc(length + sizeof ".XXXXXX")) == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory writing %s", what);
        rc = LK_ENOMEM;
        goto done;
    }
    af->what = what;
    memcpy(af->temporary, path, length);
    memcpy(af->temporary + length, ".XXXXXX", sizeof ".XXXXXX");
    fd = mkstemp(af->temporary);
    if (fd < 0) {
        lk_error_set(err, LK_ECONFIG, "could not create %s %s: %s", what, af->temporary,
                     strerror(errno));
        lk_error_detail(err, "it must be in a directory this user can write");
        free(af->temporary);
        af->temporary = NULL;
        goto done;
    }
    af->stream = fdopen(fd, "w");
    if (af->stream == NULL) {
        lk_error_set(err, LK_ECONFIG, "could not open %s %s: %s", what, af->temporary,
                     strerror(errno));
        close(fd);
        goto done;
    }
    *out = af;
    af = NULL;
    rc = 0;
done:
    atomic_file_abort(af);
    return rc;
}

FILE *atomic_file_stream(struct atomic_file *af)
{
    return af->stream;
}

int atomic_file_commit(struct atomic_file *af, mode_t mode, struct lk_error *err)
{
    const char *step = "write";
    int rc = LK_ECONFIG;
    int closed;

    if (fflush(af->stream) != 0 || ferror(af->stream))
        goto done;
    step = "set the mode of";
    if (fchmod(fileno(af->stream), mode) != 0)
        goto done;
    step = "write";
    if (fsync(fileno(af->stream)) != 0)
        goto done;
    closed = fclose(af->stream);
    af->stream = NULL;
    if (closed != 0)
        goto done;
    step = "rename";
    if (rename(af->temporary, af->path) != 0)
        goto done;
    free(af->temporary);
    af->temporary = NULL;
    sync_directory(af->path);
    rc = 0;
done:
    if (rc != 0)
        lk_error_set(err, LK_ECONFIG, "could not %s %s %s: %s", step, af->what,
                     step[0] == 'r' ? af->path : af->temporary, strerror(errno));
    atomic_file_abort(af);
    return rc;
}

void atomic_file_abort(struct atomic_file *af)
{
    if (af == NULL)
        return;
    if (af->stream != NULL) {
        fclose(af->stream);
        af->stream = NULL;
    }
    if (af->temporary != NULL)
        unlink(af->temporary);
    free(af->path);
    free(af->temporary);
    free(af);
}
