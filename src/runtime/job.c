/*
 * runtime/job.c: building a job graph, checking it, and wiring instances and channels.
 *
 * The graph is checked at start, before anything is allocated for it: unknown names and
 * bad parallelism are refused when added or connected; a cycle, a source with inputs, an
 * operator with no inputs that is not a source, a FORWARD edge between different
 * parallelisms are refused at start. Each refusal names the operator or edge.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/error.h"

#define STROM_DEFAULT_KEY_GROUPS 256
#define STROM_DEFAULT_BATCH 1024
#define STROM_DEFAULT_RING 16
#define STROM_MAX_KEY_GROUPS 65536
#define STROM_MAX_PARALLELISM 1024

double strom_rt__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int strom_rt__set_error(struct strom_job *job, int rc, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&job->err_lock);
    /* once the job has failed, its message is the cause; later ones are consequences */
    if (!job->failed) {
        va_start(ap, fmt);
        vsnprintf(job->errmsg, sizeof job->errmsg, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&job->err_lock);
    return rc;
}

int strom_rt__fail(struct strom_job *job, int rc)
{
    pthread_mutex_lock(&job->err_lock);
    if (!job->failed) {
        job->failed = true;
        atomic_store(&job->result, rc);
    }
    pthread_mutex_unlock(&job->err_lock);
    atomic_store(&job->stop, 1);
    return rc;
}

const char *strom_job_errmsg(const struct strom_job *job)
{
    return job && job->errmsg[0] ? job->errmsg : "";
}

struct strom_node *strom_rt__find(struct strom_job *job, const char *name)
{
    for (unsigned i = 0; i < job->n_nodes; i++)
        if (!strcmp(job->nodes[i]->name, name))
            return job->nodes[i];
    return NULL;
}

unsigned strom_key_group(uint64_t key, unsigned g)
{
    return g ? strom_hash_keygroup(strom_hash64(key), g) : 0;
}

int strom_job_new(struct strom_job **out, const struct strom_job_config *cfg)
{
    struct strom_job *job;
    long cores;

    *out = NULL;
    job = calloc(1, sizeof *job);
    if (!job)
        return -ENOMEM;
    if (cfg)
        job->cfg = *cfg;
    cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (!job->cfg.threads)
        job->cfg.threads = cores > 0 ? (unsigned)cores : 1;
    if (!job->cfg.key_groups)
        job->cfg.key_groups = STROM_DEFAULT_KEY_GROUPS;
    if (!job->cfg.batch_events)
        job->cfg.batch_events = STROM_DEFAULT_BATCH;
    if (!job->cfg.ring_batches)
        job->cfg.ring_batches = STROM_DEFAULT_RING;
    pthread_mutex_init(&job->err_lock, NULL);
    if (job->cfg.key_groups > STROM_MAX_KEY_GROUPS || job->cfg.threads > 1024 ||
        job->cfg.batch_events > (1u << 20) || job->cfg.ring_batches > (1u << 16)) {
        strom_rt__set_error(job, STROM_E_INVAL,
                            "job configuration out of range: threads %u (max 1024), key "
                            "groups %u (max %u), batch %u events (max %u), ring %u batches "
                            "(max %u)",
                            job->cfg.threads, job->cfg.key_groups, STROM_MAX_KEY_GROUPS,
                            job->cfg.batch_events, 1u << 20, job->cfg.ring_batches, 1u << 16);
        strom_job_free(job);
        return STROM_E_INVAL;
    }
    job->batch_bytes = sizeof(struct strom_batch) +
                       (size_t)job->cfg.batch_events * sizeof(struct strom_event);
    *out = job;
    return 0;
}

