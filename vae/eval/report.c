/* vae/eval/report.c: evaluation plots with PLplot and histogram CSV files (see report.h). */
#include "vae/eval/report.h"

#include "base/status.h"

#include <math.h>
#include <plplot.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* PLplot's cairo driver ignores write errors (a full disk leaves a truncated PNG): a plot is
 * accepted only if the file ends with the PNG end chunk (0000 0000 "IEND" AE42 6082). */
static int finish(const char *path)
{
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    plend1();
    unsigned char tail[12];
    FILE *f = fopen(path, "rb");
    int ok = f && fseek(f, -12, SEEK_END) == 0 && fread(tail, 1, 12, f) == 12 && memcmp(tail, iend, 12) == 0;
    if (f) fclose(f);
    return ok ? BASE_OK : base_error(BASE_EIO, "%s: the plot was not written completely (disk full?)", path);
}

static void begin(const char *path, int w, int h)
{
    plsdev("pngcairo");
    plsfnam(path);
    plspage(0, 0, w, h, 0, 0);
    plscolbg(255, 255, 255);
    plscol0(1, 0, 0, 0);      /* axes: black */
    plscol0(2, 150, 150, 150); /* reference: grey */
    plscol0(3, 0, 70, 200);   /* generated: blue */
    plscol0(4, 200, 0, 0);    /* ratio line at 1: red */
    plinit();
    pladv(0);
    plschr(0, 0.9);
}

/* Step outline of a histogram (edges n + 1, values n) in plot coordinates. */
static void steps(const double *xe, const double *y, int n)
{
    PLFLT *px = malloc((size_t)(2 * n + 2) * sizeof *px), *py = malloc((size_t)(2 * n + 2) * sizeof *py);
    if (!px || !py) {
        free(px), free(py);
        return;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        px[k] = xe[i], py[k++] = y[i];
        px[k] = xe[i + 1], py[k++] = y[i];
    }
    plline(k, px, py);
    free(px), free(py);
}

static void legend_labels(void)
{
    PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE}, col[2] = {2, 3}, st[2] = {1, 1};
    PLFLT wid[2] = {3, 2};
    const char *txt[2] = {"reference", "generated"};
    PLFLT lw, lh;
    PLINT tc[2] = {1, 1};
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE,
             0.01, 0.01, 0.08, 0, 1, 1, 2, 1, 2, opt, 1.0, 0.9, 2.0, 0.9, tc, txt, NULL, NULL, NULL, NULL, col, st,
             wid, NULL, NULL, NULL, NULL);
}

/* Ratio panel over edges xe (n + 1). counts (histograms): the ratio of normalised contents,
 * r = (gen / G) / (ref / R) with G, R the totals, and its statistical error bar
 * r sqrt(1/gen + 1/ref) (Poisson counts); else (profiles) gen / ref, no error bars. A bin without
 * reference entries draws nothing (no ratio is defined there); a ratio outside the window
 * [0.5, 1.5] is a triangle on the edge it passes (up: above, down: below, also 0 entries). */
