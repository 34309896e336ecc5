/* physics/geometry.c: voxel grids, presets and the binning XML reader (see geometry.h). */
#include "physics/geometry.h"

#include "base/limits.h"
#include "base/status.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PI 3.14159265358979323846

const char *const phys_geometry_presets[] = {"ds1-photons", "ds1-pions", "ds2", "ds3", NULL};

/* Parses "0,4.65,9.3" into layer l of g; "0" (a single edge) is an empty layer. */
static int parse_edges(phys_geometry_t *g, int l, const char *s, int n_alpha, const char *where)
{
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || n >= PHYS_MAX_REDGES || !isfinite(v) || v < 0 ||
            (n > 0 && v <= g->r_edges[l][n - 1]))
            return base_error(BASE_EIO, "%s: layer %d: bad r_edges \"%s\" (need increasing "
                               "numbers >= 0, at most %d)", where, l, s, PHYS_MAX_REDGES);
        g->r_edges[l][n++] = v;
        p = end;
        while (*p == ',' || *p == ' ') p++;
    }
    if (n < 1 || n_alpha < 1)
        return base_error(BASE_EIO, "%s: layer %d: empty r_edges or n_bin_alpha < 1", where, l);
    g->n_r[l] = n - 1;
    g->n_alpha[l] = n_alpha;
    return BASE_OK;
}

int phys_geometry_set_offsets(phys_geometry_t *g)
{
    long long off = 0;
    g->offset[0] = 0;
    for (int l = 0; l < g->n_layers; l++) {
        off += (long long)g->n_r[l] * g->n_alpha[l];
        if (g->n_r[l] < 0 || g->n_alpha[l] < 0 || off > PHYS_MAX_VOXELS)
            return base_error(BASE_EINVAL, "geometry: layer %d: %d x %d bins (more than %d voxels in all)", l,
                              g->n_r[l], g->n_alpha[l], PHYS_MAX_VOXELS);
        g->offset[l + 1] = (int)off;
    }
    g->n_voxels = g->offset[g->n_layers];
    return BASE_OK;
}

static int finish(phys_geometry_t *g)
{
    BASE_TRY(phys_geometry_set_offsets(g));
    g->threshold_mev = g->pid == 11 ? 0.5e-3 / 0.033 : 1.0; /* CaloChallenge evaluate.py */
    return BASE_OK;
}

/* ds2 and ds3: 45 identical layers of n_r bins of width dr and n_alpha angular bins;
 * one readout layer = 2 x (1.4 mm W + 0.3 mm Si) = 3.4 mm. */
static void uniform_preset(phys_geometry_t *g, const char *name, int n_r, double dr, int n_alpha)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->particle, sizeof g->particle, "electron");
    g->pid = 11;
    g->n_layers = 45;
    g->layer_depth_mm = 3.4;
    for (int l = 0; l < 45; l++) {
        g->n_r[l] = n_r;
        g->n_alpha[l] = n_alpha;
        for (int i = 0; i <= n_r; i++) g->r_edges[l][i] = i * dr;
    }
    finish(g); /* presets are small: cannot fail */
}

/* Dataset 1 (ATLAS layers 0-23), from binning_dataset_1_{photons,pions}.xml. */
typedef struct { int layer; const char *edges; int n_alpha; } ds1_layer_t;
static const ds1_layer_t ds1_photons[] = {
    {0, "0,5,10,30,50,100,200,400,600", 1},
    {1, "0,2,4,6,8,10,12,15,20,30,40,50,70,90,120,150,200", 10},
    {2, "0,2,5,10,15,20,25,30,40,50,60,80,100,130,160,200,250,300,350,400", 10},
    {3, "0,50,100,200,400,600", 1},
    {12, "0,100,200,400,1000,2000", 1},
    {-1, NULL, 0}};
static const ds1_layer_t ds1_pions[] = {
    {0, "0,5,10,30,50,100,200,400,600", 1},
    {1, "0,1,4,7,10,15,30,50,90,150,200", 10},
    {2, "0,5,10,20,30,50,80,130,200,300,400", 10},
    {3, "0,50,100,200,400,600", 1},
    {12, "0,10,20,30,50,80,100,130,160,200,250,300,350,400,1000,2000", 10},
    {13, "0,10,20,30,50,80,100,130,160,200,250,300,350,400,600,1000,2000", 10},
    {14, "0,50,100,150,200,250,300,400,600,1000,2000", 1},
    {-1, NULL, 0}};

static int ds1_preset(phys_geometry_t *g, const char *name, const char *particle, int pid,
                      const ds1_layer_t *t)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->particle, sizeof g->particle, "%s", particle);
    g->pid = pid;
    g->n_layers = 24;
    for (int l = 0; l < 24; l++) {
        g->n_alpha[l] = 1;
        g->r_edges[l][0] = 0;
    }
    for (; t->edges; t++) BASE_TRY(parse_edges(g, t->layer, t->edges, t->n_alpha, name));
    return finish(g);
}