int strom_job_add(struct strom_job *job, const char *name, const struct strom_operator *op,
                  void *arg, unsigned parallelism)
{
    struct strom_node *n;

    if (!job)
        return STROM_E_INVAL;
    if (job->started)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "cannot add operator to a job that has started");
    if (!name || !*name || strlen(name) >= STROM_NAME_MAX)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "operator name must be 1 to %d characters",
                                   STROM_NAME_MAX - 1);
    if (!op)
        return strom_rt__set_error(job, STROM_E_INVAL, "operator '%s': no descriptor", name);
    if (!op->produce && !op->process)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "operator '%s': needs produce (a source) or process", name);
    if (parallelism == 0 || parallelism > STROM_MAX_PARALLELISM ||
        parallelism > job->cfg.key_groups)
        return strom_rt__set_error(job, STROM_E_PARALLELISM,
                                   "operator '%s': parallelism %u, must be 1 to %u (the "
                                   "job's key groups, at most %u)",
                                   name, parallelism, job->cfg.key_groups,
                                   STROM_MAX_PARALLELISM);
    if (strom_rt__find(job, name))
        return strom_rt__set_error(job, STROM_E_EXISTS, "operator '%s' added twice", name);
    if (job->n_nodes == job->cap_nodes) {
        unsigned cap = job->cap_nodes ? job->cap_nodes * 2 : 8;
        struct strom_node **nn = realloc(job->nodes, cap * sizeof *nn);
        if (!nn)
            return -ENOMEM;
        job->nodes = nn;
        job->cap_nodes = cap;
    }
    n = calloc(1, sizeof *n);
    if (!n)
        return -ENOMEM;
    snprintf(n->name, sizeof n->name, "%s", name);
    n->op = op;
    n->arg = arg;
    n->par = parallelism;
    job->nodes[job->n_nodes++] = n;
    return 0;
}

int strom_job_connect(struct strom_job *job, const char *from, const char *to,
                      enum strom_partition how)
{
    struct strom_node *a, *b;

    if (!job)
        return STROM_E_INVAL;
    if (job->started)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "cannot connect operators of a job that has started");
    a = from ? strom_rt__find(job, from) : NULL;
    b = to ? strom_rt__find(job, to) : NULL;
    if (!a || !b)
        return strom_rt__set_error(job, STROM_E_NOTFOUND,
                                   "connect '%s' -> '%s': no operator named '%s'",
                                   from ? from : "(null)", to ? to : "(null)",
                                   !a ? (from ? from : "(null)") : (to ? to : "(null)"));
    if ((unsigned)how > STROM_GLOBAL)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "connect '%s' -> '%s': unknown partitioning %d", from, to,
                                   (int)how);
    for (unsigned i = 0; i < job->n_edges; i++)
        if (job->edges[i].from == a && job->edges[i].to == b)
            return strom_rt__set_error(job, STROM_E_EXISTS,
                                       "connect '%s' -> '%s': already connected", from, to);
    if (job->n_edges == job->cap_edges) {
        unsigned cap = job->cap_edges ? job->cap_edges * 2 : 8;
        struct strom_edge *ne = realloc(job->edges, cap * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        job->edges = ne;
        job->cap_edges = cap;
    }
    job->edges[job->n_edges++] = (struct strom_edge){.from = a, .to = b, .how = how};
    a->n_out_edges++;
    b->n_in_edges++;
    return 0;
}

/* Depth-first search from n; 1 = on the current path, 2 = done. */
static int find_cycle(struct strom_job *job, struct strom_node *n, struct strom_node **order,
                      unsigned *n_order)
{
    n->visit = 1;
    for (unsigned i = 0; i < job->n_edges; i++) {
        struct strom_edge *e = &job->edges[i];
        if (e->from != n)
            continue;
        if (e->to->visit == 1)
            return strom_rt__set_error(job, STROM_E_CYCLE,
                                       "the job graph has a cycle through '%s' -> '%s'",
                                       n->name, e->to->name);
        if (!e->to->visit) {
            int rc = find_cycle(job, e->to, order, n_order);
            if (rc)
                return rc;
        }
    }
    n->visit = 2;
    order[(*n_order)++] = n; /* reverse topological order */
    return 0;
}