static void ratio_panel(const double *xe, const double *ref, const double *gen, int n, const char *xlabel, int logx,
                        double x0, double x1, int counts)
{
    enum { LO = 0, HI = 1 };
    const double win[2] = {0.5, 1.5};
    plvpor(0.12, 0.95, 0.10, 0.30);
    plwind(x0, x1, win[LO], win[HI]);
    plcol0(1);
    plbox(logx ? "bcnstl" : "bcnst", 0, 0, "bcnstv", 0.25, 0);
    pllab(xlabel, "gen/ref", "");
    plcol0(4);
    PLFLT hx[2] = {x0, x1}, hy[2] = {1, 1};
    plline(2, hx, hy);
    double G = 0, R = 0;
    for (int i = 0; i < n; i++) G += gen[i], R += ref[i];
    if (counts && !(G > 0 && R > 0)) return;
    plcol0(3);
    plwidth(2);
    for (int i = 0; i < n; i++) {
        if (!(ref[i] > 0)) continue;
        const double r = counts ? (gen[i] / G) / (ref[i] / R) : gen[i] / ref[i];
        PLFLT xc = 0.5 * (xe[i] + xe[i + 1]);
        if (!(r >= win[LO] && r <= win[HI])) { /* clipped: marked, not drawn at the edge as if measured */
            PLFLT ym = r > win[HI] ? win[HI] - 0.06 : win[LO] + 0.06;
            plstring(1, &xc, &ym, r > win[HI] ? "\u25B2" : "\u25BC");
            continue;
        }
        PLFLT bx[2] = {xe[i], xe[i + 1]}, by[2] = {r, r};
        plline(2, bx, by);
        if (counts && gen[i] > 0) {
            const double e = r * sqrt(1 / gen[i] + 1 / ref[i]);
            PLFLT lo = fmax(win[LO], r - e), hi = fmin(win[HI], r + e);
            plerry(1, &xc, &lo, &hi);
        }
    }
    plwidth(1);
}

/* Upper panel: reference (grey, wide) and generated (blue) steps over edges xe (n + 1). */
static void upper_panel(const double *xe, const double *a, const double *b, int n, double y0, double y1, int logx,
                        int logy, const char *ylabel, const char *title)
{
    plvpor(0.12, 0.95, 0.36, 0.92);
    plwind(xe[0], xe[n], y0, y1);
    plcol0(1);
    plbox(logx ? "bcstl" : "bcst", 0, 0, logy ? "bcnstvl" : "bcnstv", 0, 0);
    pllab("", ylabel, title);
    plcol0(2);
    plwidth(3);
    steps(xe, a, n);
    plcol0(3);
    plwidth(2);
    steps(xe, b, n);
    plwidth(1);
    legend_labels();
}

/* Plot coordinates of a histogram (edges n + 1, contents ref, gen): xe the edges (log10 when
 * logx), a and b the contents at unit area, count / (total x bin width). */
static void unit_area(const double *edges, const double *ref, const double *gen, int n, int logx, double *xe,
                      double *a, double *b)
{
    double sr = 0, sg = 0;
    for (int i = 0; i < n; i++) sr += ref[i], sg += gen[i];
    for (int i = 0; i <= n; i++) xe[i] = logx ? log10(edges[i]) : edges[i];
    for (int i = 0; i < n; i++) {
        const double w = edges[i + 1] - edges[i];
        a[i] = sr > 0 ? ref[i] / (sr * w) : 0;
        b[i] = sg > 0 ? gen[i] / (sg * w) : 0;
    }
}

int eval_plot_hist(const char *path, const char *title, const char *xlabel, const double *edges, const double *ref,
                 const double *gen, int n, int logx, int logy)
{
    double ymax = 0, ymin = INFINITY;
    double *xe = malloc((size_t)(n + 1) * sizeof *xe), *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    if (!xe || !a || !b) {
        free(xe), free(a), free(b);
        return base_error(BASE_ENOMEM, "plot: out of memory");
    }
    unit_area(edges, ref, gen, n, logx, xe, a, b);
    for (int i = 0; i < n; i++) {
        ymax = fmax(ymax, fmax(a[i], b[i]));
        if (a[i] > 0) ymin = fmin(ymin, a[i]);
        if (b[i] > 0) ymin = fmin(ymin, b[i]);
    }
    if (logy) {
        for (int i = 0; i < n; i++) {
            a[i] = a[i] > 0 ? log10(a[i]) : log10(ymin) - 1;
            b[i] = b[i] > 0 ? log10(b[i]) : log10(ymin) - 1;
        }
    }
    double y0 = logy ? log10(ymin > 0 && isfinite(ymin) ? ymin : 1e-6) - 0.3 : 0;
    double y1 = logy ? log10(ymax > 0 ? ymax : 1) + 0.5 : (ymax > 0 ? ymax * 1.25 : 1);
    begin(path, 800, 700);
    upper_panel(xe, a, b, n, y0, y1, logx, logy, "normalised entries (1/unit of x)", title);
    ratio_panel(xe, ref, gen, n, xlabel, logx, xe[0], xe[n], 1);
    free(xe), free(a), free(b);
    return finish(path);
}

