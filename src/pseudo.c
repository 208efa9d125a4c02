/* pseudo.c -- HMAC-SHA256 pseudonyms (OpenSSL's libcrypto, already linked by libcurl), the
 * key read once from its file (private to its user) and wiped on free; the scrub of a
 * record's `extra` (yajl's tree, then its generator). */
#include "pseudo.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "secret.h"

#define PSEUDO_KEY_MIN 16
#define PSEUDO_KEY_MAX 1024

struct pseudo {
    unsigned char key[PSEUDO_KEY_MAX];
    size_t key_len;
};

/* Whether the open key file is private to its user, as the API secret's file must be (and as ssh
 * treats a private key): a key others can read lets them tie every pseudonym to its identity
 * by guessing. err says why when it is not. */
static bool key_file_private(FILE *f, const char *key_file, struct lk_error *err)
{
    struct stat info;
    unsigned int mode;

    if (fstat(fileno(f), &info) != 0) {
        lk_error_set(err, LK_ECONFIG, "cannot read pseudonymize_key_file %s", key_file);
        return false;
    }
    mode = (unsigned int)(info.st_mode & 07777);
    if ((mode & (S_IRWXG | S_IRWXO)) != 0) {
        lk_error_set(err, LK_ECONFIG,
                     "pseudonymize_key_file %s can be used by group or others (mode %04o)",
                     key_file, mode);
        lk_error_detail(err, "make it private to the user running lkarchive: chmod 600 %s (under "
                             "systemd, hand it over with LoadCredential=, see lkarchive.service)",
                        key_file);
        return false;
    }
    return true;
}

int pseudo_open(struct pseudo **out, const char *key_file, struct lk_error *err)
{
    struct pseudo *p = NULL;
    FILE *f = NULL;
    int rc = LK_ECONFIG;

    *out = NULL;
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        lk_error_set(err, LK_ENOMEM, "out of memory");
        return LK_ENOMEM;
    }
    f = fopen(key_file, "rb");
    if (f == NULL) {
        lk_error_set(err, rc, "cannot read pseudonymize_key_file %s", key_file);
        goto done;
    }
    if (!key_file_private(f, key_file, err))
        goto done;
    p->key_len = fread(p->key, 1, sizeof p->key, f);
    while (p->key_len > 0 && (p->key[p->key_len - 1] == '\n' || p->key[p->key_len - 1] == '\r'))
        p->key_len--;
    if (p->key_len < PSEUDO_KEY_MIN) {
        lk_error_set(err, rc, "pseudonymize_key_file %s holds fewer than %d bytes", key_file,
                     PSEUDO_KEY_MIN);
        lk_error_detail(err, "e.g. head -c 32 /dev/urandom | base64 > FILE; keep it: the same "
                             "key must be used for as long as the archive lives");
        goto done;
    }
    rc = 0;
    *out = p;
    p = NULL;
done:
    if (f)
        fclose(f);
    pseudo_free(p);
    return rc;
}

void pseudo_free(struct pseudo *p)
{
    if (p == NULL)
        return;
    secret_wipe(p->key, sizeof p->key);
    free(p);
}

void pseudo_hex(const struct pseudo *p, const char *text, char out[PSEUDO_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    HMAC(EVP_sha256(), p->key, (int)p->key_len, (const unsigned char *)text, strlen(text), mac,
         &len);
    for (unsigned int i = 0; i < len && i < 32; i++) {
        out[2 * i] = digits[mac[i] >> 4];
        out[2 * i + 1] = digits[mac[i] & 15];
    }
    out[64] = '\0';
}

/* ---- extra: what the application put beside the identity ---- */

/* Whether text mentions a needle: equal to it, or holding it when it is 4 bytes or more (an
 * e-mail inside a sentence; a shorter needle would match everywhere), as the database's
 * livekit.text_scrub (sql/functions/privacy.sql) decides for forget. */
static bool mentions(const char *text, const char *needle)
{
    size_t n = needle ? strlen(needle) : 0;

    if (n == 0)
        return false;
    return strcmp(text, needle) == 0 || (n >= 4 && strstr(text, needle) != NULL);
}

/* The text to write for a string or key: its pseudonym when it mentions a needle. */
static const char *scrubbed(const struct pseudo_scrub *s, const char *text)
{
    for (int i = 0; i < 2; i++)
        if (mentions(text, s->needles[i]))
            return s->replacements[i];
    return text;
}

static int gen_string(yajl_gen gen, const char *text)
{
    return yajl_gen_string(gen, (const unsigned char *)text, strlen(text)) == yajl_gen_status_ok
               ? 0
               : -1;
}

/* v into gen, scrubbed; depth 0 is extra itself, whose free-form members go. */
static int gen_scrubbed(yajl_gen gen, yajl_val v, const struct pseudo_scrub *s, int depth)
{
    static const char *const dropped[] = {"attributes", "metadata"};
    int rc = 0;

    if (YAJL_IS_OBJECT(v)) {
        rc = yajl_gen_map_open(gen) == yajl_gen_status_ok ? 0 : -1;
        for (size_t i = 0; rc == 0 && i < v->u.object.len; i++) {
            const char *key = v->u.object.keys[i];
            if (depth == 0 && s->drop_free_form &&
                (strcmp(key, dropped[0]) == 0 || strcmp(key, dropped[1]) == 0))
                continue;
            rc = gen_string(gen, scrubbed(s, key));
            if (rc == 0)
                rc = gen_scrubbed(gen, v->u.object.values[i], s, depth + 1);
        }
        if (rc == 0)
            rc = yajl_gen_map_close(gen) == yajl_gen_status_ok ? 0 : -1;
    } else if (YAJL_IS_ARRAY(v)) {
        rc = yajl_gen_array_open(gen) == yajl_gen_status_ok ? 0 : -1;
        for (size_t i = 0; rc == 0 && i < v->u.array.len; i++)
            rc = gen_scrubbed(gen, v->u.array.values[i], s, depth + 1);
        if (rc == 0)
            rc = yajl_gen_array_close(gen) == yajl_gen_status_ok ? 0 : -1;
    } else if (YAJL_IS_STRING(v)) {
        rc = gen_string(gen, scrubbed(s, v->u.string));
    } else if (YAJL_IS_NUMBER(v)) {
        rc = yajl_gen_number(gen, v->u.number.r, strlen(v->u.number.r)) == yajl_gen_status_ok ? 0
                                                                                               : -1;
    } else {
        rc = (YAJL_IS_NULL(v) ? yajl_gen_null(gen) : yajl_gen_bool(gen, YAJL_IS_TRUE(v))) ==
                     yajl_gen_status_ok
                 ? 0
                 : -1;
    }
    return rc;
}

int pseudo_scrub_json(char **out, const char *json, const struct pseudo_scrub *s)
{
    yajl_val tree = yajl_tree_parse(json, NULL, 0);
    yajl_gen gen = yajl_gen_alloc(NULL);
    const unsigned char *buf;
    size_t len;
    int rc = -1;

    *out = NULL;
    if (tree != NULL && gen != NULL && YAJL_IS_OBJECT(tree) &&
        gen_scrubbed(gen, tree, s, 0) == 0 &&
        yajl_gen_get_buf(gen, &buf, &len) == yajl_gen_status_ok &&
        (*out = malloc(len + 1)) != NULL) {
        memcpy(*out, buf, len);
        (*out)[len] = '\0';
        rc = 0;
    }
    if (gen)
        yajl_gen_free(gen);
    yajl_tree_free(tree);
    return rc;
}
