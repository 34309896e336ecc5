/* vae/history.h: the training history, one CSV row per epoch in MODEL.h5.history.csv, for
 * plotting learning curves (showervae evaluate draws it when the generated file names its model).
 *
 * Columns: epoch (1-based), step, seconds (the epoch's wall time), lr (at the epoch's last
 * step), train_elbo, train_recon, train_kl (means over the epoch's batches; after a resume in
 * the middle of an epoch, over the batches since), val_elbo, val_recon, val_kl, active_units,
 * then kl_0 .. kl_{Z-1} (validation KL per latent dimension, nats). Writing row e drops the
 * rows of epochs >= e already in the file (a resumed run that repeats an epoch) and replaces
 * the file atomically (io/atomic.h), so it always holds whole rows.
 */
#ifndef VAE_HISTORY_H
#define VAE_HISTORY_H

#include <stdint.h>

typedef struct {
    int64_t epoch, step;
    double seconds, lr;
    double train_elbo, train_recon, train_kl;
    double val_elbo, val_recon, val_kl;
    int active, Z;
    const double *kl_dim; /* (Z) */
} vae_history_row_t;

/* Appends row to the CSV at path (created with its header when absent). */
int vae_history_append(const char *path, const vae_history_row_t *row);

/* Reads up to max rows: epoch, train and validation ELBO and KL, active units (arrays of max;
 * any may be NULL). Returns the row count, or a negative status (missing or malformed file). */
int vae_history_read(const char *path, int max, double *epoch, double *train_elbo, double *val_elbo,
                     double *train_kl, double *val_kl, double *active);

#endif