int phys_geometry_preset(phys_geometry_t *g, const char *name)
{
    if (strcmp(name, "ds2") == 0) uniform_preset(g, "ds2", 9, 4.65, 16);
    else if (strcmp(name, "ds3") == 0) uniform_preset(g, "ds3", 18, 2.325, 50);
    else if (strcmp(name, "ds1-photons") == 0) return ds1_preset(g, name, "photon", 22, ds1_photons);
    else if (strcmp(name, "ds1-pions") == 0) return ds1_preset(g, name, "pion", 211, ds1_pions);
    else
        return base_error(BASE_EINVAL, "unknown geometry '%s' (ds1-photons, ds1-pions, ds2, ds3, "
                                         "or a binning .xml file)", name);
    return BASE_OK;
}

/* Integer attribute, or def when absent; -1 on a malformed value. */
static long int_attr(xmlNode *n, const char *name, long def)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    if (!v) return def;
    char *end;
    errno = 0;
    long x = strtol((const char *)v, &end, 10);
    if (end == (char *)v || *end || errno || x < 0 || x > INT_MAX) x = -1;
    xmlFree(v);
    return x;
}

/* Reads the <Layer> children of one <Bin>. */
static int read_bin(phys_geometry_t *g, xmlNode *bin, const char *path)
{
    for (xmlNode *n = bin->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || xmlStrcmp(n->name, (const xmlChar *)"Layer")) continue;
        long id = int_attr(n, "id", g->n_layers), na = int_attr(n, "n_bin_alpha", 1);
        if (id != g->n_layers || id >= PHYS_MAX_LAYERS || na < 1 || na > BASE_MAX_ALPHA)
            return base_error(BASE_EIO, "%s: layer %ld: ids must count up from 0 (at most %d layers) "
                               "and n_bin_alpha must be in [1, %d]", path, id, PHYS_MAX_LAYERS, BASE_MAX_ALPHA);
        xmlChar *e = xmlGetProp(n, (const xmlChar *)"r_edges");
        if (!e) return base_error(BASE_EIO, "%s: layer %ld has no r_edges", path, id);
        int rc = parse_edges(g, (int)id, (const char *)e, (int)na, path);
        xmlFree(e);
        if (rc < 0) return rc;
        g->n_layers++;
    }
    if (g->n_layers == 0) return base_error(BASE_EIO, "%s: the Bin has no Layer", path);
    return BASE_OK;
}

/* The whole file (a regular file of at most BASE_MAX_SMALL_FILE bytes) in a new buffer. */
static int read_small(const char *path, char **buf, size_t *n)
{
    struct stat st;
    if (stat(path, &st) != 0) return base_error(BASE_EIO, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode)) return base_error(BASE_EIO, "%s: not a regular file (a binning XML is expected)", path);
    if (st.st_size > BASE_MAX_SMALL_FILE)
        return base_error(BASE_EIO, "%s: %lld bytes, too large for a binning XML (at most %d)", path,
                          (long long)st.st_size, BASE_MAX_SMALL_FILE);
    FILE *f = fopen(path, "rb");
    if (!f) return base_error(BASE_EIO, "%s: %s", path, strerror(errno));
    *buf = malloc((size_t)st.st_size + 1);
    *n = *buf ? fread(*buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!*buf) return base_error(BASE_ENOMEM, "out of memory");
    (*buf)[*n] = 0;
    return BASE_OK;
}

/* The binning XML's document. Document type declarations are refused outright: the official
 * files have none, and entities (internal ones expand quadratically, external ones read other
 * files) have no use here. libxml2 never touches the network (XML_PARSE_NONET). */
