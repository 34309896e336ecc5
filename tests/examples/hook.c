/* tests/examples/hook.c: a fast-simulation hook in C, built against the installed library:
 *     cc hook.c $(pkg-config --cflags --libs showervae) -o hook
 * For particles with random entry point, direction and energy it generates the shower one
 * particle at a time (as a Geant4 fast-simulation model's DoIt) and then in batches, turns each
 * shower into hits and prints the latency per particle.
 * Usage: hook MODEL.h5 [particles (200)] [batch (16)] [f32|bf16|bf16-emulated (f32)] */
#include <showervae.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec t;
    timespec_get(&t, TIME_UTC);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double uniform(void) { return (rand() + 0.5) / ((double)RAND_MAX + 1); }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: hook MODEL.h5 [particles] [batch] [f32|bf16|bf16-emulated]\n");
        return 2;
    }
    int n = argc > 2 ? atoi(argv[2]) : 200, B = argc > 3 ? atoi(argv[3]) : 16;
    if (n < 1 || B < 1) return 2;
    vae_generator_t *g;
    if (vae_generator_open(&g, argv[1]) != VAE_OK) {
        fprintf(stderr, "hook: %s\n", vae_last_error());
        return 1;
    }
    if (argc > 4) { /* the decoder's arithmetic: bf16 halves the weight bytes batch 1 reads */
        int want = !strcmp(argv[4], "bf16") ? VAE_PRECISION_BF16
                 : !strcmp(argv[4], "bf16-emulated") ? VAE_PRECISION_BF16_EMULATED : VAE_PRECISION_F32;
        int got = vae_generator_set_precision(g, want);
        if (got < 0) {
            fprintf(stderr, "hook: %s\n", vae_last_error());
            return 1;
        }
        printf("hook: decoder in %s\n", got == VAE_PRECISION_BF16 ? "bf16" : "f32");
    }
    const int V = vae_generator_voxels(g);
    double lo, hi;
    vae_generator_energy_range(g, &lo, &hi);
    float *E = malloc((size_t)n * sizeof *E), *vox = malloc((size_t)B * V * sizeof *vox);
    double (*pos)[3] = malloc((size_t)n * sizeof *pos), (*dir)[3] = malloc((size_t)n * sizeof *dir);
    vae_hit_t *hits = malloc((size_t)V * sizeof *hits);
    srand(1);
    for (int i = 0; i < n; i++) { /* entry on the front face, within 10 degrees of +z */
        E[i] = (float)exp(log(lo) + (log(hi) - log(lo)) * uniform());
        double th = 0.17 * uniform(), ph = 6.283185307179586 * uniform();
        pos[i][0] = 200 * (uniform() - 0.5), pos[i][1] = 200 * (uniform() - 0.5), pos[i][2] = 800;
        dir[i][0] = sin(th) * cos(ph), dir[i][1] = sin(th) * sin(ph), dir[i][2] = cos(th);
    }
    double deposited = 0, t0 = now_s();
    long total_hits = 0;
    for (int i = 0; i < n; i++) { /* one particle at a time */
        int nh;
        if (vae_generate(g, 1, &E[i], 42, (uint64_t)i, vox) != VAE_OK ||
            vae_to_hits(g, vox, pos[i], dir[i], hits, V, &nh) != VAE_OK) {
            fprintf(stderr, "hook: %s\n", vae_last_error());
            return 1;
        }
        total_hits += nh;
        for (int k = 0; k < nh; k++) deposited += hits[k].e;
    }
    double t1 = now_s();
    for (int i = 0; i < n; i += B) { /* in batches */
        int m = n - i < B ? n - i : B, nh;
        if (vae_generate(g, m, &E[i], 42, (uint64_t)i, vox) != VAE_OK) return 1;
        for (int k = 0; k < m; k++)
            if (vae_to_hits(g, vox + (size_t)k * V, pos[i + k], dir[i + k], hits, V, &nh) != VAE_OK) return 1;
    }
    double t2 = now_s();
    printf("hook (C, showervae %s): %d particles, %ld hits, %.1f GeV deposited\n", vae_version(), n, total_hits,
           deposited * 1e-3);
    printf("  batch 1:  %.3f ms per particle (generation + hits)\n", (t1 - t0) * 1e3 / n);
    printf("  batch %d: %.3f ms per particle\n", B, (t2 - t1) * 1e3 / n);
    vae_generator_close(g);
    free(E), free(vox), free(pos), free(dir), free(hits);
    return 0;
}
