/* tests/test_mpi.c: the program under `mpirun -np 2` (vae/cli/mpi.h, shard.h, vae/train.h):
 * sharded generation and simulation bit-identical to one process, sharded evaluation equal to
 * one process, 2-rank training following the
 * 1-rank run with the same global batch, bit-identical reruns, a stop and resume under 2 ranks,
 * and a rank that fails on bad input stopping the job with its message and no output. 2 ranks of
 * 1 thread each on 2 cores (--oversubscribe; --allow-run-as-root for CI containers). */
#include "tests/testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char D[48];
static void setup(void) { tu_tmpdir_make(D, sizeof D, "mpi"); }
static void teardown(void) { tu_tmpdir_remove(D); }
TestSuite(mpi, .init = setup, .fini = teardown, .timeout = 300);

/* Under check-asan the ranks' leak check needs full stacks to see that Open MPI's component
 * framework (plugins closed at MPI_Finalize) holds the memory it reports (tools/lsan.supp). */
#define MPIENV "LSAN_OPTIONS=\"${LSAN_OPTIONS:-}:fast_unwind_on_malloc=0\" "
#define MPIRUN_ARGS "mpirun --allow-run-as-root --oversubscribe -x OMP_NUM_THREADS=1"
#define MPIRUN MPIENV MPIRUN_ARGS

/* Runs a shell command line (printf-style); output into out; exit status. */
static int sh(char *out, size_t n, const char *fmt, ...)
{
    char cmd[2400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd - 8, fmt, ap);
    va_end(ap);
    strcat(cmd, " 2>&1");
    FILE *f = popen(cmd, "r");
    size_t len = fread(out, 1, n - 1, f);
    out[len] = 0;
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Datasets names (space separated) equal in files a and b (h5diff, exact, or to tol when > 0). */
static int same(const char *a, const char *b, const char *names, double tol)
{
    char n[256], out[4096];
    snprintf(n, sizeof n, "%s", names);
    for (char *t = strtok(n, " "); t; t = strtok(NULL, " ")) {
        int st = tol > 0 ? sh(out, sizeof out, "h5diff -d %g %s/%s %s/%s %s", tol, D, a, D, b, t)
                         : sh(out, sizeof out, "h5diff %s/%s %s/%s %s", D, a, D, b, t);
        if (st != 0) {
            cr_log_error("%s differs between %s and %s: %.300s", t, a, b, out);
            return 0;
        }
    }
    return 1;
}

Test(mpi, two_rank_generation_and_simulation_are_one_process_bit_for_bit)
{
    char out[16384];
    cr_assert_eq(sh(out, sizeof out, "%s simulate -n 700 -e 1:50 -a 60:90 -s 4 -q -o %s/s1.h5", SV_PROG, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s simulate -n 700 -e 1:50 -a 60:90 -s 4 -q -o %s/s2.h5", SV_PROG, D),
                 0, "%s", out);
    cr_expect(same("s1.h5", "s2.h5", "/showers /incident_energies /incident_theta", 0), "simulate: 2 ranks differ");
    cr_assert_eq(sh(out, sizeof out, "%s train -d %s/s1.h5 -p tiny -e 1 -q -o %s/m.h5", SV_PROG, D, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, "%s generate -m %s/m.h5 -n 1000 -s 3 -a 70 -q -o %s/g1.h5", SV_PROG, D, D), 0, "%s",
                 out);
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s generate -m %s/m.h5 -n 1000 -s 3 -a 70 -o %s/g2.h5", SV_PROG, D, D),
                 0, "%s", out);
    cr_expect(strstr(out, "wrote 1000 showers") != NULL, "%s", out);
    cr_expect(same("g1.h5", "g2.h5", "/showers /incident_energies /incident_theta", 0), "generate: 2 ranks differ");
    /* one file, one dataset of every row, no shard left behind; an existing output is refused */
    cr_assert_eq(sh(out, sizeof out, "h5ls %s/g2.h5; ls -a %s", D, D), 0);
    cr_expect(strstr(out, "showers                  Dataset {1000/Inf, 6480}") && !strstr(out, "shard"), "%s", out);
    cr_expect_eq(sh(out, sizeof out, MPIRUN " -np 2 %s generate -m %s/m.h5 -n 10 -q -o %s/g2.h5", SV_PROG, D, D), 1, "%s",
                 out);
    cr_expect(strstr(out, "exists") != NULL, "%s", out);
}

/* Every number of text files a and b (in order) agrees to rel (the words around them equal). */
static int numbers_agree(const char *a, const char *b, double rel)
{
    char pa[128], pb[128], *x = NULL, *y = NULL;
    size_t na = 0, nb = 0;
    snprintf(pa, sizeof pa, "%s/%s", D, a), snprintf(pb, sizeof pb, "%s/%s", D, b);
    FILE *fa = fopen(pa, "r"), *fb = fopen(pb, "r");
    int ok = fa && fb && getdelim(&x, &na, 0, fa) > 0 && getdelim(&y, &nb, 0, fb) > 0;
    for (char *p = x, *q = y; ok && *p && *q;) {
        char *ep, *eq;
        double u = strtod(p, &ep), v = strtod(q, &eq);
        if (ep != p && eq != q) {
            ok = fabs(u - v) <= rel * fmax(1, fabs(u)) || (isnan(u) && isnan(v));
            if (!ok) cr_log_error("%s: %.17g vs %.17g", a, u, v);
            p = ep, q = eq;
        } else
            ok = *p++ == *q++;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    free(x), free(y);
    return ok;
}

/* evaluate: the 2 ranks stream a share each of both files (500 and 777 showers: shares cut
 * inside the files, PRDC on the first 300) and rank 0 gets the sums and rows. Histograms are
 * counts, so every histogram file is the same bytes; the classifiers, FPD/KPD and PRDC see
 * the same rows, so their numbers are the same; the observables' means merged from the ranks'
 * Welford states agree to rounding (1e-12). */
Test(mpi, two_rank_evaluation_is_one_process)
{
    char out[16384];
    cr_assert_eq(sh(out, sizeof out, "%s simulate -n 777 -e 1:50 -s 4 -q -o %s/r.h5", SV_PROG, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, "%s simulate -n 500 -e 2:40 -s 5 -q -o %s/g.h5", SV_PROG, D), 0, "%s", out);
    const char *args = "-g %s/g.h5 -r %s/r.h5 --protocol quick --cls-epochs 2 --prdc-showers 300 -q -o %s/%s";
    char fmt[512];
    snprintf(fmt, sizeof fmt, "OMP_NUM_THREADS=1 %%s evaluate %s", args);
    cr_assert_eq(sh(out, sizeof out, fmt, SV_PROG, D, D, D, "e1"), 0, "%s", out);
    snprintf(fmt, sizeof fmt, MPIRUN " -np 2 %%s evaluate %s", args);
    cr_assert_eq(sh(out, sizeof out, fmt, SV_PROG, D, D, D, "e2"), 0, "%s", out);
    const char *said = strstr(out, "AUC low");
    cr_expect(said && !strstr(said + 1, "AUC low"), "rank 0 alone reports: %s", out);
    cr_assert_eq(sh(out, sizeof out, "cd %s/e1/hists && for f in *.csv; do cmp $f ../../e2/hists/$f || exit 1; done; ls | wc -l", D),
                 0, "a histogram differs: %s", out);
    cr_expect(atoi(out) > 100, "%s histograms", out);
    cr_expect(numbers_agree("e1/metrics.json", "e2/metrics.json", 1e-12), "metrics.json differs");
    cr_assert_eq(sh(out, sizeof out, "ls %s", D), 0);
    cr_expect(strstr(out, "e2") && !strstr(out, ".tmp"), "one report, no temporary left: %s", out);
}

/* ln-likelihood terms of the history (train ELBO, val ELBO per epoch) of model m. */
static void history(const char *m, double *v, int n)
{
    char p[256], line[4096];
    snprintf(p, sizeof p, "%s/%s.history.csv", D, m);
    FILE *f = fopen(p, "r");
    cr_assert(f, "no history %s", p);
    cr_assert(fgets(line, sizeof line, f)); /* header */
    for (int e = 0; e < n; e++) {
        cr_assert(fgets(line, sizeof line, f), "history %s: epoch %d missing", m, e + 1);
        double x[8];
        cr_assert_eq(sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6],
                            &x[7]), 8);
        v[2 * e] = x[4], v[2 * e + 1] = x[7];
    }
    fclose(f);
}

