/* redact.h -- passwords and tokens out of every message: connection strings, URLs, libpq's
 * echoes, error bodies that echo the request's Authorization header.
 *
 * A DATABASE_URL or a base URL may carry a password; libpq and libcurl quote fragments of
 * what they were given in their errors. Whatever is printed or logged passes through here
 * first when it may hold one.
 */
#ifndef LK_REDACT_H
#define LK_REDACT_H

#include <stddef.h>

#define REDACTED "***"

/* Copy text into out (size bytes, always terminated, cut to fit) with every occurrence of
 * `secret` (NULL or "": none) written REDACTED, and the password of any URL's user info
 * ("scheme://user:PASSWORD@") and of any key=value "password=..." too. Returns out. */
const char *redact_text(char *out, size_t size, const char *text, const char *secret);

/* Copy text into out (as above) with every double-quoted fragment longer than one character
 * written "***": libpq quotes the fragment of a connection string it cannot parse, and that
 * fragment may be the password. Returns out. */
const char *redact_quoted(char *out, size_t size, const char *text);

/* Copy text into out (as above) with every token written REDACTED: `bearer` (NULL: none)
 * wherever it is, a JWT-shaped run ("eyJ" and 7 or more base64url characters or dots, cut or
 * whole), the value after "Bearer ", and the value of an "Authorization" key (header, JSON or
 * key=value). For an error body that echoes the request (it reaches logs and `check`). */
const char *redact_tokens(char *out, size_t size, const char *text, const char *bearer);

#endif
