// tests/examples/hook.cpp: the same fast-simulation hook in C++ (as a Geant4 model would call
// it), built against the installed library:
//     c++ hook.cpp $(pkg-config --cflags --libs showervae) -o hook_cpp
// Usage: hook_cpp MODEL.h5 [particles (200)] [batch (16)]
#include <showervae.h>

#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

struct Particle {
    float energy;
    std::array<double, 3> pos, dir;
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: hook_cpp MODEL.h5 [particles] [batch]\n");
        return 2;
    }
    const int n = argc > 2 ? std::atoi(argv[2]) : 200, B = argc > 3 ? std::atoi(argv[3]) : 16;
    vae_generator_t *raw = nullptr;
    if (vae_generator_open(&raw, argv[1]) != VAE_OK) {
        std::fprintf(stderr, "hook_cpp: %s\n", vae_last_error());
        return 1;
    }
    std::unique_ptr<vae_generator_t, decltype(&vae_generator_close)> g(raw, vae_generator_close);
    const int V = vae_generator_voxels(g.get());
    double lo, hi;
    vae_generator_energy_range(g.get(), &lo, &hi);
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<Particle> particles(n);
    for (auto &p : particles) {
        p.energy = (float)std::exp(std::log(lo) + (std::log(hi) - std::log(lo)) * u(rng));
        double th = 0.17 * u(rng), ph = 6.283185307179586 * u(rng);
        p.pos = {200 * (u(rng) - 0.5), 200 * (u(rng) - 0.5), 800};
        p.dir = {std::sin(th) * std::cos(ph), std::sin(th) * std::sin(ph), std::cos(th)};
    }
    std::vector<float> vox((size_t)B * V);
    std::vector<vae_hit_t> hits(V);
    double deposited = 0;
    using clock = std::chrono::steady_clock;
    auto t0 = clock::now();
    for (int i = 0; i < n; i++) {
        int nh = 0;
        if (vae_generate(g.get(), 1, &particles[i].energy, 42, i, vox.data()) != VAE_OK ||
            vae_to_hits(g.get(), vox.data(), particles[i].pos.data(), particles[i].dir.data(), hits.data(), V, &nh) != VAE_OK) {
            std::fprintf(stderr, "hook_cpp: %s\n", vae_last_error());
            return 1;
        }
        for (int k = 0; k < nh; k++) deposited += hits[k].e;
    }
    auto t1 = clock::now();
    std::vector<float> energies(n);
    for (int i = 0; i < n; i++) energies[i] = particles[i].energy;
    for (int i = 0; i < n; i += B) {
        int m = std::min(B, n - i), nh = 0;
        if (vae_generate(g.get(), m, &energies[i], 42, i, vox.data()) != VAE_OK) return 1;
        for (int k = 0; k < m; k++)
            if (vae_to_hits(g.get(), vox.data() + (size_t)k * V, particles[i + k].pos.data(), particles[i + k].dir.data(),
                            hits.data(), V, &nh) != VAE_OK)
                return 1;
    }
    auto t2 = clock::now();
    auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
    std::printf("hook (C++, showervae %s): %d particles, %.1f GeV deposited\n", vae_version(), n, deposited * 1e-3);
    std::printf("  batch 1:  %.3f ms per particle (generation + hits)\n", ms(t1 - t0) / n);
    std::printf("  batch %d: %.3f ms per particle\n", B, ms(t2 - t1) / n);
    return 0;
}
