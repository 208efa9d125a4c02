/* pseudo.c -- HMAC-SHA256 pseudonyms (OpenSSL's libcrypto, already linked by libcurl), the
 * key read once from its file and wiped on free. */
#include "pseudo.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
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
