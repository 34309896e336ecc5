/* vae/history.c: the training history CSV (see history.h). */
#include "vae/history.h"
#include "io/atomic.h"
#include "base/status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_FIXED "epoch,step,seconds,lr,train_elbo,train_recon,train_kl,val_elbo,val_recon,val_kl,active_units"

/* The existing rows of epochs before e (whole lines, header excluded), or "" (caller frees). */
static char *rows_before(const char *path, int64_t e)
{
    FILE *f = fopen(path, "r");
    size_t cap = 1 << 12, n = 0;
    char *keep = calloc(cap, 1), line[1 << 14];
    while (keep && f && fgets(line, sizeof line, f)) {
        long long ep;
        if (strncmp(line, "epoch,", 6) == 0 || sscanf(line, "%lld,", &ep) != 1 || ep >= e) continue;
        size_t l = strlen(line);
        if (l == 0 || line[l - 1] != '\n') continue; /* a partial line: not ours */
        if (n + l + 1 > cap) {
            char *k = realloc(keep, cap = 2 * (n + l + 1));
            if (!k) {
                free(keep);
                keep = NULL;
                break;
            }
            keep = k;
        }
        memcpy(keep + n, line, l + 1);
        n += l;
    }
    if (f) fclose(f);
    return keep;
}

int vae_history_append(const char *path, const vae_history_row_t *r)
{
    char *keep = rows_before(path, r->epoch), tmp[1200];
    if (!keep) return base_error(BASE_ENOMEM, "%s: out of memory", path);
    int rc = io_atomic_begin(path, 1, tmp, sizeof tmp);
    FILE *f = rc == BASE_OK ? fopen(tmp, "w") : NULL;
    if (rc == BASE_OK && !f) rc = base_error(BASE_EIO, "%s: cannot write (%s)", tmp, strerror(errno));
    if (f) {
        fprintf(f, HEADER_FIXED);
        for (int j = 0; j < r->Z; j++) fprintf(f, ",kl_%d", j);
        fprintf(f, "\n%s%lld,%lld,%.3f,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%d", keep, (long long)r->epoch,
                (long long)r->step, r->seconds, r->lr, r->train_elbo, r->train_recon, r->train_kl, r->val_elbo,
                r->val_recon, r->val_kl, r->active);
        for (int j = 0; j < r->Z; j++) fprintf(f, ",%.6g", r->kl_dim[j]);
        fputc('\n', f);
        if (fclose(f) != 0) rc = base_error(BASE_EIO, "%s: write failed (disk full?)", tmp);
        if (rc == BASE_OK) rc = io_atomic_commit(tmp, path, 1);
        else remove(tmp);
    }
    free(keep);
    return rc;
}

int vae_history_read(const char *path, int max, double *epoch, double *train_elbo, double *val_elbo,
                     double *train_kl, double *val_kl, double *active)
{
    FILE *f = fopen(path, "r");
    if (!f) return base_error(BASE_EIO, "%s: cannot open (%s)", path, strerror(errno));
    char line[1 << 14];
    int n = 0, rc = BASE_OK;
    if (!fgets(line, sizeof line, f) || strncmp(line, HEADER_FIXED, strlen(HEADER_FIXED)) != 0)
        rc = base_error(BASE_EIO, "%s: not a showervae training history (header)", path);
    while (rc == BASE_OK && n < max && fgets(line, sizeof line, f)) {
        double v[11];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                   &v[7], &v[8], &v[9], &v[10]) != 11) {
            rc = base_error(BASE_EIO, "%s: row %d is not 11 numbers or more", path, n + 1);
            break;
        }
        if (epoch) epoch[n] = v[0];
        if (train_elbo) train_elbo[n] = v[4];
        if (train_kl) train_kl[n] = v[6];
        if (val_elbo) val_elbo[n] = v[7];
        if (val_kl) val_kl[n] = v[9];
        if (active) active[n] = v[10];
        n++;
    }
    fclose(f);
    return rc == BASE_OK ? n : rc;
}
