/* test_atomic_file.c -- unit tests for atomic_file.c: the target is replaced whole with the
 * mode asked for whatever the umask, a symlink or file planted beside the target is never
 * written through, an aborted or failed write leaves the old file and no temporary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "error.h"

struct scratch {
    char dir[64];
    char path[128];
};

static int make_scratch(void **state)
{
    struct scratch *s = calloc(1, sizeof *s);
    if (s == NULL)
        return -1;
    snprintf(s->dir, sizeof s->dir, "/tmp/lk-atomic.XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(s->path, sizeof s->path, "%s/out.prom", s->dir);
    *state = s;
    return 0;
}

static int drop_scratch(void **state)
{
    struct scratch *s = *state;
    char command[128];
    snprintf(command, sizeof command, "rm -rf '%s'", s->dir);
    if (system(command) != 0)
        return -1;
    free(s);
    return 0;
}

static void read_file(const char *path, char *out, size_t size)
{
    FILE *fp = fopen(path, "r");
    size_t n;
    assert_non_null(fp);
    n = fread(out, 1, size - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

static int entries_in(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        count += e->d_name[0] != '.';
    closedir(d);
    return count;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    struct atomic_file *af = NULL;
    struct lk_error err;
    lk_error_init(&err);
    assert_int_equal(atomic_file_open(&af, path, "the test file", &err), 0);
    fputs(text, atomic_file_stream(af));
    assert_int_equal(atomic_file_commit(af, mode, &err), 0);
}

static void replaces_whole_with_the_mode_asked_whatever_the_umask(void **state)
{
    struct scratch *s = *state;
    char text[64];
    struct stat st;
    mode_t old = umask(077);

    write_text(s->path, "first\n", 0644);
    write_text(s->path, "second\n", 0644);
    umask(old);
    read_file(s->path, text, sizeof text);
    assert_string_equal(text, "second\n");
    assert_int_equal(stat(s->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(entries_in(s->dir), 1);
}

static void never_writes_through_a_planted_symlink(void **state)
{
    struct scratch *s = *state;
    char victim[160], link_name[200], text[64];

    /* a symlink at the name the old scheme used (PATH.tmp.<pid>); mkstemp's names cannot be
     * guessed, and O_EXCL would refuse one that was */
    snprintf(victim, sizeof victim, "%s/victim", s->dir);
    write_text(victim, "precious\n", 0600);
    snprintf(link_name, sizeof link_name, "%s.tmp.%ld", s->path, (long)getpid());
    assert_int_equal(symlink(victim, link_name), 0);
    write_text(s->path, "metrics\n", 0644);
    read_file(victim, text, sizeof text);
    assert_string_equal(text, "precious\n");
    read_file(s->path, text, sizeof text);
    assert_string_equal(text, "metrics\n");
}

static void abort_and_failure_leave_the_old_file_and_no_temporary(void **state)
{
    struct scratch *s = *state;
    struct atomic_file *af = NULL;
    struct lk_error err;
    char text[64], missing[160];

    write_text(s->path, "old\n", 0644);
    lk_error_init(&err);
    assert_int_equal(atomic_file_open(&af, s->path, "the test file", &err), 0);
    fputs("half", atomic_file_stream(af));
    atomic_file_abort(af);
    atomic_file_abort(NULL);
    read_file(s->path, text, sizeof text);
    assert_string_equal(text, "old\n");
    assert_int_equal(entries_in(s->dir), 1);

    snprintf(missing, sizeof missing, "%s/no/such/dir/file", s->dir);
    assert_int_equal(atomic_file_open(&af, missing, "the test file", &err), LK_ECONFIG);
    assert_null(af);
    assert_non_null(strstr(err.message, "could not create the test file"));
    assert_non_null(strstr(err.message, "no/such/dir/file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(replaces_whole_with_the_mode_asked_whatever_the_umask,
                                        make_scratch, drop_scratch),
        cmocka_unit_test_setup_teardown(never_writes_through_a_planted_symlink, make_scratch,
                                        drop_scratch),
        cmocka_unit_test_setup_teardown(abort_and_failure_leave_the_old_file_and_no_temporary,
                                        make_scratch, drop_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
