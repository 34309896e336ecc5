/* layers/schedule.c: learning-rate schedules (see schedule.h). */
#include "layers/schedule.h"

#include "base/status.h"

#include <math.h>
#include <string.h>

float layer_lr_at(const layer_lr_schedule_t *s, int64_t t)
{
    if (t < s->warmup) return s->base * (float)(t + 1) / (float)s->warmup;
    switch (s->kind) {
    case LAYER_LR_STEP:
        return s->step_size > 0 ? s->base * powf(s->gamma, (float)(t / s->step_size)) : s->base;
    case LAYER_LR_COSINE: {
        double span = (double)(s->total - s->warmup);
        double p = span > 0 ? (double)(t - s->warmup) / span : 1.0;
        p = p < 0 ? 0 : p > 1 ? 1 : p;
        return (float)(s->min_lr + 0.5 * (s->base - s->min_lr) * (1.0 + cos(3.14159265358979323846 * p)));
    }
    default: return s->base;
    }
}

int layer_lr_parse(const char *name, layer_lr_kind_t *kind)
{
    static const char *const names[] = {"constant", "step", "cosine"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *kind = (layer_lr_kind_t)i;
            return BASE_OK;
        }
    return base_error(BASE_EINVAL, "unknown learning-rate schedule '%s' (constant, step, cosine)",
                       name);
}
