/* base/streams.h: every Philox stream id of the project, in one table (base/rng.h).
 *
 * A random draw is a pure function of (seed, stream, offset). Streams that share a seed must
 * never share an id, or two purposes would draw the same numbers. Every id used anywhere is
 * defined here as a tag plus, for families, an index below the family's bound; the table
 * base_streams lists each family's range [lo, lo + count) and tests/test_rng.c checks that
 * no two ranges overlap. Add a new purpose here, never as a literal in a module.
 *
 * The values are those the project has always used (changing one changes every dataset,
 * model and shower made with it), hence the mixed shapes.
 */
#ifndef BASE_STREAMS_H
#define BASE_STREAMS_H

#include <stdint.h>

/* physics/simulate: shower i of a simulated sample (i < BASE_STREAM_SIM_SHOWER_MAX) */
#define BASE_STREAM_SIM_SHOWER 0x0ull
#define BASE_STREAM_SIM_SHOWER_MAX (1ull << 30)
/* physics/simulate: the incident-energy list of a sample (entry i at offset i) */
#define BASE_STREAM_SIM_ENERGY 0xE4E4E4E400000000ull
/* physics/simulate: incident angles (entry i at offset i) */
#define BASE_STREAM_SIM_ANGLE 0xA4A4A4A400000000ull
/* io/loader: the training/validation split (shower i at offset i) */
#define BASE_STREAM_IO_SPLIT 0x5B117000ull
/* io/loader: the shuffle of epoch e: BASE_STREAM_IO_SHUFFLE + e, e < 2^24 */
#define BASE_STREAM_IO_SHUFFLE 0x5FF1E000ull
#define BASE_STREAM_EPOCH_MAX (1ull << 24)
/* vae/eval/evaluate: the classifier's train/test/validation split */
#define BASE_STREAM_EVAL_SPLIT 0x5B117C15ull
/* vae/eval/distance: the batches of FPD and KPD */
#define BASE_STREAM_EVAL_DISTANCE 0xD157A9CEull
/* vae/eval/prdc: the subsample of showers */
#define BASE_STREAM_EVAL_PRDC 0x9D2C0000ull
/* vae/eval/classifier: initial weights, and the shuffle of epoch e (| e, e < 2^24) */
#define BASE_STREAM_CLS_INIT (0xC1A55ull << 40)
#define BASE_STREAM_CLS_EPOCH (0xC1A55ull << 32)
/* vae/model: initial weights */
#define BASE_STREAM_VAE_INIT (0x1A17ull << 40)
/* vae: per shower index i (i < 2^56): latent z, voxel sampling, dropout masks (training
 * step s for dropout during training, shower index for MC dropout at generation) */
#define BASE_STREAM_VAE_LATENT (1ull << 56)
#define BASE_STREAM_VAE_SAMPLE (2ull << 56)
#define BASE_STREAM_VAE_DROPOUT (3ull << 56)
#define BASE_STREAM_INDEX_MAX (1ull << 56)
/* vae/prior: the posterior draw of training shower i for the fit (| i, i < 2^56), and the
 * choice of the fit's initial centres */
#define BASE_STREAM_PRIOR_FIT (4ull << 56)
#define BASE_STREAM_PRIOR_INIT (5ull << 56)
/* vae/generate: shower i's layers redrawn with at least one hit (| i, i < 2^56) */
#define BASE_STREAM_VAE_REDRAW (6ull << 56)

typedef struct {
    const char *name;
    uint64_t lo, count; /* ids lo .. lo + count - 1 */
} base_stream_range_t;

/* The table the disjointness test reads. */
static const base_stream_range_t base_streams[] = {
    {"sim shower", BASE_STREAM_SIM_SHOWER, BASE_STREAM_SIM_SHOWER_MAX},
    {"sim energy", BASE_STREAM_SIM_ENERGY, 1},
    {"sim angle", BASE_STREAM_SIM_ANGLE, 1},
    {"io split", BASE_STREAM_IO_SPLIT, 1},
    {"io shuffle", BASE_STREAM_IO_SHUFFLE, BASE_STREAM_EPOCH_MAX},
    {"eval split", BASE_STREAM_EVAL_SPLIT, 1},
    {"eval distance", BASE_STREAM_EVAL_DISTANCE, 1},
    {"eval prdc", BASE_STREAM_EVAL_PRDC, 1},
    {"cls init", BASE_STREAM_CLS_INIT, 1},
    {"cls epoch", BASE_STREAM_CLS_EPOCH, BASE_STREAM_EPOCH_MAX},
    {"vae init", BASE_STREAM_VAE_INIT, 1},
    {"vae latent", BASE_STREAM_VAE_LATENT, BASE_STREAM_INDEX_MAX},
    {"vae sample", BASE_STREAM_VAE_SAMPLE, BASE_STREAM_INDEX_MAX},
    {"vae dropout", BASE_STREAM_VAE_DROPOUT, BASE_STREAM_INDEX_MAX},
    {"prior fit", BASE_STREAM_PRIOR_FIT, BASE_STREAM_INDEX_MAX},
    {"prior init", BASE_STREAM_PRIOR_INIT, 1},
    {"vae redraw", BASE_STREAM_VAE_REDRAW, BASE_STREAM_INDEX_MAX},
};
#define BASE_N_STREAMS (sizeof base_streams / sizeof base_streams[0])

#endif
