/* vae/export/onnx.c: the decoder as an ONNX graph (see onnx.h). */
#include "vae/export/onnx.h"

#include "base/status.h"
#include "io/atomic.h"
#include "vae/showervae.h"

#include "onnx/onnx.pb-c.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OPSET 13
#define MAX_NODES 64
#define MAX_INIT 64
#define PAR04_MAX_MEV 1024000.0 /* Par04InferenceSetup's fMaxEnergy */

/* Every allocation of one export, freed together. */
typedef struct {
    void **p;
    size_t n, cap;
    int oom;
} pool_t;

static void *pool_add(pool_t *P, void *x)
{
    if (!x || P->oom) {
        free(x);
        P->oom = 1;
        return NULL;
    }
    if (P->n == P->cap) {
        size_t c = P->cap ? 2 * P->cap : 256;
        void **q = realloc(P->p, c * sizeof *q);
        if (!q) {
            free(x);
            P->oom = 1;
            return NULL;
        }
        P->p = q, P->cap = c;
    }
    return P->p[P->n++] = x;
}
static void *pool_calloc(pool_t *P, size_t n, size_t s) { return pool_add(P, calloc(n ? n : 1, s)); }
static char *pool_str(pool_t *P, const char *s) { return pool_add(P, strdup(s)); }
static void pool_free(pool_t *P)
{
    for (size_t i = 0; i < P->n; i++) free(P->p[i]);
    free(P->p);
}

/* The graph under construction. */
typedef struct {
    pool_t P;
    Onnx__NodeProto *node[MAX_NODES];
    Onnx__TensorProto *init[MAX_INIT];
    int n_node, n_init, tmp; /* tmp: counter of intermediate names */
} graph_t;

/* A fresh intermediate value name ("t7"). */
static char *fresh(graph_t *G)
{
    char s[32];
    snprintf(s, sizeof s, "t%d", G->tmp++);
    return pool_str(&G->P, s);
}

/* A new initializer of the given element type, shape dims (rank nd, copied) and name; NULL
 * (and the pool marked) when out of memory or of initializer slots. */
static Onnx__TensorProto *new_init(graph_t *G, const char *name, int32_t type, const int64_t *dims, int nd)
{
    Onnx__TensorProto *t = pool_calloc(&G->P, 1, sizeof *t);
    int64_t *d = pool_calloc(&G->P, (size_t)nd, sizeof *d);
    char *nm = pool_str(&G->P, name);
    if (!t || !d || !nm || G->n_init >= MAX_INIT) return G->P.oom = 1, NULL;
    onnx__tensor_proto__init(t);
    memcpy(d, dims, (size_t)nd * sizeof *d);
    t->n_dims = (size_t)nd, t->dims = d;
    t->has_data_type = 1, t->data_type = type;
    t->name = nm;
    return G->init[G->n_init++] = t;
}

/* Initializer name: float tensor of dims (rank nd) over data (not copied: must outlive the pack). */
static const char *init_f(graph_t *G, const char *name, const int64_t *dims, int nd, const float *data, size_t n)
{
    Onnx__TensorProto *t = new_init(G, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, dims, nd);
    if (t) t->n_float_data = n, t->float_data = (float *)data;
    return name;
}

/* A one-element float constant (copied). */
static const char *init_scalar(graph_t *G, const char *name, float v)
{
    float *x = pool_calloc(&G->P, 1, sizeof *x);
    if (x) *x = v;
    return init_f(G, name, (int64_t[]){1}, 1, x, 1);
}

/* A 1-D int64 constant of one element (copied). */
static const char *init_i64(graph_t *G, const char *name, int64_t v)
{
    Onnx__TensorProto *t = new_init(G, name, ONNX__TENSOR_PROTO__DATA_TYPE__INT64, (int64_t[]){1}, 1);
    int64_t *x = pool_calloc(&G->P, 1, sizeof *x);
    if (t && x) x[0] = v, t->n_int64_data = 1, t->int64_data = x;
    return name;
}

/* A node attribute of the given type (the caller sets its value); NULL when out of memory. */
static Onnx__AttributeProto *new_attr(graph_t *G, const char *name, Onnx__AttributeProto__AttributeType type)
{
    Onnx__AttributeProto *a = pool_calloc(&G->P, 1, sizeof *a);
    char *nm = pool_str(&G->P, name);
    if (!a || !nm) return NULL;
    onnx__attribute_proto__init(a);
    a->name = nm;
    a->has_type = 1, a->type = type;
    return a;
}