int eval_plot_profile(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *x,
                    const double *ref, const double *gen, int n, int logy)
{
    double *xe = malloc((size_t)(n + 1) * sizeof *xe), *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    if (!xe || !a || !b) {
        free(xe), free(a), free(b);
        return base_error(BASE_ENOMEM, "plot: out of memory");
    }
    double ymax = 0, ymin = INFINITY;
    for (int i = 0; i <= n; i++) /* bin edges halfway between the points */
        xe[i] = i == 0 ? x[0] - 0.5 * (n > 1 ? x[1] - x[0] : 1)
                : i == n ? x[n - 1] + 0.5 * (n > 1 ? x[n - 1] - x[n - 2] : 1)
                         : 0.5 * (x[i - 1] + x[i]);
    for (int i = 0; i < n; i++) {
        ymax = fmax(ymax, fmax(ref[i], gen[i]));
        if (ref[i] > 0) ymin = fmin(ymin, ref[i]);
        a[i] = logy ? log10(fmax(ref[i], 1e-30)) : ref[i];
        b[i] = logy ? log10(fmax(gen[i], 1e-30)) : gen[i];
    }
    double y0 = logy ? log10(isfinite(ymin) ? ymin : 1e-6) - 0.3 : 0, y1 = logy ? log10(fmax(ymax, 1e-30)) + 0.5 : ymax * 1.25;
    if (!(y1 > y0)) y1 = y0 + 1;
    begin(path, 800, 700);
    upper_panel(xe, a, b, n, y0, y1, 0, logy, ylabel, title);
    ratio_panel(xe, ref, gen, n, xlabel, 0, xe[0], xe[n], 0);
    free(xe), free(a), free(b);
    return finish(path);
}

int eval_plot_grid(const char *path, int np, const eval_panel_t *pan)
{
    if (np < 1) return base_error(BASE_EINVAL, "%s: no panels", path);
    const int nx = np <= 4 ? np : np <= 16 ? 4 : np <= 30 ? 6 : 9, ny = (np + nx - 1) / nx;
    begin(path, 220 * nx + 80, 190 * ny + 120);
    plssub(nx, ny);
    plschr(0, 1.1);
    for (int k = 0; k < np; k++) {
        const eval_panel_t *q = &pan[k];
        pladv(k + 1);
        double ymax = 0;
        double *xe = malloc((size_t)(q->n + 1) * sizeof *xe), *a = malloc((size_t)q->n * sizeof *a),
               *b = malloc((size_t)q->n * sizeof *b);
        if (!xe || !a || !b) {
            free(xe), free(a), free(b);
            plend1();
            return base_error(BASE_ENOMEM, "plot: out of memory");
        }
        unit_area(q->edges, q->ref, q->gen, q->n, q->logx, xe, a, b);
        for (int i = 0; i < q->n; i++) ymax = fmax(ymax, fmax(a[i], b[i]));
        plvpor(0.08, 0.95, 0.2, 0.8);
        plwind(xe[0], xe[q->n], 0, ymax > 0 ? ymax * 1.15 : 1);
        plcol0(1);
        plbox(q->logx ? "bcnstl" : "bcnst", 0, 0, "bc", 0, 0);
        plmtex("t", 0.5, 0.5, 0.5, q->title);
        plcol0(2), plwidth(3), steps(xe, a, q->n);
        plcol0(3), plwidth(1.5), steps(xe, b, q->n);
        plwidth(1);
        free(xe), free(a), free(b);
    }
    return finish(path);
}

/* y0..y1 of series a and b (n points), padded by 5%. */
static void range2(const double *a, const double *b, int n, double *y0, double *y1)
{
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++) lo = fmin(lo, fmin(a[i], b[i])), hi = fmax(hi, fmax(a[i], b[i]));
    if (!(hi > lo)) lo -= 1, hi += 1;
    *y0 = lo - 0.05 * (hi - lo), *y1 = hi + 0.05 * (hi - lo);
}

