/* layers/schedule.h: learning-rate schedules as pure functions of the step.
 *
 * constant:  lr(t) = base
 * step:      lr(t) = base * gamma^floor(t / step_size)
 * cosine:    linear warm-up for t < warmup: lr = base (t + 1) / warmup; then
 *            lr = min_lr + 0.5 (base - min_lr) (1 + cos(pi p)),
 *            p = (t - warmup) / (total - warmup) clipped to [0, 1]
 *            (Loshchilov and Hutter 2017, SGDR, without restarts).
 * Warm-up applies to all kinds. t counts optimiser steps from 0. Because lr depends on t
 * only, resuming a run at step t gives the same rates as an uninterrupted run.
 */
#ifndef LAYERS_SCHEDULE_H
#define LAYERS_SCHEDULE_H

#include <stdint.h>

typedef enum { LAYER_LR_CONSTANT = 0, LAYER_LR_STEP, LAYER_LR_COSINE } layer_lr_kind_t;

typedef struct {
    layer_lr_kind_t kind;
    float base;        /* peak learning rate */
    int64_t warmup;    /* warm-up steps (0 = none) */
    int64_t step_size; /* step: steps between decays */
    float gamma;       /* step: decay factor */
    int64_t total;     /* cosine: total steps */
    float min_lr;      /* cosine: final rate */
} layer_lr_schedule_t;

float layer_lr_at(const layer_lr_schedule_t *s, int64_t t);
/* "constant", "step", "cosine"; BASE_EINVAL for another name. */
int layer_lr_parse(const char *name, layer_lr_kind_t *kind);

#endif
