/* vae/api.c: version and error queries of the public interface (see showervae.h). */
#include "vae/showervae.h"

#include "layers/status.h"

const char *vae_version(void) { return SHOWERVAE_VERSION_STRING; }

const char *vae_last_error(void) { return layer_last_error(); }
