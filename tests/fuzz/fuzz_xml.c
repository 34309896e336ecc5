/* tests/fuzz/fuzz_xml.c: the binning XML reader (physics/geometry.h) on arbitrary bytes. */
#include "physics/geometry.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    char path[512];
    if (fuzz_write(fuzz_path(path, sizeof path, "binning.xml"), data, n) < 0) return 0;
    phys_geometry_t g;
    if (phys_geometry_load_xml(&g, path, NULL) == 0) {
        /* a grid that loads must be usable: every voxel has a centre and is found again */
        for (int v = 0; v < g.n_voxels; v += 1 + g.n_voxels / 64) {
            int l;
            double r, a, x, y;
            phys_geometry_voxel_centre(&g, v, &l, &r, &a, &x, &y);
            if (phys_geometry_locate_polar(&g, l, r, a) != v) abort();
        }
    }
    phys_geometry_load_xml(&g, path, "electron");
    unlink(path);
    return 0;
}
