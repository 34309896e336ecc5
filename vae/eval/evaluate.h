/* vae/eval/evaluate.h: `showervae evaluate`: generated vs reference showers with the CaloChallenge
 * definitions, streamed, into a report directory (program side: prints progress).
 *
 * Both samples get the readout threshold (15.15 keV for ds2/ds3, 1 MeV for ds1). Features and
 * histograms (physics/observables.h, vae/eval/stats.h), with the CaloChallenge bins:
 * E_tot/E_inc 100 bins on [0.5, 1.5]; E_layer 40 log bins from the threshold to the reference's
 * largest layer energy; centres of energy in x ("eta") and y ("phi") 100 bins on [-30, 30] mm and
 * widths on [0, 30] mm for ds2/ds3 (the outer radius otherwise), the same for r; sparsity 20 bins
 * on [0, 1]; voxel energies 50 log bins from the threshold to the reference's largest voxel.
 * Separation power for every histogram; two classifier tests (vae/eval/classifier.h): low level
 * [log10 E_inc, voxels / E_inc] on a subsample bounded by memory, and high level
 * [log10 E_inc, log10(E_tot/E_inc), per layer log10(E_l/E_inc), EC/100, widths/100, sparsity]
 * (CaloChallenge uses absolute log10 energies; relative ones spare the network the cancellation).
 * The 60/20/20 split is by shower index within each sample, with the seed.
 * Report: metrics.json, hists/<name>.csv, plots/<name>.png, index.html; written to a temporary
 * directory and renamed into place; an existing report is replaced only with force.
 */
#ifndef VAE_EVALUATE_H
#define VAE_EVALUATE_H

#include "base/monitor.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *gen, *ref, *out, *geometry;
    uint64_t seed;
    int quick;            /* 0: the CaloChallenge protocol; 1: quick (small classifier, relative features) */
    int cls_epochs;       /* classifier epochs (0: the protocol's, 50 or 20) */
    int cls_threads;      /* threads of the classifier (0: all) */
    size_t cls_mem_bytes; /* memory for the low-level classifier's inputs (0: 8 GiB, quick 1 GiB) */
    int no_cls, force;
    int no_distances;     /* skip FPD and KPD */
    int no_prdc;          /* skip precision/recall/density/coverage */
    size_t prdc_showers;  /* PRDC on the first N showers of each sample (0: all) */
    const base_monitor_t *monitor; /* progress and messages; NULL: silent */
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