/* One panel of training curves: train (grey, wide) and validation (blue) against epoch. */
static void curve_panel(const double *x, const double *tr, const double *va, int n, double yb, double yt,
                        const char *ylabel, const char *xlabel, const char *title)
{
    double y0, y1;
    range2(tr, va, n, &y0, &y1);
    plvpor(0.14, 0.95, yb, yt);
    plwind(x[0] - 0.5, x[n - 1] + 0.5, y0, y1);
    plcol0(1);
    plbox(xlabel[0] ? "bcnst" : "bcst", 0, 0, "bcnstv", 0, 0);
    pllab(xlabel, ylabel, title);
    PLFLT *px = malloc((size_t)n * sizeof *px), *pa = malloc((size_t)n * sizeof *pa), *pb = malloc((size_t)n * sizeof *pb);
    if (px && pa && pb) {
        for (int i = 0; i < n; i++) px[i] = x[i], pa[i] = tr[i], pb[i] = va[i];
        plcol0(2), plwidth(3), plline(n, px, pa), plpoin(n, px, pa, 17);
        plcol0(3), plwidth(2), plline(n, px, pb), plpoin(n, px, pb, 17);
        plwidth(1);
    }
    free(px), free(pa), free(pb);
    PLINT opt[2] = {PL_LEGEND_LINE, PL_LEGEND_LINE}, col[2] = {2, 3}, st[2] = {1, 1}, tc[2] = {1, 1};
    PLFLT wid[2] = {3, 2}, lw, lh;
    const char *txt[2] = {"training", "validation"};
    /* the legend in the right-hand corner the curves' last points leave free */
    const int high = fmax(tr[n - 1], va[n - 1]) > 0.5 * (y0 + y1);
    pllegend(&lw, &lh, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             (high ? PL_POSITION_BOTTOM : PL_POSITION_TOP) | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.01, 0.01, 0.08, 0,
             1, 1, 2, 1, 2, opt, 1.0, 0.9, 2.0, 0.9, tc, txt, NULL, NULL, NULL, NULL, col, st, wid, NULL, NULL, NULL,
             NULL);
}

int eval_plot_curves(const char *path, const double *epoch, const double *tr_loss, const double *va_loss,
                     const double *tr_kl, const double *va_kl, int n)
{
    if (n < 1) return base_error(BASE_EINVAL, "%s: no epochs to plot", path);
    begin(path, 800, 700);
    curve_panel(epoch, tr_loss, va_loss, n, 0.56, 0.92, "-ELBO [nats per shower]", "",
                "training history (the model's MODEL.h5.history.csv)");
    curve_panel(epoch, tr_kl, va_kl, n, 0.10, 0.46, "KL [nats per shower]", "epoch", "");
    return finish(path);
}

static const double PI = 3.14159265358979323846;

/* viridis (matplotlib's perceptually uniform map), five control points, into cmap1. */
static void viridis(void)
{
    PLFLT pos[5] = {0, 0.25, 0.5, 0.75, 1}, r[5] = {68, 59, 33, 94, 253}, g[5] = {1, 82, 145, 201, 231},
          b[5] = {84, 139, 140, 98, 37};
    for (int i = 0; i < 5; i++) r[i] /= 255, g[i] /= 255, b[i] /= 255;
    plscmap1n(256);
    plscmap1l(1, 5, pos, r, g, b, NULL);
}

/* One image of a layer group in the detector's own polar layout, in the box (x0, x1, y0, y1)
 * of the page (square inside it): voxel (alpha a, radial bin i) of img (n_alpha rows, n_r
 * columns) is the annular sector r_edges[i]..r_edges[i + 1], angles 2 pi a / n_alpha ..
 * 2 pi (a + 1) / n_alpha, filled with the colour of log10 of its energy on [lo, hi]; an empty
 * voxel stays white. */
