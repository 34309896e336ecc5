/* vae/train.h: the training loop (library side; `showervae train` is its program).
 *
 * Streams shuffled mini-batches of the training part (io/loader.h; incomplete last batches
 * are dropped), one Adam step per batch with gradient-norm clipping and a cosine schedule with
 * warm-up, KL warm-up (beta_t = beta min(1, t / warmup)) and free bits. After every epoch the
 * validation part gives the ELBO terms, the KL per latent dimension and the active units
 * (dimensions whose posterior mean varies over the data: Cov_x(E_q[z_u]) > 0.01, Burda et al.
 * 2016); the best model on validation ELBO is written to the output file.
 * Checkpoints (output + ".ckpt") every ckpt_every steps and at each epoch end hold everything
 * needed to resume bit-identically (vae/modelio.h). A NaN/Inf loss or gradient stops the run
 * with a message; the last checkpoint and best model stay as they were. When the config asks
 * for a learned prior (prior_k > 0), it is fitted to the best model after the last epoch (or a
 * time/step stop) and stored in the output file (vae/fitprior.h). Nothing is printed:
 * progress, per-epoch summaries and warnings go to the caller's monitor (base/monitor.h).
 * The schedule is cosine with warm-up unless the config says constant (lr_constant).
 *
 * Data streams: the loader is S streams (io/loader.h: stream s holds the row blocks b = s mod
 * S); each global batch of B is B/S rows of stream 0, then of stream 1, ... A run's batches
 * depend on S (and the seed), not on the number of processes.
 *
 * Data parallelism (opts.comm with size N > 1; N divides S, S divides B): rank k runs streams
 * kS/N .. (k+1)S/N - 1, so it reads and holds only their blocks of the file, and they make its
 * contiguous share of B / N rows of every global batch, trained with the noise of those rows'
 * global indices. The gradients are summed over the ranks (one buffer: the arena's) and the
 * optimiser is sharded (ZeRO stage 1: reduce-scatter, Adam on a block, all-gather): the step
 * one process with the same S takes, to float rounding; the parameters stay equal. Batch norm normalises with each
 * rank's own batch statistics (B / N rows); the running statistics are averaged over the ranks
 * after each step, so every rank holds the same model. Free bits compare each rank's batch-mean
 * KL with the floor, and dropout masks follow each rank's rows: with either, N ranks are not
 * the 1-rank run to rounding. Each rank validates its streams' validation rows and the sums
 * are added; rank 0 alone writes the model, checkpoints, history and the learned prior (read
 * from the whole file) and reports (the other ranks should be given no monitor). Resume works
 * with any N that divides the checkpoint's S.
 *
 * Files: a fresh run refuses an existing output or OUTPUT.ckpt unless force, and an output that
 * is the data file in any case. A resumed run keeps the best model it finds: the output is
 * replaced only by a better validation ELBO than the checkpoint's best, so an interrupted and
 * resumed run ends with the same best and final model as an uninterrupted one.
 */
#ifndef VAE_TRAIN_H
#define VAE_TRAIN_H

#include "base/monitor.h"
#include "vae/comm.h"

#include <signal.h>
#include <stdint.h>

typedef struct {
    const char *data, *out, *resume, *preset, *geometry;
    int epochs, batch;       /* 0: the preset's */
    float lr;                /* 0: the preset's */
    double val_fraction;
    uint64_t seed;
    int64_t ckpt_every;      /* steps; 0: epoch ends only */
    int64_t stop_at_step;    /* stop (with a checkpoint) after this step; 0: never */
    double max_minutes;      /* stop (with a checkpoint) after this time; 0: never */
    float dropout;           /* < 0: the preset's */
    int keras_init;          /* 1: Keras initialisers and zero output bias (Par04's own); 0: the preset's */
    int lr_constant;         /* 1: constant learning rate (Par04's own); 0: the preset's */
    int set_free_bits;       /* 1: free_bits replaces the preset's */
    float free_bits;         /* KL floor per latent dimension (nats) */
    int set_kl_warmup;       /* 1: kl_warmup replaces the preset's */
    int64_t kl_warmup;       /* steps of linear KL warm-up (0: none) */
    int force;
    size_t data_mem_bytes;   /* the data file is held in memory (read once) when it fits; 0: 4 GiB */
    int data_streams;        /* the loader's streams S (io/loader.h): each global batch takes B/S rows from
                              * each; N processes run S/N streams each and read only their blocks.
                              * 0: the checkpoint's when resuming, else the number of processes */
    const base_monitor_t *monitor; /* progress and messages (base/monitor.h); NULL: silent */
    volatile sig_atomic_t *cancel; /* set non-zero (e.g. by a SIGINT handler) to stop after the
                                    * current batch with a checkpoint; NULL: never */
    const vae_comm_t *comm;  /* data-parallel training over comm->size ranks (NULL: one process) */
} vae_train_opts_t;

/* Summary of a finished run (for reports and tests). */
typedef struct {
    int64_t steps;
    double seconds, showers_per_s;
    double val_elbo, val_recon, val_kl;
    int active_units, Z;
    int interrupted; /* 1: stopped by *cancel (checkpoint written, no prior fitted) */
} vae_train_result_t;

int vae_train(const vae_train_opts_t *o, vae_train_result_t *res);

#endif
