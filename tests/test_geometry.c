/* tests/test_geometry.c: presets against the official CaloChallenge binning files, the XML
 * reader on crafted files, voxel location and the Par04 order conversion. */
#include "base/status.h"
#include "physics/geometry.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The official XMLs live beside the project (../shared/data/calochallenge) when present. */
static const char *official(const char *file, char *buf, size_t n)
{
    const char *dirs[] = {"../shared/data/calochallenge", "../../shared/data/calochallenge", NULL};
    for (int i = 0; dirs[i]; i++) {
        snprintf(buf, n, "%s/%s", dirs[i], file);
        if (access(buf, R_OK) == 0) return buf;
    }
    return NULL;
}

Test(geometry, presets_have_the_official_voxel_counts)
{
    const char *names[] = {"ds1-photons", "ds1-pions", "ds2", "ds3"};
    const int voxels[] = {368, 533, 6480, 40500};
    for (int i = 0; i < 4; i++) {
        phys_geometry_t g;
        cr_assert_eq(phys_geometry_preset(&g, names[i]), BASE_OK);
        cr_expect_eq(g.n_voxels, voxels[i], "%s: %d voxels", names[i], g.n_voxels);
        cr_expect_str_eq(phys_geometry_match(&g), names[i]);
    }
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    cr_expect(fabs(g.r_edges[0][1] - 4.65) < 1e-12 && fabs(g.r_edges[44][9] - 41.85) < 1e-9);
    cr_expect(fabs(g.threshold_mev - 0.01515) < 1e-5);
    cr_assert_eq(phys_geometry_preset(&g, "ds4"), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "ds4") != NULL);
}

Test(geometry, presets_equal_the_four_official_binning_files)
{
    const char *files[] = {"binning_dataset_1_photons.xml", "binning_dataset_1_pions.xml",
                           "binning_dataset_2.xml", "binning_dataset_3.xml"};
    const char *names[] = {"ds1-photons", "ds1-pions", "ds2", "ds3"};
    char buf[512];
    if (!official(files[0], buf, sizeof buf)) cr_skip_test("official XML files not present");
    for (int i = 0; i < 4; i++) {
        phys_geometry_t x, p;
        cr_assert_not_null(official(files[i], buf, sizeof buf));
        cr_assert_eq(phys_geometry_load_xml(&x, buf, NULL), BASE_OK, "%s", base_last_error());
        cr_assert_eq(phys_geometry_preset(&p, names[i]), BASE_OK);
        cr_expect(phys_geometry_same_binning(&x, &p), "%s differs from preset %s", files[i], names[i]);
        cr_expect_eq(x.pid, p.pid);
        cr_expect_str_eq(x.particle, p.particle);
        cr_expect_eq(x.n_layers, p.n_layers);
    }
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/sv_geom_%d.xml", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

Test(geometry, xml_reader_handles_particles_empty_layers_and_bad_files)
{
    const char *p = write_tmp(
        "<Bins><Bin pid=\"22\" name=\"photon\"><Layer id=\"0\" r_edges=\"0,1,3\" n_bin_alpha=\"4\"/>"
        "<Layer id=\"1\" r_edges=\"0\" n_bin_alpha=\"1\"/><Layer id=\"2\" r_edges=\"0,2\" n_bin_alpha=\"1\"/>"
        "</Bin><Bin pid=\"211\" name=\"pion\"><Layer id=\"0\" r_edges=\"0,5\" n_bin_alpha=\"2\"/></Bin></Bins>");
    phys_geometry_t g;
    cr_assert_eq(phys_geometry_load_xml(&g, p, NULL), BASE_OK, "%s", base_last_error());
    cr_expect_eq(g.n_layers, 3);
    cr_expect_eq(g.n_voxels, 2 * 4 + 0 + 1);
    cr_expect_eq(g.offset[2], 8);
    cr_expect_str_eq(g.particle, "photon");
    cr_assert_eq(phys_geometry_load_xml(&g, p, "pion"), BASE_OK);
    cr_expect_eq(g.n_voxels, 2);
    cr_expect_eq(g.pid, 211);
    cr_assert_eq(phys_geometry_load_xml(&g, p, "kaon"), BASE_EIO);
    cr_expect(strstr(base_last_error(), "kaon") != NULL, "%s", base_last_error());

    const char *bad[] = {
        "this is not xml",
        "<Bins><Bin name=\"x\"><Layer id=\"0\" r_edges=\"0,2,1\" n_bin_alpha=\"1\"/></Bin></Bins>",
        "<Bins><Bin name=\"x\"><Layer id=\"0\" r_edges=\"0,a\" n_bin_alpha=\"1\"/></Bin></Bins>",
        "<Bins><Bin name=\"x\"><Layer id=\"3\" r_edges=\"0,1\" n_bin_alpha=\"1\"/></Bin></Bins>",
        "<Bins><Bin name=\"x\"><Layer id=\"0\" r_edges=\"0,1\" n_bin_alpha=\"0\"/></Bin></Bins>",
        "<Bins><Bin name=\"x\"></Bin></Bins>",
        "<Other/>"};
    for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
        p = write_tmp(bad[i]);
        cr_expect_eq(phys_geometry_load_xml(&g, p, NULL), BASE_EIO, "bad file %u accepted", i);
        cr_expect(strstr(base_last_error(), p) != NULL, "message names the file: %s",
                  base_last_error());
    }
    unlink(p);
    cr_expect_eq(phys_geometry_load_xml(&g, "/nonexistent/x.xml", NULL), BASE_EIO);
}

