/* vae/cli/cli.h: the commands of the showervae program and helpers they share.
 *
 * Every command is `int cmd_NAME(int argc, char **argv)` with argv[0] the command name; it
 * returns the process exit status: 0 success, 1 runtime failure, 2 usage error. Errors are one
 * line on stderr: "showervae NAME: <message>".
 */
#ifndef VAE_CLI_H
#define VAE_CLI_H

#include "io/writer.h"

#include <stddef.h>
#include <stdint.h>

int cli_cmd_simulate(int argc, char **argv);
int cli_cmd_inspect(int argc, char **argv);
int cli_cmd_train(int argc, char **argv);
int cli_cmd_generate(int argc, char **argv);
int cli_cmd_fit_prior(int argc, char **argv);
int cli_cmd_encode(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);
int cli_cmd_evaluate(int argc, char **argv);

/* 1: every command returns 0 right after parsing and checking its options, before it opens
 * or writes anything (the option-parser fuzz target, tests/fuzz/fuzz_options.c); 0 normally. */
extern int cli_parse_only;

/* Prints "showervae CMD: message" for the last library error and returns 1. */
int cli_fail(const char *cmd);
/* Prints "showervae CMD: <formatted>" and returns code. */
int cli_err(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* For getopt_long's '?' (main sets opterr = 0, so getopt prints nothing itself): prints
 * "showervae CMD: option X is unknown or lacks its value" and returns 2. */
int cli_bad_option(const char *cmd, char **argv);

/* Parsers; each returns 0 or prints a usage error and returns 2. */
int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *v);
int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *v);
int cli_parse_double(const char *cmd, const char *opt, const char *s, double *v);
/* "LO:HI" with 0 < LO < HI. */
int cli_parse_range(const char *cmd, const char *opt, const char *s, double *lo, double *hi);
/* "a,b,c" of positive numbers into list (at most max); *n receives the count. */
int cli_parse_list(const char *cmd, const char *opt, const char *s, double *list, int max, int *n);

/* Incident-energy choice shared by simulate and generate: --energy LO:HI (GeV, log-uniform)
 * or --energy-list a,b,c (GeV, drawn uniformly). */
typedef struct {
    double lo, hi;       /* GeV, when have_range */
    double list[256];    /* GeV */
    int n_list, have_range;
} cli_energy_t;

/* The energy choice as written into a file's "energies" attribute, e.g. "log-uniform 1:1000
 * GeV", "list 1,2,4 GeV" or the default "log-uniform <def_lo>:<def_hi> GeV (the model's range)". */
void cli_energy_describe(const cli_energy_t *e, double def_lo_mev, double def_hi_mev, char *s, size_t n);

/* Parses the argument of --energy (list = 0) or --energy-list (list = 1); 0 or 2. */
int cli_energy_parse(const char *cmd, const char *arg, int list, cli_energy_t *e);
/* E_mev: (k) entries first .. first + k - 1 of seed's energy stream (physics/simulate.h);
 * without a range or list, log-uniform in [def_lo, def_hi] MeV. */
void cli_energy_draw(const cli_energy_t *e, double *E_mev, size_t k, uint64_t seed, uint64_t first,
                     double def_lo_mev, double def_hi_mev);

/* Incident-angle choice shared by simulate and generate: --angle A (deg, fixed), LO:HI
 * (uniform) or a,b,c (drawn uniformly); none: 90 deg (normal incidence). */
typedef struct {
    double lo, hi;      /* deg, when have_range */
    double list[64];    /* deg */
    int n_list, have_range;
} cli_angle_t;

/* Parses the argument of --angle within [lo, hi] deg; 0 or 2. */
int cli_angle_parse(const char *cmd, const char *arg, double lo, double hi, cli_angle_t *a);
/* 1 when an angle was given. */
int cli_angle_given(const cli_angle_t *a);
/* A_deg: (k) entries first .. first + k - 1 of seed's angle stream (physics/simulate.h). */
void cli_angle_draw(const cli_angle_t *a, double *A_deg, size_t k, uint64_t seed, uint64_t first);
/* The choice as written into a file's "angles" attribute: "90 deg", "uniform 50:90 deg",
 * "list 50,70,90 deg". */
void cli_angle_describe(const cli_angle_t *a, char *s, size_t n);

/* Provenance of a file made from a model: root attributes "model" (the model file's absolute
 * path) and "model_sha256" (the hash of its bytes, io/hash.h). BASE_OK or a status. */
int cli_model_provenance(io_writer_t *w, const char *model_path);

#endif