static int check_graph(struct strom_job *job)
{
    struct strom_node **order;
    unsigned n_order = 0;
    int rc = 0;

    if (!job->n_nodes)
        return strom_rt__set_error(job, STROM_E_GRAPH, "the job has no operators");
    for (unsigned i = 0; i < job->n_nodes; i++) {
        struct strom_node *n = job->nodes[i];
        if (n->op->produce && n->n_in_edges)
            return strom_rt__set_error(job, STROM_E_GRAPH,
                                       "'%s' is a source (%s) and cannot have inputs", n->name,
                                       n->op->kind ? n->op->kind : "?");
        if (!n->op->produce && !n->n_in_edges)
            return strom_rt__set_error(job, STROM_E_GRAPH,
                                       "'%s' is not a source and has no input edge", n->name);
        if (!n->op->produce && !n->op->process)
            return strom_rt__set_error(job, STROM_E_GRAPH, "'%s' has no process callback",
                                       n->name);
    }
    for (unsigned i = 0; i < job->n_edges; i++) {
        struct strom_edge *e = &job->edges[i];
        if (e->how == STROM_FORWARD && e->from->par != e->to->par)
            return strom_rt__set_error(job, STROM_E_PARALLELISM,
                                       "forward edge '%s' (parallelism %u) -> '%s' "
                                       "(parallelism %u) needs equal parallelism",
                                       e->from->name, e->from->par, e->to->name, e->to->par);
    }
    order = calloc(job->n_nodes, sizeof *order);
    if (!order)
        return -ENOMEM;
    for (unsigned i = 0; i < job->n_nodes; i++)
        job->nodes[i]->visit = 0;
    for (unsigned i = 0; i < job->n_nodes && !rc; i++)
        if (!job->nodes[i]->visit)
            rc = find_cycle(job, job->nodes[i], order, &n_order);
    if (!rc) /* topological order: sources first */
        for (unsigned i = 0; i < n_order; i++)
            job->nodes[i] = order[n_order - 1 - i];
    free(order);
    return rc;
}

static int new_chan(struct strom_job *job, struct strom_ctx *from, struct strom_ctx *to,
                    struct strom_chan **out)
{
    struct strom_chan *ch = calloc(1, sizeof *ch);
    int rc;
    if (!ch)
        return -ENOMEM;
    ch->from = from;
    ch->to = to;
    ch->watermark = STROM_TIME_MIN;
    job->chans[job->n_chans++] = ch; /* owned by the job from here, even half-built */
    rc = strom_ring_init(&ch->data, job->cfg.ring_batches);
    if (!rc)
        rc = strom_ring_init(&ch->free, job->cfg.ring_batches);
    if (rc)
        return rc;
    to->in[to->n_in++] = ch;
    *out = ch;
    return 0;
}

/* Channels into each instance of n: one from every upstream instance linked to it (at
 * most; FORWARD and GLOBAL link fewer). */
static unsigned n_inputs(const struct strom_job *job, const struct strom_node *n)
{
    unsigned need = 0;
    for (unsigned k = 0; k < job->n_edges; k++)
        if (job->edges[k].to == n)
            need += job->edges[k].from->par;
    return need;
}

/* Instances, owner tables, keyed state and channels for a checked graph. */
static int wire(struct strom_job *job)
{
    unsigned total = 0, n_chans = 0, G = job->cfg.key_groups;
    int rc;

    for (unsigned i = 0; i < job->n_nodes; i++)
        total += job->nodes[i]->par;
    for (unsigned i = 0; i < job->n_edges; i++) {
        struct strom_edge *e = &job->edges[i];
        n_chans += (e->how == STROM_BY_KEY || e->how == STROM_BROADCAST)
                       ? e->from->par * e->to->par
                       : e->from->par;
    }
    job->all = calloc(total, sizeof *job->all);
    job->chans = calloc(n_chans ? n_chans : 1, sizeof *job->chans);
    if (!job->all || !job->chans)
        return -ENOMEM;

    for (unsigned i = 0; i < job->n_nodes; i++) {
        struct strom_node *n = job->nodes[i];
        n->inst = calloc(n->par, sizeof *n->inst);
        n->owner = calloc(G, sizeof *n->owner);
        if (!n->inst || !n->owner)
            return -ENOMEM;
        /* contiguous ranges of key groups, as evenly as they divide */
        for (unsigned kg = 0; kg < G; kg++)
            n->owner[kg] = (uint32_t)((uint64_t)kg * n->par / G);
        for (unsigned j = 0; j < n->par; j++) {
            struct strom_ctx *c = calloc(1, sizeof *c);
            if (!c)
                return -ENOMEM;
            c->global_idx = job->n_all;
            job->all[job->n_all++] = c;
            n->inst[j] = c;
            c->job = job;
            c->node = n;
            c->idx = j;
            /* round robin over all instances: operators of parallelism 1 (sources,
             * sinks) spread over the threads instead of piling onto the first */
            c->thread = (job->n_all - 1) % job->cfg.threads;
            c->watermark = STROM_TIME_MIN;
            c->in = calloc(n_inputs(job, n) + 1, sizeof *c->in);
            c->out = calloc(n->n_out_edges ? n->n_out_edges : 1, sizeof *c->out);
            if (!c->in || !c->out)
                return -ENOMEM;
            if (n->op->record_size) {
                rc = strom_kstate_new(&c->ks, G, n->op->record_size, n->op->codec);
                if (rc)
                    return rc;
                for (unsigned kg = 0; kg < G; kg++)
                    if (n->owner[kg] == j && (rc = strom_kstate_own(c->ks, kg)))
                        return rc;
            }
        }
    }
    for (unsigned k = 0; k < job->n_edges; k++) {
        struct strom_edge *e = &job->edges[k];
        for (unsigned i = 0; i < e->from->par; i++) {
            struct strom_ctx *src = e->from->inst[i];
            struct strom_out *o = &src->out[src->n_out++];
            o->how = e->how;
            o->to = e->to;
            o->dest = calloc(e->to->par, sizeof *o->dest);
            if (!o->dest)
                return -ENOMEM;
            for (unsigned j = 0; j < e->to->par; j++) {
                bool link = e->how == STROM_BY_KEY || e->how == STROM_BROADCAST ||
                            (e->how == STROM_FORWARD && i == j) ||
                            (e->how == STROM_GLOBAL && j == 0);
                if (link && (rc = new_chan(job, src, e->to->inst[j], &o->dest[j])))
                    return rc;
            }
        }
    }
    return 0;
}