/* 2 ranks with the global batch B against 1 rank with B (tiny: no batch norm, dropout or free
 * bits, which would make the ranks' shares differ from one batch). The gradients differ only
 * by the order of float sums (each rank's mean over B/2 rows, then the mean of the two), a
 * relative 1e-7 per step; Adam moves a weight by at most about lr per step, so after k steps
 * the weights may differ by a small fraction of k lr: the bound is 1% of k lr (k = 22, lr 1e-3:
 * 2.2e-4; measured 7.7e-6). The losses agree to 1e-5 relative. The one process runs the 2
 * data streams the 2 ranks run (--data-streams 2): the same batches. */
Test(mpi, two_ranks_follow_one_rank_reruns_are_identical_and_resume_works)
{
    char out[16384];
    cr_assert_eq(sh(out, sizeof out, "%s simulate -n 400 -e 1:20 -s 5 -q -o %s/d.h5", SV_PROG, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, "%s train -d %s/d.h5 -p tiny -e 2 --data-streams 2 -q -o %s/m1.h5", SV_PROG, D, D), 0,
                 "%s", out);
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 -p tiny -e 2 -o %s/m2.h5", SV_PROG, D, D), 0,
                 "%s", out);
    cr_expect(strstr(out, "done after 22 steps") != NULL, "rank 0 reports: %s", out);
    const char *w = "/encoder /decoder";
    cr_expect(same("m1.h5", "m2.h5", w, 0.01 * 22 * 1e-3), "2 ranks left the 1-rank weights");
    double h1[4], h2[4];
    history("m1.h5", h1, 2);
    history("m2.h5", h2, 2);
    for (int i = 0; i < 4; i++)
        cr_expect(fabs(h1[i] - h2[i]) <= 1e-5 * fabs(h1[i]), "loss %d: 1 rank %g, 2 ranks %g", i, h1[i], h2[i]);
    /* a rerun is bit-identical */
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 -p tiny -e 2 -q -o %s/m3.h5", SV_PROG, D, D), 0,
                 "%s", out);
    cr_expect(same("m2.h5", "m3.h5", w, 0), "a 2-rank rerun differs");
    /* stop after step 11 (epoch 1's end is step 11: stop mid-epoch 2 at 15), resume under 2 ranks: the same model */
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 -p tiny -e 2 --stop-at-step 15 -q -o %s/m4.h5",
                    SV_PROG, D, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 --resume %s/m4.h5.ckpt -q -o %s/m4.h5", SV_PROG,
                    D, D, D), 0, "%s", out);
    cr_expect(same("m2.h5", "m4.h5", w, 0), "stopped and resumed under 2 ranks: another model");
    /* the same 2-rank checkpoint resumed by one process: its 2 data streams, so the same
     * batches; the sums' rounding differs (the same bound as above), no warning */
    cr_assert_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 -p tiny -e 2 --stop-at-step 15 -q -o %s/m6.h5",
                    SV_PROG, D, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, "%s train -d %s/d.h5 --resume %s/m6.h5.ckpt -o %s/m6.h5", SV_PROG, D, D, D), 0,
                 "%s", out);
    cr_expect(strstr(out, "2 data streams") && !strstr(out, "warning"), "%s", out);
    cr_expect(same("m2.h5", "m6.h5", w, 0.01 * 22 * 1e-3), "resumed by 1 process: left the 2-rank weights");
    /* 2 streams cannot be split over 4 ranks */
    cr_expect_eq(sh(out, sizeof out, MPIRUN " -np 4 %s train -d %s/d.h5 --resume %s/m6.h5.ckpt -q -o %s/m6.h5", SV_PROG, D,
                    D, D), 1, "%s", out);
    cr_expect(strstr(out, "data streams do not split") != NULL, "%s", out);
    /* an odd global batch does not split */
    cr_expect_eq(sh(out, sizeof out, MPIRUN " -np 2 %s train -d %s/d.h5 -p tiny -b 33 -q -o %s/m5.h5", SV_PROG, D, D), 1,
                 "%s", out);
    cr_expect(strstr(out, "equal shares") != NULL, "%s", out);
}

