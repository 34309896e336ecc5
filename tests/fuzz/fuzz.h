/* tests/fuzz/fuzz.h: what the libFuzzer targets share (build and run: `make fuzz`).
 *
 * Each target defines LLVMFuzzerTestOneInput; the readers under test take paths, so an input
 * is written to a per-process temporary file first. Library errors are expected (they are
 * the point); crashes, hangs, leaks and sanitizer reports are the findings.
 */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A temporary path for this process: TMPDIR (or /tmp) + "/showervae-fuzz-PID-tag". */
static inline const char *fuzz_path(char *buf, size_t n, const char *tag)
{
    const char *d = getenv("TMPDIR");
    snprintf(buf, n, "%s/showervae-fuzz-%ld-%s", d && *d ? d : "/tmp", (long)getpid(), tag);
    return buf;
}

/* Writes n bytes to path; 0 or -1. */
static inline int fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t k = fwrite(data, 1, n, f);
    return fclose(f) == 0 && k == n ? 0 : -1;
}

/* A reader of the input's bytes: structure-aware targets take their choices from it; past
 * the end every read gives 0. */
typedef struct {
    const uint8_t *p;
    size_t n, i;
} fuzz_bytes_t;

static inline unsigned fuzz_u8(fuzz_bytes_t *b) { return b->i < b->n ? b->p[b->i++] : 0; }
static inline unsigned fuzz_u16(fuzz_bytes_t *b) { return fuzz_u8(b) | fuzz_u8(b) << 8; }
static inline float fuzz_f32(fuzz_bytes_t *b)
{
    uint32_t u = fuzz_u16(b) | (uint32_t)fuzz_u16(b) << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#endif
