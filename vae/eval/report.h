/* vae/eval/report.h: the plots (PLplot, PNG through the cairo driver) and files of an evaluation
 * report. Program side: PLplot may print warnings to stderr.
 *
 * Every plot compares the reference (thick grey line) and the generated sample (blue line) and
 * has a ratio panel gen/ref below, with the axis labels and units given by the caller.
 */
#ifndef IO_REPORT_H
#define IO_REPORT_H

/* Histogram: edges (n + 1), contents ref, gen (n), normalised to unit area by the plot.
 * logx: the edges are logarithmic (drawn on a log10 axis); logy: log10 y axis. */
int eval_plot_hist(const char *path, const char *title, const char *xlabel, const double *edges, const double *ref,
                 const double *gen, int n, int logx, int logy);
/* Profile: y(x) at n points for ref and gen (e.g. mean energy per layer). */
int eval_plot_profile(const char *path, const char *title, const char *xlabel, const char *ylabel, const double *x,
                    const double *ref, const double *gen, int n, int logy);
/* Mean shower image of one layer group: (n_alpha, n_r) mean energies (MeV) of ref and gen
 * side by side, radius (mm, edges r_edges (n_r + 1)) horizontally, angle bin vertically,
 * log10 colour scale. */
int eval_plot_image(const char *path, const char *title, const double *ref, const double *gen, int n_alpha, int n_r,
                  const double *r_edges);
/* One panel of a small-multiples grid: a histogram (edges n + 1, raw contents ref and gen,
 * drawn normalised to unit area) and its title. */
typedef struct {
    const double *edges, *ref, *gen;
    int n, logx;
    const char *title;
} eval_panel_t;
/* np panels (e.g. one feature in every layer) on one page, reference grey and generated blue,
 * no y scale (shapes); the page's caption (what, unit) belongs to the page that shows it. */
int eval_plot_grid(const char *path, int np, const eval_panel_t *pan);
/* Training curves against epoch (n points): -ELBO and KL per shower, training (grey) and
 * validation (blue) in two panels. */
int eval_plot_curves(const char *path, const double *epoch, const double *tr_loss, const double *va_loss,
                     const double *tr_kl, const double *va_kl, int n);
/* CSV of a histogram: bin_low,bin_high,reference,generated (raw counts). */
int eval_write_hist_csv(const char *path, const double *edges, const double *ref, const double *gen, int n);

#endif
