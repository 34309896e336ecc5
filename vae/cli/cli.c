/* vae/cli/cli.c: shared helpers of the showervae commands (see cli.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "vae/cli/cli.h"
#include "vae/cli/mpi.h"

#include "base/limits.h"
#include "io/hash.h"
#include "base/status.h"
#include "physics/simulate.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_parse_only = 0;

int cli_fail(const char *cmd)
{
    if (cli_mpi_size() > 1)
        fprintf(stderr, "showervae %s: rank %d of %d: %s\n", cmd, cli_mpi_rank(), cli_mpi_size(), base_last_error());
    else
        fprintf(stderr, "showervae %s: %s\n", cmd, base_last_error());
    return 1;
}

int cli_err(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "showervae %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return code;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-')
        return cli_err(cmd, 2, "%s: '%s' is not a non-negative integer", opt, s);
    *v = x;
    return 0;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        return cli_err(cmd, 2, "%s: '%s' is not an integer in [%ld, %ld]", opt, s, lo, hi);
    *v = x;
    return 0;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s || *end || !isfinite(x)) return cli_err(cmd, 2, "%s: '%s' is not a number", opt, s);
    *v = x;
    return 0;
}

int cli_parse_range(const char *cmd, const char *opt, const char *s, double *lo, double *hi)
{
    char *end;
    double a = strtod(s, &end), b;
    if (end == s || *end != ':') return cli_err(cmd, 2, "%s: '%s' is not LO:HI", opt, s);
    const char *t = end + 1;
    b = strtod(t, &end);
    if (end == t || *end || !(a > 0) || !(b > a) || !isfinite(b))
        return cli_err(cmd, 2, "%s: '%s' must be LO:HI with 0 < LO < HI", opt, s);
    *lo = a;
    *hi = b;
    return 0;
}

int cli_parse_list(const char *cmd, const char *opt, const char *s, double *list, int max, int *n)
{
    *n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x > 0) || !isfinite(x) || (*end && *end != ','))
            return cli_err(cmd, 2, "%s: '%s' is not a list of positive numbers a,b,c", opt, s);
        if (*n >= max) return cli_err(cmd, 2, "%s: more than %d values", opt, max);
        list[(*n)++] = x;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) return cli_err(cmd, 2, "%s: empty list", opt);
    return 0;
}

int cli_energy_parse(const char *cmd, const char *arg, int list, cli_energy_t *e)
{
    const double lo = BASE_MIN_ENERGY_MEV * 1e-3, hi = BASE_MAX_ENERGY_MEV * 1e-3; /* GeV */
    int rc = list ? cli_parse_list(cmd, "--energy-list", arg, e->list, 256, &e->n_list)
                  : cli_parse_range(cmd, "--energy", arg, &e->lo, &e->hi);
    if (rc) return rc;
    if (!list) e->have_range = 1;
    for (int i = 0; i < (list ? e->n_list : 2); i++) {
        double v = list ? e->list[i] : i ? e->hi : e->lo;
        if (!(v > lo && v <= hi))
            return cli_err(cmd, 2, "%s %s: energies are GeV in (%g, %g]", list ? "--energy-list" : "--energy", arg, lo, hi);
    }
    return 0;
}

void cli_energy_draw(const cli_energy_t *e, double *E_mev, size_t k, uint64_t seed, uint64_t first,
                     double def_lo_mev, double def_hi_mev)
{
    if (e->n_list) {
        double mev[256];
        for (int i = 0; i < e->n_list; i++) mev[i] = e->list[i] * 1e3;
        phys_sim_energies_list(E_mev, k, mev, e->n_list, seed, first);
    } else if (e->have_range) {
        phys_sim_energies_loguniform(E_mev, k, e->lo * 1e3, e->hi * 1e3, seed, first);
    } else {
        phys_sim_energies_loguniform(E_mev, k, def_lo_mev, def_hi_mev, seed, first);
    }
}

int cli_angle_parse(const char *cmd, const char *arg, double lo, double hi, cli_angle_t *a)
{
    memset(a, 0, sizeof *a);
    int rc = strchr(arg, ':') ? cli_parse_range(cmd, "--angle", arg, &a->lo, &a->hi)
                              : cli_parse_list(cmd, "--angle", arg, a->list, 64, &a->n_list);
    if (rc) return rc;
    a->have_range = strchr(arg, ':') != NULL;
    for (int i = 0; i < (a->have_range ? 2 : a->n_list); i++) {
        double v = a->have_range ? (i ? a->hi : a->lo) : a->list[i];
        if (!(v >= lo && v <= hi)) return cli_err(cmd, 2, "--angle %s: angles are degrees in [%g, %g]", arg, lo, hi);
    }
    return 0;
}

int cli_angle_given(const cli_angle_t *a) { return a->have_range || a->n_list > 0; }

void cli_angle_draw(const cli_angle_t *a, double *A_deg, size_t k, uint64_t seed, uint64_t first)
{
    if (a->have_range) {
        phys_sim_angles_uniform(A_deg, k, a->lo, a->hi, seed, first);
    } else if (a->n_list > 1) {
        phys_sim_angles_list(A_deg, k, a->list, a->n_list, seed, first);
    } else {
        for (size_t i = 0; i < k; i++) A_deg[i] = a->n_list ? a->list[0] : 90.0;
    }
}

void cli_angle_describe(const cli_angle_t *a, char *s, size_t n)
{
    if (a->have_range) {
        snprintf(s, n, "uniform %g:%g deg", a->lo, a->hi);
    } else if (a->n_list > 1) {
        size_t at = (size_t)snprintf(s, n, "list ");
        for (int i = 0; i < a->n_list && at < n; i++) at += (size_t)snprintf(s + at, n - at, i ? ",%g" : "%g", a->list[i]);
        if (at < n) snprintf(s + at, n - at, " deg");
    } else {
        snprintf(s, n, "%g deg", a->n_list ? a->list[0] : 90.0);
    }
}

int cli_bad_option(const char *cmd, char **argv)
{
    if (optopt) return cli_err(cmd, 2, "option -%c is unknown or lacks its value (see --help)", optopt);
    return cli_err(cmd, 2, "option %s is unknown, ambiguous or lacks its value (see --help)",
                   optind > 0 ? argv[optind - 1] : "?");
}

void cli_energy_describe(const cli_energy_t *e, double def_lo_mev, double def_hi_mev, char *s, size_t n)
{
    if (e->have_range) {
        snprintf(s, n, "log-uniform %g:%g GeV", e->lo, e->hi);
    } else if (e->n_list) {
        size_t at = (size_t)snprintf(s, n, "list ");
        for (int i = 0; i < e->n_list && at < n; i++) at += (size_t)snprintf(s + at, n - at, i ? ",%g" : "%g", e->list[i]);
        if (at < n) snprintf(s + at, n - at, " GeV");
    } else {
        snprintf(s, n, "log-uniform %g:%g GeV (the model's range)", def_lo_mev * 1e-3, def_hi_mev * 1e-3);
    }
}

int cli_model_provenance(io_writer_t *w, const char *model_path)
{
    char hex[65], *abs = realpath(model_path, NULL);
    int rc = io_sha256_file(model_path, hex);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "model", abs ? abs : model_path);
    if (rc == BASE_OK) rc = io_writer_attr_str(w, "model_sha256", hex);
    free(abs);
    return rc;
}