Test(geometry, locate_follows_the_calochallenge_voxel_order)
{
    phys_geometry_t g;
    phys_geometry_preset(&g, "ds2");
    const double PI = 3.14159265358979323846;
    /* layer 3, r in bin 2 (9.3..13.95), alpha just above -pi: alpha bin 0 */
    int v = phys_geometry_locate_polar(&g, 3, 10.0, -PI + 0.01);
    cr_expect_eq(v, 3 * 144 + 0 * 9 + 2);
    /* alpha bin 5 of 16 covers [-pi + 5 pi/8, -pi + 6 pi/8) */
    v = phys_geometry_locate_polar(&g, 0, 1.0, -PI + 5.5 * PI / 8);
    cr_expect_eq(v, 5 * 9 + 0);
    cr_expect_eq(phys_geometry_locate_polar(&g, 0, 41.85, 0), -1, "r_max is outside");
    /* Cartesian: +x axis is alpha = 0, the first bin above the middle (bin 8) */
    cr_expect_eq(phys_geometry_locate(&g, 44, 5.0, 1e-9), 44 * 144 + 8 * 9 + 1);
    int layer;
    double r, a, x, y;
    phys_geometry_voxel_centre(&g, 44 * 144 + 8 * 9 + 1, &layer, &r, &a, &x, &y);
    cr_expect_eq(layer, 44);
    cr_expect(fabs(r - 6.975) < 1e-9 && fabs(a - PI / 16) < 1e-9);
    cr_expect(fabs(x - r * cos(a)) < 1e-12 && fabs(y - r * sin(a)) < 1e-12);
}

Test(geometry, par04_order_is_transposed_to_calochallenge_order)
{
    enum { R = 3, P = 4, Z = 5 };
    float src[R * P * Z], dst[R * P * Z];
    for (int r = 0; r < R; r++)
        for (int p = 0; p < P; p++)
            for (int z = 0; z < Z; z++) src[(r * P + p) * Z + z] = 100.f * r + 10.f * p + z;
    phys_par04_to_cc(src, R, P, Z, dst);
    for (int z = 0; z < Z; z++)
        for (int p = 0; p < P; p++)
            for (int r = 0; r < R; r++)
                cr_assert_eq(dst[(z * P + p) * R + r], 100.f * r + 10.f * p + z);
}

/* Offsets are computed once (phys_geometry_set_offsets) and refuse a grid too large to index. */
Test(geometry, offsets_follow_the_bins_and_refuse_overflow)
{
    phys_geometry_t g;
    cr_assert_eq(phys_geometry_preset(&g, "ds2"), BASE_OK);
    int keep = g.n_voxels;
    cr_assert_eq(phys_geometry_set_offsets(&g), BASE_OK);
    cr_assert(g.n_voxels == keep && g.offset[1] == 16 * 9 && g.offset[45] == 6480);
    g.n_alpha[3] = 1 << 20, g.n_r[3] = 1 << 12; /* 2^32 voxels in one layer: would wrap an int */
    cr_assert_eq(phys_geometry_set_offsets(&g), BASE_EINVAL);
    cr_assert(strstr(base_last_error(), "layer 3") != NULL, "%s", base_last_error());
}
