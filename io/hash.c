/* io/hash.c: file hashes (see hash.h). */
#include "io/hash.h"
#include "base/status.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int io_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) return base_error(BASE_EIO, "%s: cannot open to hash it (%s)", path, strerror(errno));
    enum { BLOCK = 1 << 20 };
    unsigned char *buf = malloc(BLOCK), digest[SHA256_DIGEST_SIZE];
    if (!buf) {
        fclose(f);
        return base_error(BASE_ENOMEM, "%s: out of memory to hash it", path);
    }
    struct sha256_ctx c;
    sha256_init(&c);
    size_t n;
    while ((n = fread(buf, 1, BLOCK, f)) > 0) sha256_update(&c, n, buf);
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return base_error(BASE_EIO, "%s: read error while hashing it", path);
    sha256_digest(&c, SHA256_DIGEST_SIZE, digest);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return BASE_OK;
}
