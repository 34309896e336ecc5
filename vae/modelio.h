/* vae/modelio.h: saving and loading models and training checkpoints (io/modelfile.h format).
 *
 * A model file holds the config JSON (geometry name, conditions, widths, likelihood,
 * preprocessing constants), the voxel grid (/geometry/n_r, /geometry/n_alpha,
 * /geometry/r_edges), and each parameter tensor by name. A checkpoint adds /state: the Adam
 * moments (the flat arena), the Adam step, the training step, epoch, batch within the epoch,
 * the best validation ELBO and the seed, so that a resumed run continues bit-identically.
 * Loading checks everything against the config and fails with a message naming the file.
 */
#ifndef VAE_MODELIO_H
#define VAE_MODELIO_H

#include "layers/optim.h"
#include "physics/geometry.h"
#include "vae/model.h"
#include "vae/showervae.h"

/* What files written by this library name as their producer. */
#define VAE_PRODUCER "showervae " SHOWERVAE_VERSION_STRING

typedef struct {
    layer_adam_t adam;
    int64_t step, epoch, batch_in_epoch;
    double best_val; /* best validation ELBO so far */
    uint64_t seed;
    int64_t data_streams; /* the loader's streams S (io/loader.h; 1 in checkpoints that predate them) */
} vae_train_state_t;

/* st: NULL for a model file, else a checkpoint. */
int vae_model_save(vae_model_t *m, const phys_geometry_t *g, const char *path, int force,
                   const vae_train_state_t *st);
/* Builds m for batch B (0: inference only) from path; g receives the grid; st, if not NULL,
 * receives the checkpoint state (an error if the file has none). */
int vae_model_load(vae_model_t *m, phys_geometry_t *g, const char *path, const layer_ctx_t *ctx, int B,
                   vae_train_state_t *st);

#endif