int strom_job_start(struct strom_job *job)
{
    int rc;

    if (!job)
        return STROM_E_INVAL;
    if (job->started)
        return strom_rt__set_error(job, STROM_E_BADSTATE, "the job was already started");
    rc = check_graph(job);
    if (!rc)
        rc = wire(job);
    if (!rc)
        rc = strom_rt__remote_place(job);
    if (!rc)
        rc = strom_rt__cp_prepare(job);
    if (rc) {
        if (!job->errmsg[0])
            strom_rt__set_error(job, rc, "cannot build the job: %s", strom_strerror(rc));
        return rc;
    }
    if ((rc = strom_rt__cp_restore(job))) {
        if (!job->errmsg[0])
            strom_rt__set_error(job, rc, "cannot restore the job: %s", strom_strerror(rc));
        return rc;
    }
    job->started = true;
    if ((rc = strom_rt__start_threads(job)))
        return rc;
    return strom_rt__cp_start(job);
}

int strom_job_run(struct strom_job *job)
{
    int rc = strom_job_start(job);
    return rc ? rc : strom_job_wait(job);
}

void strom_job_get_stats(const struct strom_job *job, struct strom_job_stats *st)
{
    memset(st, 0, sizeof *st);
    for (unsigned i = 0; i < job->n_all; i++) {
        if (!strom_rt__local(job->all[i]))
            continue;
        st->events_in += job->all[i]->events_in;
        st->stalls += job->all[i]->stalls;
    }
    st->batches = atomic_load(&((struct strom_job *)job)->batches);
    st->seconds = job->seconds;
}

unsigned strom_job_threads(const struct strom_job *job) { return job->cfg.threads; }
unsigned strom_job_key_groups(const struct strom_job *job) { return job->cfg.key_groups; }

static void free_batches(struct strom_ring *r)
{
    void *p;
    if (r->slots)
        while ((p = strom_ring_pop(r)))
            free(p);
    strom_ring_release(r);
}

void strom_job_free(struct strom_job *job)
{
    if (!job)
        return;
    if (job->started && !job->joined) {
        atomic_store(&job->stop, 1);
        strom_job_wait(job);
    }
    for (unsigned i = 0; i < job->n_chans; i++) {
        struct strom_chan *ch = job->chans[i];
        struct strom_batch *b = ch->ovf_head;
        while (b) {
            struct strom_batch *nx = b->next;
            free(b);
            b = nx;
        }
        free(ch->open);
        free_batches(&ch->data);
        free_batches(&ch->free);
        free(ch);
    }
    for (unsigned i = 0; i < job->n_all; i++) {
        struct strom_ctx *c = job->all[i];
        for (unsigned k = 0; k < c->n_out; k++)
            free(c->out[k].dest);
        free(c->out);
        free(c->in);
        strom_kstate_free(c->ks);
        free(c);
    }
    for (unsigned i = 0; i < job->n_nodes; i++) {
        free(job->nodes[i]->inst);
        free(job->nodes[i]->owner);
        free(job->nodes[i]);
    }
    free(job->nodes);
    free(job->edges);
    free(job->chans);
    free(job->all);
    free(job->threads);
    strom_rt__cp_free(job);
    strom_rt__remote_free(job);
    pthread_mutex_destroy(&job->err_lock);
    free(job);
}
