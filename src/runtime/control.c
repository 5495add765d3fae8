/*
 * runtime/control.c: moving key groups between instances of a paused job.
 *
 * While the job is paused nothing is in flight (runtime_int.h, "Pausing"), so a key group
 * can be snapshotted from its owner, restored into another instance and rerouted in one
 * step: the events that follow go to the new owner, which has exactly the state the old one
 * had. This is the stop-the-world form of the live migration protocol of DESIGN.md.
 * Also: cancelling a running job.
 */
#include <errno.h>
#include <stdio.h>

#include "runtime/runtime_int.h"
#include "state/state.h"
#include "strom/error.h"

static int paused_node(struct strom_job *job, const char *name, unsigned kg,
                       struct strom_node **out)
{
    struct strom_node *n;
    if (!job)
        return STROM_E_INVAL;
    if (job->started && !job->quiesced)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "key groups can be moved only while the job is paused");
    if (!job->started || job->joined)
        return strom_rt__set_error(job, STROM_E_BADSTATE,
                                   "key groups can be moved only in a running, paused job");
    n = name ? strom_rt__find(job, name) : NULL;
    if (!n)
        return strom_rt__set_error(job, STROM_E_NOTFOUND, "no operator named '%s'",
                                   name ? name : "(null)");
    if (kg >= job->cfg.key_groups)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "key group %u out of range (the job has %u)", kg,
                                   job->cfg.key_groups);
    if (!n->op->record_size)
        return strom_rt__set_error(job, STROM_E_INVAL, "'%s' keeps no keyed state", name);
    *out = n;
    return 0;
}

int strom_job_owner(struct strom_job *job, const char *name, unsigned kg, unsigned *instance)
{
    struct strom_node *n = job && name ? strom_rt__find(job, name) : NULL;
    if (!n)
        return job ? strom_rt__set_error(job, STROM_E_NOTFOUND, "no operator named '%s'",
                                         name ? name : "(null)")
                   : STROM_E_INVAL;
    if (!n->owner || kg >= job->cfg.key_groups)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "'%s': no key group %u (job not started, or out of range)",
                                   name, kg);
    *instance = n->owner[kg];
    return 0;
}

int strom_job_snapshot_keygroup(struct strom_job *job, const char *name, unsigned kg,
                                struct strom_buf *out)
{
    struct strom_node *n;
    int rc = paused_node(job, name, kg, &n);
    if (rc)
        return rc;
    rc = strom_kstate_snapshot(n->inst[n->owner[kg]]->ks, kg, out);
    if (rc)
        return strom_rt__set_error(job, rc, "snapshot of key group %u of '%s': %s", kg, name,
                                   strom_strerror(rc));
    return 0;
}

int strom_job_restore_keygroup(struct strom_job *job, const char *name, unsigned kg,
                               unsigned instance, const uint8_t *bytes, size_t len)
{
    struct strom_node *n;
    struct strom_ctx *from, *to;
    char err[256] = "";
    int rc = paused_node(job, name, kg, &n);

    if (rc)
        return rc;
    if (instance >= n->par)
        return strom_rt__set_error(job, STROM_E_INVAL,
                                   "'%s' has no instance %u (parallelism %u)", name, instance,
                                   n->par);
    /* by key, an event follows its key group; by broadcast every instance sees it; but
     * forward and global edges deliver to a fixed instance, whatever the key */
    for (unsigned i = 0; i < job->n_edges; i++)
        if (job->edges[i].to == n && job->edges[i].how != STROM_BY_KEY &&
            job->edges[i].how != STROM_BROADCAST)
            return strom_rt__set_error(job, STROM_E_GRAPH,
                                       "'%s' has an input from '%s' that is neither by key nor "
                                       "broadcast; its key groups cannot move",
                                       name, job->edges[i].from->name);
    from = n->inst[n->owner[kg]];
    to = n->inst[instance];
    if (from == to) {
        /* replacing the owner's own copy: check the bytes on a scratch state first, so
         * that a bad snapshot leaves the key group as it was */
        struct strom_kstate *tmp;
        if (!(rc = strom_kstate_new(&tmp, job->cfg.key_groups, n->op->record_size,
                                    n->op->codec))) {
            rc = strom_kstate_restore(tmp, kg, bytes, len, err, sizeof err);
            strom_kstate_free(tmp);
        }
        if (!rc)
            strom_kstate_drop(from->ks, kg);
    }
    if (!rc)
        rc = strom_kstate_restore(to->ks, kg, bytes, len, err, sizeof err);
    if (rc) /* restore changes nothing on failure: the old owner keeps the key group */
        return strom_rt__set_error(job, rc,
                                   "restore of key group %u of '%s' into instance %u: %s", kg,
                                   name, instance, err[0] ? err : strom_strerror(rc));
    if (from != to)
        strom_kstate_drop(from->ks, kg);
    n->owner[kg] = instance;
    return 0;
}

int strom_job_move_keygroup(struct strom_job *job, const char *name, unsigned kg,
                            unsigned instance)
{
    struct strom_buf b = {0};
    int rc = strom_job_snapshot_keygroup(job, name, kg, &b);
    if (!rc)
        rc = strom_job_restore_keygroup(job, name, kg, instance, b.data, b.len);
    strom_buf_release(&b);
    return rc;
}

int strom_job_cancel(struct strom_job *job)
{
    if (!job)
        return STROM_E_INVAL;
    strom_rt__set_error(job, -ECANCELED, "the job was cancelled");
    strom_rt__fail(job, -ECANCELED);
    return 0;
}
