/* pseudo.c -- HMAC-SHA256 pseudonyms (OpenSSL's libcrypto, already linked by libcurl), the
 * key read once from its file (private to its user) and wiped on free; the scrub of a
 * record's `extra` (yajl's tree, then its generator). */
#include "pseudo.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

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
        lk_error_detail(err,
                        "make it private to the user running lkarchive: chmod 600 %s (under "
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

static int gen_string(yajl_gen gen, const char *text)
{
    return yajl_gen_string(gen, (const unsigned char *)text, strlen(text)) == yajl_gen_status_ok
               ? 0
               : -1;
}

/* A string or key, or what the scrub puts instead. */
static int gen_text(yajl_gen gen, const char *text, const struct pseudo_scrub *s)
{
    const char *instead = s->replace(s->ctx, text);
    return gen_string(gen, instead ? instead : text);
}

static bool dropped(const struct pseudo_scrub *s, int depth, const char *key)
{
    return depth == 0 && s->drop_free_form &&
           (strcmp(key, "attributes") == 0 || strcmp(key, "metadata") == 0);
}

/* v into gen, scrubbed; depth 0 is extra itself, whose free-form members may go. */
static int gen_scrubbed(yajl_gen gen, yajl_val v, const struct pseudo_scrub *s, int depth)
{
    yajl_gen_status status = yajl_gen_status_ok;
    int rc = 0;

    if (YAJL_IS_OBJECT(v)) {
        status = yajl_gen_map_open(gen);
        for (size_t i = 0; status == yajl_gen_status_ok && rc == 0 && i < v->u.object.len; i++)
            if (!dropped(s, depth, v->u.object.keys[i]) &&
                (rc = gen_text(gen, v->u.object.keys[i], s)) == 0)
                rc = gen_scrubbed(gen, v->u.object.values[i], s, depth + 1);
        if (status == yajl_gen_status_ok && rc == 0)
            status = yajl_gen_map_close(gen);
    } else if (YAJL_IS_ARRAY(v)) {
        status = yajl_gen_array_open(gen);
        for (size_t i = 0; status == yajl_gen_status_ok && rc == 0 && i < v->u.array.len; i++)
            rc = gen_scrubbed(gen, v->u.array.values[i], s, depth + 1);
        if (status == yajl_gen_status_ok && rc == 0)
            status = yajl_gen_array_close(gen);
    } else if (YAJL_IS_STRING(v)) {
        rc = gen_text(gen, v->u.string, s);
    } else if (YAJL_IS_NUMBER(v)) {
        status = yajl_gen_number(gen, v->u.number.r, strlen(v->u.number.r));
    } else if (YAJL_IS_NULL(v)) {
        status = yajl_gen_null(gen);
    } else {
        status = yajl_gen_bool(gen, YAJL_IS_TRUE(v));
    }
    return rc == 0 && status == yajl_gen_status_ok ? 0 : -1;
}

int pseudo_scrub_json(char **out, const char *json, const struct pseudo_scrub *s)
{
    yajl_val tree = yajl_tree_parse(json, NULL, 0);
    yajl_gen gen = yajl_gen_alloc(NULL);
    const unsigned char *buf;
    size_t len;
    int rc = -1;

    *out = NULL;
    if (tree != NULL && gen != NULL && YAJL_IS_OBJECT(tree) && gen_scrubbed(gen, tree, s, 0) == 0 &&
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
