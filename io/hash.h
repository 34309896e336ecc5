/* io/hash.h: content hashes of files, for provenance (a generated file names the model it came
 * from and the SHA-256 of its bytes, so a reader can tell which model made it).
 *
 * SHA-256 (FIPS 180-4) by nettle's sha256_* functions, over the whole file read in 1 MiB
 * blocks. Library code: no printing, no exit.
 */
#ifndef IO_HASH_H
#define IO_HASH_H

/* hex: 65 bytes; receives the lower-case hex SHA-256 of the file's bytes. BASE_EIO (naming the
 * file and the reason) when it cannot be read. */
int io_sha256_file(const char *path, char hex[65]);

#endif