/* One rank gets bad input (MPMD: rank 1's model file is a shower file): the job stops at once
 * with that rank's one-line message, a non-zero status, and no output under the final name. */
Test(mpi, a_rank_that_fails_stops_the_job_and_leaves_no_output)
{
    char out[16384], p[128];
    cr_assert_eq(sh(out, sizeof out, "%s simulate -n 200 -e 1:20 -s 5 -q -o %s/d.h5", SV_PROG, D), 0, "%s", out);
    cr_assert_eq(sh(out, sizeof out, "%s train -d %s/d.h5 -p tiny -e 1 -q -o %s/m.h5", SV_PROG, D, D), 0, "%s", out);
    int st = sh(out, sizeof out,
                MPIENV "timeout 120 " MPIRUN_ARGS " -np 1 %s generate -m %s/m.h5 "
                "-n 5000 -q -o %s/g.h5 : -np 1 %s generate -m %s/d.h5 -n 5000 -q -o %s/g.h5",
                SV_PROG, D, D, SV_PROG, D, D);
    cr_expect(st != 0 && st != 124, "status %d (124: it hung)", st);
    cr_expect(strstr(out, "showervae generate: rank 1 of 2:") && strstr(out, "not a showervae model"), "%s", out);
    snprintf(p, sizeof p, "%s/g.h5", D);
    cr_expect(access(p, F_OK) != 0, "an output appeared under the final name");
    /* training: rank 1's data file is not a shower file */
    st = sh(out, sizeof out,
            MPIENV "timeout 120 " MPIRUN_ARGS " -np 1 %s train -d %s/d.h5 -p tiny "
            "-e 1 -q -o %s/t.h5 : -np 1 %s train -d %s/m.h5 -p tiny -e 1 -q -o %s/t.h5", SV_PROG, D, D, SV_PROG, D, D);
    cr_expect(st != 0 && st != 124, "status %d", st);
    cr_expect(strstr(out, "rank 1 of 2:") != NULL, "%s", out);
    snprintf(p, sizeof p, "%s/t.h5", D);
    cr_expect(access(p, F_OK) != 0, "a model appeared");
}

/* The library a Geant4 hook links does not depend on MPI (only the program does). */
Test(mpi, the_library_does_not_link_mpi)
{
    char out[16384];
    cr_assert_eq(sh(out, sizeof out, "ldd $(dirname %s)/libshowervae.so.* | grep -c -i mpi", SV_PROG), 1, "%s", out);
    cr_expect(strncmp(out, "0", 1) == 0, "libshowervae links MPI: %s", out);
    cr_assert_eq(sh(out, sizeof out, "ldd %s | grep -c libmpi", SV_PROG), 0, "the program should: %s", out);
}

