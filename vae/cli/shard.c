/* vae/cli/shard.c: sharded outputs (see shard.h). */
#include "vae/cli/shard.h"

#include "base/clock.h"
#include "base/status.h"
#include "vae/cli/mpi.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Rank k's shard name beside out. */
static void shard_name(const char *out, int k, int n, char *path, size_t len)
{
    const char *b = strrchr(out, '/');
    if (b) snprintf(path, len, "%.*s/.%s.shard-%d-of-%d", (int)(b - out), out, b + 1, k, n);
    else snprintf(path, len, ".%s.shard-%d-of-%d", out, k, n);
}

int cli_shard_open(cli_shard_t *s, io_writer_t *w, const char *out, uint64_t n, const phys_geometry_t *g,
                   io_writer_opts_t wo)
{
    memset(s, 0, sizeof *s);
    s->out = out;
    s->sharded = cli_mpi_size() > 1;
    cli_mpi_share(n, io_writer_chunk_rows(&wo, g), cli_mpi_rank(), &s->lo, &s->hi);
    if (!s->sharded) {
        snprintf(s->path, sizeof s->path, "%s", out);
        return io_writer_open(w, out, g, &wo);
    }
    shard_name(out, cli_mpi_rank(), cli_mpi_size(), s->path, sizeof s->path);
    int rc = !wo.force && access(out, F_OK) == 0 ? base_error(BASE_EEXIST, "%s: exists (use --force to replace it)", out)
                                                  : BASE_OK;
    BASE_TRY(cli_mpi_agree(rc));
    wo.force = 1; /* a shard replaces a leftover of a killed run */
    wo.unsynced = 1; /* read back by rank 0 at once; only the joined output is flushed to disk */
    int opened = io_writer_open(w, s->path, g, &wo), all = cli_mpi_agree(opened);
    if (all < 0 && opened == BASE_OK) io_writer_abort(w);
    return all;
}

/* Rank 0: the output from the shards in rank order. */
static int join(const cli_shard_t *s, const phys_geometry_t *g, io_writer_opts_t wo, cli_attrs_fn attrs,
                const void *ctx)
{
    char p[1200];
    io_writer_t w;
    wo.threads = 0; /* the chunks arrive compressed */
    BASE_TRY(io_writer_open(&w, s->out, g, &wo));
    const double t0 = base_now();
    int rc = BASE_OK;
    for (int k = 0; k < cli_mpi_size() && rc == BASE_OK; k++) {
        shard_name(s->out, k, cli_mpi_size(), p, sizeof p);
        rc = io_writer_append_shard(&w, p);
    }
    if (rc == BASE_OK) rc = attrs(&w, ctx);
    if (rc == BASE_OK) rc = io_writer_close(&w);
    else io_writer_abort(&w);
    if (rc == BASE_OK && s->say)
        fprintf(stderr, "%s: joined %d rank files in %.2f s (compressed chunks copied)\n", s->say, cli_mpi_size(),
                base_now() - t0);
    return rc;
}

int cli_shard_finish(const cli_shard_t *s, io_writer_t *w, const phys_geometry_t *g, io_writer_opts_t wo,
                     cli_attrs_fn attrs, const void *ctx, int rc)
{
    if (!s->sharded && rc == BASE_OK) rc = attrs(w, ctx);
    if (rc == BASE_OK) rc = io_writer_close(w);
    else io_writer_abort(w);
    if (!s->sharded) return rc;
    rc = cli_mpi_agree(rc);
    if (rc == BASE_OK && cli_mpi_rank() == 0) rc = join(s, g, wo, attrs, ctx);
    rc = cli_mpi_agree(rc);
    if (cli_mpi_rank() == 0) {
        char p[1200];
        for (int k = 0; k < cli_mpi_size(); k++) {
            shard_name(s->out, k, cli_mpi_size(), p, sizeof p);
            unlink(p);
        }
    }
    return rc;
}
