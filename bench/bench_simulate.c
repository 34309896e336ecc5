/* bench/bench_simulate.c: throughput of the built-in GFLASH simulator on the ds2 grid.
 *
 * For incident energies 1, 10, 100 and 1000 GeV: showers/s and energy spots/s, on one thread
 * (the per-core rate) and on all threads (OMP_NUM_THREADS), plus the physics summary of the
 * sample (mean E_tot/E_inc and its relative spread, occupancy) as a sanity line.
 * Usage: bench_simulate [--quick]
 */
#include "bench/timing.h"
#include "layers/ctx.h"
#include "base/clock.h"
#include "base/status.h"
#include "physics/simulate.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    double window = argc > 1 && strcmp(argv[1], "--quick") == 0 ? 0.3 : 1.5;
    phys_geometry_t g;
    phys_sim_t s;
    if (phys_geometry_preset(&g, "ds2") < 0 || phys_sim_init(&s, &g) < 0) {
        fprintf(stderr, "bench_simulate: %s\n", base_last_error());
        return 1;
    }
    const int threads = omp_get_max_threads();
    char cpu[200];
    bench_cpu_model(cpu, sizeof cpu);
    printf("bench_simulate on %s: ds2 grid (%d voxels), W/Si detector, isa %s, threads %d\n\n", cpu,
           g.n_voxels, layer_isa_name(), threads);
    printf("| E (GeV) | spots/shower | 1 thread: showers/s | spots/s per core | %d threads: showers/s | "
           "E_tot/E_inc | rel. spread | occupancy |\n", threads);
    printf("|---|---|---|---|---|---|---|---|\n");
    const double energies[] = {1, 10, 100, 1000};
    float *out = malloc(sizeof(float) * g.n_voxels * 4096);
    for (int e = 0; e < 4; e++) {
        double E = energies[e] * 1e3;
        /* one thread: showers until the window is used */
        phys_sim_stats_t st;
        double t0 = base_now(), spots = 0, s1 = 0, s2 = 0, occ = 0;
        long n = 0;
        while (base_now() - t0 < window || n < 5) {
            phys_sim_shower(&s, E, 90, 1, (uint64_t)n, out, &st);
            spots += st.spots;
            double et = 0;
            int hit = 0;
            for (int v = 0; v < g.n_voxels; v++) {
                et += out[v];
                hit += out[v] > 0;
            }
            s1 += et / E;
            s2 += (et / E) * (et / E);
            occ += (double)hit / g.n_voxels;
            n++;
        }
        double t1 = base_now() - t0, mean = s1 / n, sd = sqrt(fmax(s2 / n - mean * mean, 0));
        /* all threads: a batch sized to the single-thread rate */
        size_t nb = (size_t)fmin(4096, fmax(threads * 4, n * threads));
        double *Es = malloc(nb * sizeof *Es);
        for (size_t k = 0; k < nb; k++) Es[k] = E;
        double t2 = base_now();
        phys_sim_batch(&s, Es, NULL, nb, 2, 0, out);
        double t3 = base_now() - t2;
        printf("| %g | %.0f | %.1f | %.3g | %.1f | %.4f | %.4f | %.3f |\n", energies[e], spots / n,
               n / t1, spots / t1, nb / t3, mean, sd / mean, occ / n);
        free(Es);
    }
    /* the CaloChallenge spectrum: log-uniform 1 GeV - 1 TeV, one thread */
    double t0 = base_now(), spots = 0;
    long n = 0;
    phys_sim_stats_t st;
    while (base_now() - t0 < 2 * window || n < 20) {
        double E;
        phys_sim_energies_loguniform(&E, 1, 1e3, 1e6, 3, (uint64_t)n);
        phys_sim_shower(&s, E, 90, 3, (uint64_t)n, out, &st);
        spots += st.spots;
        n++;
    }
    double t = base_now() - t0;
    printf("| 1-1000 log-uniform | %.0f | %.1f | %.3g | | | | |\n", spots / n, n / t, spots / t);
    free(out);
    return 0;
}