static int parse_xml(const char *path, xmlDoc **doc)
{
    char *buf;
    size_t n;
    BASE_TRY(read_small(path, &buf, &n));
    int dtd = strstr(buf, "<!DOCTYPE") || strstr(buf, "<!ENTITY") || memchr(buf, 0, n);
    *doc = dtd ? NULL : xmlReadMemory(buf, (int)n, path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    free(buf);
    if (dtd) return base_error(BASE_EIO, "%s: has a document type declaration, entities or NUL bytes (not allowed in a binning XML)", path);
    if (!*doc) return base_error(BASE_EIO, "%s: not well-formed XML", path);
    return BASE_OK;
}

int phys_geometry_load_xml(phys_geometry_t *g, const char *path, const char *particle)
{
    memset(g, 0, sizeof *g);
    xmlDoc *doc;
    BASE_TRY(parse_xml(path, &doc));
    xmlNode *root = xmlDocGetRootElement(doc);
    int rc = 1; /* 1: no matching Bin yet */
    if (root && xmlStrcmp(root->name, (const xmlChar *)"Bins") == 0) {
        for (xmlNode *b = root->children; b; b = b->next) {
            if (b->type != XML_ELEMENT_NODE || xmlStrcmp(b->name, (const xmlChar *)"Bin")) continue;
            xmlChar *nm = xmlGetProp(b, (const xmlChar *)"name");
            int match = !particle || (nm && strcmp((const char *)nm, particle) == 0);
            if (match) {
                const char *base = strrchr(path, '/');
                snprintf(g->name, sizeof g->name, "%s", base ? base + 1 : path);
                snprintf(g->particle, sizeof g->particle, "%s", nm ? (const char *)nm : "");
                g->pid = (int)int_attr(b, "pid", 0);
                rc = read_bin(g, b, path);
            }
            if (nm) xmlFree(nm);
            if (match) break;
        }
    }
    xmlFreeDoc(doc);
    if (rc == 1)
        return base_error(BASE_EIO, "%s: no <Bin%s%s%s> in <Bins>", path, particle ? " name=\"" : "",
                           particle ? particle : "", particle ? "\"" : "");
    if (rc < 0) return rc;
    BASE_TRY(finish(g));
    if (g->n_voxels == 0) return base_error(BASE_EIO, "%s: the grid has no voxels (every layer's r_edges is \"0\")", path);
    /* ds2/ds3-like grids (45 layers, electrons) get the W/Si readout-layer thickness */
    const char *m = phys_geometry_match(g);
    if (strcmp(m, "ds2") == 0 || strcmp(m, "ds3") == 0) g->layer_depth_mm = 3.4;
    return BASE_OK;
}

int phys_geometry_from_arg(phys_geometry_t *g, const char *arg)
{
    size_t n = strlen(arg);
    if (n > 4 && strcmp(arg + n - 4, ".xml") == 0) return phys_geometry_load_xml(g, arg, NULL);
    return phys_geometry_preset(g, arg);
}

int phys_geometry_same_binning(const phys_geometry_t *a, const phys_geometry_t *b)
{
    if (a->n_layers != b->n_layers || a->n_voxels != b->n_voxels) return 0;
    for (int l = 0; l < a->n_layers; l++) {
        if (a->n_r[l] != b->n_r[l] || (a->n_r[l] > 0 && a->n_alpha[l] != b->n_alpha[l])) return 0;
        for (int i = 0; i <= a->n_r[l]; i++)
            if (fabs(a->r_edges[l][i] - b->r_edges[l][i]) > 1e-4) return 0; /* 0.1 um: float storage */
    }
    return 1;
}

const char *phys_geometry_match(const phys_geometry_t *g)
{
    for (int i = 0; phys_geometry_presets[i]; i++) {
        phys_geometry_t p;
        if (phys_geometry_preset(&p, phys_geometry_presets[i]) == BASE_OK &&
            phys_geometry_same_binning(&p, g))
            return phys_geometry_presets[i];
    }
    return "";
}

int phys_geometry_locate_polar(const phys_geometry_t *g, int l, double r, double alpha)
{
    int nr = g->n_r[l];
    const double *e = g->r_edges[l];
    if (nr == 0 || r < e[0] || r >= e[nr]) return -1;
    int lo = 0, hi = nr; /* binary search: e[lo] <= r < e[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (r >= e[mid]) lo = mid;
        else hi = mid;
    }
    int na = g->n_alpha[l];
    int a = (int)((alpha + PI) * (na / (2 * PI)));
    a = a < 0 ? 0 : a >= na ? na - 1 : a;
    return g->offset[l] + a * nr + lo;
}

int phys_geometry_locate(const phys_geometry_t *g, int l, double x, double y)
{
    return phys_geometry_locate_polar(g, l, hypot(x, y), atan2(y, x));
}

void phys_geometry_voxel_centre(const phys_geometry_t *g, int v, int *layer, double *r,
                                double *alpha, double *x, double *y)
{
    int l = 0;
    while (l + 1 < g->n_layers && g->offset[l + 1] <= v) l++;
    int k = v - g->offset[l], nr = g->n_r[l], a = k / nr, i = k % nr;
    double rm = 0.5 * (g->r_edges[l][i] + g->r_edges[l][i + 1]);
    double am = -PI + (a + 0.5) * 2 * PI / g->n_alpha[l];
    if (layer) *layer = l;
    if (r) *r = rm;
    if (alpha) *alpha = am;
    if (x) *x = rm * cos(am);
    if (y) *y = rm * sin(am);
}

void phys_par04_to_cc(const float *src, int n_r, int n_phi, int n_z, float *dst)
{
    for (int r = 0; r < n_r; r++)
        for (int p = 0; p < n_phi; p++)
            for (int z = 0; z < n_z; z++)
                dst[((size_t)z * n_phi + p) * n_r + r] = src[((size_t)r * n_phi + p) * n_z + z];
}