static void polar_image(const double *img, int n_alpha, int n_r, const double *r_edges, double lo, double hi,
                        const char *title, double x0, double x1, double y0, double y1)
{
    enum { ARC = 12 };
    const double R = r_edges[n_r];
    plvpor(x0, x1, y0, y1);
    plvpas(x0, x1, y0, y1, 1.0);
    plwind(-R, R, -R, R);
    for (int a = 0; a < n_alpha; a++)
        for (int i = 0; i < n_r; i++) {
            const double v = img[a * n_r + i];
            if (!(v > 0)) continue;
            PLFLT px[2 * ARC + 2], py[2 * ARC + 2];
            const double p0 = 2 * PI * a / n_alpha, p1 = 2 * PI * (a + 1) / n_alpha;
            for (int k = 0; k <= ARC; k++) { /* outer arc forward, inner arc back */
                const double t = p0 + (p1 - p0) * k / ARC, u = p1 - (p1 - p0) * k / ARC;
                px[k] = r_edges[i + 1] * cos(t), py[k] = r_edges[i + 1] * sin(t);
                px[ARC + 1 + k] = r_edges[i] * cos(u), py[ARC + 1 + k] = r_edges[i] * sin(u);
            }
            plcol1(fmin(1, fmax(0, (log10(v) - lo) / (hi - lo))));
            plfill(2 * ARC + 2, px, py);
        }
    plcol0(1);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab("x [mm]", "y [mm]", title);
}

int eval_plot_image(const char *path, const char *title, const double *ref, const double *gen, int n_alpha, int n_r,
                  const double *r_edges)
{
    double hi = -INFINITY;
    for (int k = 0; k < n_alpha * n_r; k++) hi = fmax(hi, log10(fmax(fmax(ref[k], gen[k]), 1e-30)));
    double lo = hi - 4; /* four decades of colour */
    begin(path, 1250, 560);
    viridis();
    char t[160];
    snprintf(t, sizeof t, "reference, %s", title);
    polar_image(ref, n_alpha, n_r, r_edges, lo, hi, t, 0.08, 0.41, 0.12, 0.88);
    snprintf(t, sizeof t, "generated, %s", title);
    polar_image(gen, n_alpha, n_r, r_edges, lo, hi, t, 0.50, 0.83, 0.12, 0.88);
    /* colour bar: log10 of the mean voxel energy (MeV) */
    plvpor(0.08, 0.83, 0.12, 0.88);
    plwind(0, 1, 0, 1);
    PLFLT cw, ch, vals[1][256];
    for (int i = 0; i < 256; i++) vals[0][i] = lo + (hi - lo) * i / 255.0;
    PLINT nv[1] = {256}, lopt[1] = {PL_COLORBAR_LABEL_TOP};
    const char *lab[1] = {"mean voxel energy, log#d10#u(E/MeV)"}, *ax[1] = {"bcvtm"};
    PLFLT axt[1] = {0};
    PLINT axs[1] = {0};
    const PLFLT *vp[1] = {vals[0]};
    lopt[0] = PL_COLORBAR_LABEL_RIGHT;
    plcolorbar(&cw, &ch, PL_COLORBAR_GRADIENT, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.03, 0, 0.025, 0.8, 0, 1, 1,
               0, 0, 0, 0, 1, lopt, lab, 1, ax, axt, axs, nv, vp);
    return finish(path);
}

int eval_write_hist_csv(const char *path, const double *edges, const double *ref, const double *gen, int n)
{
    FILE *f = fopen(path, "w");
    if (!f) return base_error(BASE_EIO, "%s: cannot create", path);
    fprintf(f, "bin_low,bin_high,reference,generated\n");
    for (int i = 0; i < n; i++) fprintf(f, "%.9g,%.9g,%.17g,%.17g\n", edges[i], edges[i + 1], ref[i], gen[i]);
    int bad = ferror(f);
    return fclose(f) == 0 && !bad ? BASE_OK : base_error(BASE_EIO, "%s: write failed (disk full?)", path);
}
