/* config_ca.c -- which PEM bundle of CAs the API's TLS trusts, and whether it is one.
 *
 * The sources, first set wins: LKARCHIVE_CA_FILE, the file's ca_file (a relative path is
 * beside the config file, as api_secret_file), then what curl's own tool reads,
 * CURL_CA_BUNDLE and SSL_CERT_FILE; none: the system store (libcurl's default). A source
 * that wins hides the later ones: they are not read. The file chosen must be readable and
 * hold at least one PEM certificate block whose body is base64, every block closed: libcurl
 * would otherwise fail every request with CURLE_SSL_CACERT_BADFILE, the night long. The
 * certificates themselves are left to the TLS library.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "error.h"
#include "secret.h"

/* A CA bundle larger than this is not one (Debian's whole store is about 200 KiB). */
#define CA_FILE_MAX ((size_t)16 * 1024 * 1024)

/* What the PEM check found. */
struct pem_check {
    size_t certificates; /* closed certificate blocks */
    size_t bad_line;     /* 1-based line that is not PEM inside a block, 0: none */
    bool open;           /* the text ended inside a block */
};

static bool is_begin(const char *line, size_t len)
{
    static const char *const begins[] = {"-----BEGIN CERTIFICATE-----",
                                         "-----BEGIN TRUSTED CERTIFICATE-----",
                                         "-----BEGIN X509 CERTIFICATE-----"};

    for (size_t i = 0; i < sizeof begins / sizeof begins[0]; i++)
        if (len == strlen(begins[i]) && memcmp(line, begins[i], len) == 0)
            return true;
    return false;
}

/* Walk text line by line: blocks from BEGIN to an "-----END " line, base64 between; text
 * outside blocks (comments, a bundle's labels) is allowed, as OpenSSL allows it. */
static void check_pem(const char *text, size_t len, struct pem_check *out)
{
    size_t line_no = 0, body = 0;

    *out = (struct pem_check){0, 0, false};
    for (size_t at = 0; at < len && out->bad_line == 0;) {
        const char *line = text + at, *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;

        at += n + 1;
        line_no++;
        while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
            n--;
        if (!out->open) {
            out->open = is_begin(line, n);
            body = 0;
        } else if (n >= 9 && memcmp(line, "-----END ", 9) == 0) {
            out->open = false;
            if (body == 0)
                out->bad_line = line_no;
            else
                out->certificates++;
        } else if (strspn(line,
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") <
                   n) {
            out->bad_line = line_no;
        } else {
            body += n;
        }
    }
}

/* Read path and check it is a PEM bundle; where names the source in errors. */
static int check_ca_file(const char *path, const char *where, struct lk_error *err)
{
    char *text = NULL;
    size_t len = 0;
    struct pem_check pem;
    int errnum = config_read_file(path, CA_FILE_MAX, &text, &len, NULL), rc = LK_ECONFIG;

    if (errnum == ENOMEM)
        return config_out_of_memory(err);
    if (errnum != 0) {
        lk_error_set(err, LK_ECONFIG, "%s: could not read the CA file \"%s\": %s", where, path,
                     errnum == EFBIG ? "larger than 16 MiB" : strerror(errnum));
        goto done;
    }
    check_pem(text, len, &pem);
    if (pem.bad_line != 0)
        lk_error_set(err, LK_ECONFIG,
                     "%s: the CA file \"%s\" is not PEM: line %zu of a certificate block is "
                     "not base64",
                     where, path, pem.bad_line);
    else if (pem.open)
        lk_error_set(err, LK_ECONFIG,
                     "%s: the CA file \"%s\" is not PEM: its last certificate block is not closed",
                     where, path);
    else if (pem.certificates == 0)
        lk_error_set(
            err, LK_ECONFIG,
            "%s: the CA file \"%s\" is not PEM: it holds no \"-----BEGIN CERTIFICATE-----\" "
            "block",
            where, path);
    else
        rc = 0;
done:
    if (rc != 0)
        lk_error_detail(err, "name a PEM bundle of the CA certificates to trust (as curl's "
                             "--cacert); DER files convert with: openssl x509 -inform der -in "
                             "CA.der -out CA.pem");
    secret_free_n(text, len + 1);
    return rc;
}

/* An environment variable's value; empty counts as unset. */
static const char *env_set(const char *name)
{
    const char *value = getenv(name);
    return value != NULL && value[0] != '\0' ? value : NULL;
}

int config_choose_ca_file(struct loader *ld, size_t file_line, bool check)
{
    static const char *const curl_vars[] = {"CURL_CA_BUNDLE", "SSL_CERT_FILE"};
    struct config *cfg = ld->cfg;
    const char *value = env_set("LKARCHIVE_CA_FILE");
    char where[600];
    char *path = NULL;

    cfg->ca_source = value ? "LKARCHIVE_CA_FILE" : cfg->ca_file ? "ca_file" : NULL;
    for (size_t i = 0; cfg->ca_source == NULL && i < 2; i++)
        if ((value = env_set(curl_vars[i])) != NULL)
            cfg->ca_source = curl_vars[i];
    if (cfg->ca_source == NULL)
        return 0;
    /* the file's ca_file is relative to the file; a variable's, to the working directory */
    path = value ? strdup(value) : config_resolve_beside(ld->path, cfg->ca_file);
    if (path == NULL)
        return config_out_of_memory(ld->err);
    free(cfg->ca_file);
    cfg->ca_file = path;
    if (!check)
        return 0;
    if (value)
        snprintf(where, sizeof where, "environment (%s)", cfg->ca_source);
    else
        snprintf(where, sizeof where, "%s:%zu (ca_file)", ld->path ? ld->path : "default",
                 file_line);
    return check_ca_file(cfg->ca_file, where, ld->err);
}
