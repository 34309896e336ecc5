/* showervae.h: the public C interface of showervae.
 *
 * showervae learns calorimeter showers with a conditional variational autoencoder and
 * generates synthetic showers fast. This header is the stable interface for programs that
 * link libshowervae (pkg-config --cflags --libs showervae). No oneDNN or HDF5 type appears
 * here. Nothing in the library prints or exits; failures return a negative status and
 * vae_last_error() describes them.
 *
 * At this version the header carries the version and error queries; the model, generation
 * and voxel-to-hit functions are added as they land (see README.md).
 */
#ifndef SHOWERVAE_H
#define SHOWERVAE_H

#ifdef __cplusplus
extern "C" {
#endif

#define SHOWERVAE_VERSION_MAJOR 0
#define SHOWERVAE_VERSION_MINOR 1
#define SHOWERVAE_VERSION_PATCH 0
#define SHOWERVAE_VERSION_STRING "0.1.0"

/* The library's version at run time, "MAJOR.MINOR.PATCH". */
const char *vae_version(void);
/* The last error message recorded on the calling thread ("" if none). */
const char *vae_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