static Onnx__AttributeProto *attr_f(graph_t *G, const char *name, float f)
{
    Onnx__AttributeProto *a = new_attr(G, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    if (a) a->has_f = 1, a->f = f;
    return a;
}

static Onnx__AttributeProto *attr_i(graph_t *G, const char *name, int64_t i)
{
    Onnx__AttributeProto *a = new_attr(G, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    if (a) a->has_i = 1, a->i = i;
    return a;
}

/* Appends node op(inputs) -> out (a fresh name when out is NULL), with up to 2 attributes;
 * returns the output's name. */
static const char *node(graph_t *G, const char *op, const char *const *in, int nin, const char *out,
                        Onnx__AttributeProto *a0, Onnx__AttributeProto *a1)
{
    Onnx__NodeProto *n = pool_calloc(&G->P, 1, sizeof *n);
    char **ins = pool_calloc(&G->P, (size_t)nin, sizeof *ins), **outs = pool_calloc(&G->P, 1, sizeof *outs);
    Onnx__AttributeProto **at = pool_calloc(&G->P, 2, sizeof *at);
    if (!n || !ins || !outs || !at || G->n_node >= MAX_NODES) return G->P.oom = 1, "";
    onnx__node_proto__init(n);
    for (int i = 0; i < nin; i++) ins[i] = pool_str(&G->P, in[i]);
    outs[0] = out ? pool_str(&G->P, out) : fresh(G);
    n->n_input = (size_t)nin, n->input = ins;
    n->n_output = 1, n->output = outs;
    n->op_type = pool_str(&G->P, op);
    if (a0) at[n->n_attribute++] = a0;
    if (a1) at[n->n_attribute++] = a1;
    n->attribute = at;
    G->node[G->n_node++] = n;
    return outs[0] ? outs[0] : "";
}

/* Columns [lo, hi) of x (N, ...) along axis 1. */
static const char *slice(graph_t *G, const char *x, int lo, int hi)
{
    char s[48], e[48];
    snprintf(s, sizeof s, "start%d", lo), snprintf(e, sizeof e, "end%d", hi);
    const char *in[4] = {x, init_i64(G, s, lo), init_i64(G, e, hi), "axis1"};
    return node(G, "Slice", in, 4, NULL, NULL, NULL);
}

/* A value (batch, width) float. */
static Onnx__ValueInfoProto *value_info(graph_t *G, const char *name, int64_t width)
{
    Onnx__ValueInfoProto *v = pool_calloc(&G->P, 1, sizeof *v);
    Onnx__TypeProto *t = pool_calloc(&G->P, 1, sizeof *t);
    Onnx__TypeProto__Tensor *tt = pool_calloc(&G->P, 1, sizeof *tt);
    Onnx__TensorShapeProto *sh = pool_calloc(&G->P, 1, sizeof *sh);
    Onnx__TensorShapeProto__Dimension **d = pool_calloc(&G->P, 2, sizeof *d);
    Onnx__TensorShapeProto__Dimension *d0 = pool_calloc(&G->P, 1, sizeof *d0), *d1 = pool_calloc(&G->P, 1, sizeof *d1);
    if (!v || !t || !tt || !sh || !d || !d0 || !d1) return NULL;
    onnx__value_info_proto__init(v), onnx__type_proto__init(t), onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(sh), onnx__tensor_shape_proto__dimension__init(d0);
    onnx__tensor_shape_proto__dimension__init(d1);
    d0->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM, d0->dim_param = pool_str(&G->P, "batch");
    d1->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE, d1->dim_value = width;
    d[0] = d0, d[1] = d1;
    sh->n_dim = 2, sh->dim = d;
    tt->has_elem_type = 1, tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, tt->shape = sh;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE, t->tensor_type = tt;
    v->name = pool_str(&G->P, name), v->type = t;
    return v;
}

/* The decoder's input [z, the model's conditions] from Par04's [z, e, a, g]:
 *   u = (ln(e 1024 GeV) - ln E_min) / (ln E_max - ln E_min) = ln(e) / span + (ln 1024 GeV - ln E_min) / span. */
static const char *conditions(graph_t *G, const vae_config_t *c, const char *x)
{
    const int Z = c->Z;
    const char *parts[6];
    int k = 0;
    init_i64(G, "axis1", 1);
    parts[k++] = slice(G, x, 0, Z);
    const char *e = slice(G, x, Z, Z + 1);
    if (c->conditions & VAE_COND_LOG_ENERGY) {
        const double span = log(c->e_max_mev) - log(c->e_min_mev);
        const char *le = node(G, "Log", &e, 1, NULL, NULL, NULL);
        const char *m[2] = {le, init_scalar(G, "inv_span", (float)(1 / span))};
        const char *s = node(G, "Mul", m, 2, NULL, NULL, NULL);
        const char *a[2] = {s, init_scalar(G, "shift", (float)((log(PAR04_MAX_MEV) - log(c->e_min_mev)) / span))};
        parts[k++] = node(G, "Add", a, 2, NULL, NULL, NULL);
    }
    if (c->conditions & VAE_COND_ENERGY) parts[k++] = e;
    if (c->conditions & VAE_COND_ANGLE) parts[k++] = slice(G, x, Z + 1, Z + 2);
    if (c->conditions & VAE_COND_GEOMETRY) parts[k++] = slice(G, x, Z + 2, Z + 4);
    return node(G, "Concat", parts, k, NULL, attr_i(G, "axis", 1), NULL);
}

/* Activation node after a hidden layer. */
static const char *activation(graph_t *G, layer_act_spec_t a, const char *x)
{
    switch (a.kind) {
    case LAYER_ACT_IDENTITY: return x;
    case LAYER_ACT_RELU: return node(G, "Relu", &x, 1, NULL, NULL, NULL);
    case LAYER_ACT_LEAKY_RELU: return node(G, "LeakyRelu", &x, 1, NULL, attr_f(G, "alpha", a.alpha), NULL);
    case LAYER_ACT_SIGMOID: return node(G, "Sigmoid", &x, 1, NULL, NULL, NULL);
    case LAYER_ACT_TANH: return node(G, "Tanh", &x, 1, NULL, NULL, NULL);
    case LAYER_ACT_SOFTPLUS: return node(G, "Softplus", &x, 1, NULL, NULL, NULL);
    }
    return x;
}

int vae_export_regular_grid(const phys_geometry_t *g)
{
    for (int l = 1; l < g->n_layers; l++)
        if (g->n_r[l] != g->n_r[0] || g->n_alpha[l] != g->n_alpha[0]) return 0;
    return g->n_layers > 0 && g->n_r[0] > 0;
}

/* The head's weights and biases with output rows in Par04's order: row p = (r n_phi + a) n_z + l
 * takes the CaloChallenge row (l n_alpha + a) n_r + r (physics/geometry.h phys_par04_to_cc). */
static int permute_head(graph_t *G, const phys_geometry_t *g, const float *W, const float *b, int in, float **Wp,
                        float **bp)
{
    const int R = g->n_r[0], P = g->n_alpha[0], L = g->n_layers;
    *Wp = pool_calloc(&G->P, (size_t)R * P * L * in, sizeof(float));
    *bp = pool_calloc(&G->P, (size_t)R * P * L, sizeof(float));
    if (!*Wp || !*bp) return base_error(BASE_ENOMEM, "export: out of memory");
    for (int r = 0; r < R; r++)
        for (int a = 0; a < P; a++)
            for (int l = 0; l < L; l++) {
                size_t p = ((size_t)r * P + a) * L + l, v = ((size_t)l * P + a) * R + r;
                memcpy(*Wp + p * in, W + v * in, (size_t)in * sizeof(float));
                (*bp)[p] = b[v];
            }
    return BASE_OK;
}

/* The dense chain from h: Gemm (W (out, in), transB) + activation per layer; the head's
 * weights possibly permuted. Returns the head's output name. */
static const char *dense_chain(graph_t *G, const vae_chain_t *d, const float *Wh, const float *bh, const char *h)
{
    for (int i = 0; i <= d->n; i++) {
        const layer_dense_t *L = &d->d[i];
        const int in = L->cfg.in, out = L->cfg.out;
        char wn[32], bn[32];
        snprintf(wn, sizeof wn, "dense%d.weight", i), snprintf(bn, sizeof bn, "dense%d.bias", i);
        const float *W = i == d->n && Wh ? Wh : layer_dense_w(L), *b = i == d->n && bh ? bh : layer_dense_b(L);
        const char *gin[3] = {h, init_f(G, wn, (int64_t[]){out, in}, 2, W, (size_t)out * in),
                              init_f(G, bn, (int64_t[]){out}, 1, b, (size_t)out)};
        h = node(G, "Gemm", gin, 3, NULL, attr_i(G, "transB", 1), NULL);
        if (i < d->n) h = activation(G, L->cfg.act, h);
    }
    return h;
}

/* Serialises the model to path (temporary name, then renamed). */
static int write_model(Onnx__ModelProto *m, const char *path, int force)
{
    char tmp[1200];
    size_t n = onnx__model_proto__get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return base_error(BASE_ENOMEM, "export: out of memory for %zu bytes", n);
    onnx__model_proto__pack(m, buf);
    int rc = io_atomic_begin(path, force, tmp, sizeof tmp);
    FILE *f = rc == BASE_OK ? fopen(tmp, "wb") : NULL;
    if (rc == BASE_OK && !f) rc = base_error(BASE_EIO, "%s: cannot create (%s)", tmp, strerror(errno));
    if (f) {
        int ok = fwrite(buf, 1, n, f) == n;
        ok &= fclose(f) == 0;
        if (!ok) {
            unlink(tmp);
            rc = base_error(BASE_EIO, "%s: write failed (%s)", path, strerror(errno));
        }
    }
    free(buf);
    return rc == BASE_OK ? io_atomic_commit(tmp, path, force) : rc;
}

int vae_export_onnx(const vae_infer_t *q, const phys_geometry_t *g, const char *path, int raw, int force,
                    int *par04_order)
{
    const vae_config_t *c = &q->cfg;
    if (!raw && c->lik != VAE_LIK_BERNOULLI)
        return base_error(BASE_EINVAL, "export: a %s model's decoder gives likelihood parameters, not the energy fractions "
                          "Par04 reads (use --raw to export them and sample in the caller)", vae_likelihood_name(c->lik));
    graph_t G = {0};
    const int perm = !raw && vae_export_regular_grid(g) && c->V == g->n_voxels;
    const int head_in = q->dec.d[q->dec.n].cfg.in;
    float *Wh = NULL, *bh = NULL;
    int rc = perm ? permute_head(&G, g, layer_dense_w(&q->dec.d[q->dec.n]), layer_dense_b(&q->dec.d[q->dec.n]), head_in,
                                 &Wh, &bh)
                  : BASE_OK;
    const char *h = conditions(&G, c, "input");
    h = dense_chain(&G, &q->dec, Wh, bh, h);
    if (!raw) node(&G, "Sigmoid", &h, 1, "output", NULL, NULL);
    else node(&G, "Identity", &h, 1, "output", NULL, NULL);
    Onnx__GraphProto gr = ONNX__GRAPH_PROTO__INIT;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__ValueInfoProto *vin = value_info(&G, "input", c->Z + 4), *vout = value_info(&G, "output", vae_config_n_out(c));
    if (rc == BASE_OK && (G.P.oom || !vin || !vout)) rc = base_error(BASE_ENOMEM, "export: out of memory");
    if (rc == BASE_OK) {
        gr.name = "showervae_decoder";
        gr.n_node = (size_t)G.n_node, gr.node = G.node;
        gr.n_initializer = (size_t)G.n_init, gr.initializer = G.init;
        gr.n_input = 1, gr.input = &vin;
        gr.n_output = 1, gr.output = &vout;
        op.domain = "", op.has_version = 1, op.version = OPSET;
        Onnx__OperatorSetIdProto *ops[1] = {&op};
        m.has_ir_version = 1, m.ir_version = 8;
        m.n_opset_import = 1, m.opset_import = ops;
        m.producer_name = "showervae", m.producer_version = SHOWERVAE_VERSION_STRING;
        m.doc_string = raw ? "showervae decoder: input [z, E/1024 GeV, angle/90, geometry one-hot]; output: the "
                             "likelihood parameters"
                           : "showervae decoder: input [z, E/1024 GeV, angle/90, geometry one-hot]; output: "
                             "E_cell/E_inc per voxel";
        m.graph = &gr;
        rc = write_model(&m, path, force);
    }
    if (par04_order) *par04_order = perm;
    pool_free(&G.P);
    return rc;
}
