/* vae/eval/evaluate.h: `showervae evaluate`: generated vs reference showers with the CaloChallenge
 * definitions, streamed, into a report directory (program side: prints progress).
 *
 * Both samples get the readout threshold (15.15 keV for ds2/ds3, 1 MeV for ds1). Features
 * (physics/observables.h) and histograms (vae/eval/stats.h) with the challenge's bins (see
 * make_hists in evaluate.c); separation power for every histogram; FPD and KPD on the
 * challenge's high-level features (vae/eval/distance.h); precision, recall, density and
 * coverage on log10 voxel energies (vae/eval/prdc.h); two classifier tests
 * (vae/eval/classifier.h) whose settings, inputs and split follow the protocol:
 *   calochallenge: the challenge's evaluate.py (its network, raw inputs [log10 E_inc,
 *     voxels / E_inc] and its 362-feature high-level rows for ds2, 60k/20k/20k per sample when
 *     the files are that large, calibrated AUC, JSD / ln 2);
 *   quick: a small classifier on relative high-level features and a voxel subsample.
 * Each sample is split by a seeded permutation of its shower indices.
 * With opts.comm (MPI, the program's vae/cli/mpi.h) the streaming pass is shared between the
 * processes: the histograms are the same counts, the observables' means equal to rounding.
 * Report: metrics.json, hists/<name>.csv, plots/<name>.png, index.html; written to a temporary
 * directory and renamed into place; an existing report is replaced only with force.
 */
#ifndef VAE_EVALUATE_H
#define VAE_EVALUATE_H

#include "base/monitor.h"
#include "vae/comm.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *gen, *ref, *out, *geometry;
    uint64_t seed;
    int quick;            /* 0: the CaloChallenge protocol; 1: quick (small classifier, relative features) */
    int cls_epochs;       /* classifier epochs (0: the protocol's, 50 or 20) */
    int cls_threads;      /* threads of the classifier (0: all) */
    size_t cls_mem_bytes; /* memory for the low-level classifier's inputs (0: 4 GiB, quick 1 GiB): f32 if it fits, else bf16, else a subsample */
    int no_cls, force;
    int no_distances;     /* skip FPD and KPD */
    int no_prdc;          /* skip precision/recall/density/coverage */
    size_t prdc_showers;  /* PRDC on the first N showers of each sample (0: all) */
    const base_monitor_t *monitor; /* progress and messages; NULL: silent */
    const vae_comm_t *comm; /* many processes (NULL: one): each streams a contiguous share of both
                             * files, the histograms and sums are reduced and the per-shower rows
                             * gathered; rank 0 runs the rest and writes the report, the others
                             * return after the gather */
} eval_opts_t;

typedef struct {
    double sep_etot;           /* separation of E_tot/E_inc */
    double sep_mean, sep_max;  /* over all histograms */
    double auc_low, jsd_low, auc_high, jsd_high; /* NaN when skipped */
    double ratio_gen, ratio_ref; /* mean E_tot/E_inc */
    int have_fpd, have_prdc;
    double fpd, fpd_err, kpd, kpd_err;
    double precision, recall, density, coverage;
} eval_result_t;

int eval_run(const eval_opts_t *o, eval_result_t *res);

#endif
