/*
 * cli/cmd_run.c: `strom run debs14`: the DEBS 2014 queries over a file or standard input,
 * with progress on a terminal and a summary at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "apps/debs14/debs14.h"
#include "cli/cli.h"
#include "strom/error.h"

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: strom run debs14 --input FILE --out DIR [options]\n\n"
            "Runs the DEBS 2014 queries on the embedded engine and writes, in DIR, the\n"
            "output streams of the spec (q1-house-Nmin.csv, q1-plug-Nmin.csv, q2-1h.csv,\n"
            "q2-24h.csv) and rejects.csv (line number, reason, the line).\n\n"
            "  --input FILE      the input CSV; '-' reads standard input\n"
            "  --out DIR         the output directory (created if missing)\n"
            "  --queries LIST    q1, q2 or q1,q2 (default q1,q2)\n"
            "  --threads N       worker threads (default: one per core)\n"
            "  --parallelism N   instances of each query operator (default: threads)\n"
            "  --t0 T            the epoch of Query 1's slices (default %u)\n"
            "  --latency         measure the latency of output rows (from reading the row\n"
            "                    that triggers them to writing them) for the summary\n"
            "  --checkpoint-dir DIR  exactly-once: checkpoint into DIR; when DIR holds a\n"
            "                    complete checkpoint of this job and input, resume from it;\n"
            "                    when it records that the job finished, do nothing\n"
            "  --checkpoint-interval S  seconds between checkpoints (default 10)\n"
            "  --progress        show progress even when standard error is not a terminal\n"
            "  --quiet           no progress and no summary\n",
            STROM_DEBS_DEFAULT_T0);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_queries(const char *s, unsigned *out)
{
    char buf[64], *save = NULL;
    *out = 0;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "q1"))
            *out |= STROM_DEBS_Q1;
        else if (!strcmp(t, "q2"))
            *out |= STROM_DEBS_Q2;
        else {
            fprintf(stderr, "strom run: --queries: unknown query '%s' (q1, q2)\n", t);
            return 2;
        }
    }
    if (!*out) {
        fprintf(stderr, "strom run: --queries: name at least one query\n");
        return 2;
    }
    return 0;
}

static void show_progress(struct strom_debs_run *run, double t_start)
{
    uint64_t bytes, lines, size;
    double el = now() - t_start;
    strom_debs_run_progress(run, &bytes, &lines, &size);
    if (size && bytes)
        fprintf(stderr, "\r%" PRIu64 " rows, %.2f M rows/s, %5.1f%% done, %.0f s left   ", lines,
                lines / el / 1e6, 100.0 * bytes / size,
                bytes < size ? el * (size - bytes) / bytes : 0.0);
    else
        fprintf(stderr, "\r%" PRIu64 " rows, %.2f M rows/s   ", lines, el > 0 ? lines / el / 1e6 : 0);
}

/* Checkpoint news, on standard error. */
static void log_line(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "strom run: %s\n", msg);
}

static void summary(struct strom_debs_run *run, const struct strom_debs_conf *conf, double secs)
{
    const struct strom_debs_source *src = strom_debs_run_source(run);
    const struct strom_debs_stats *st = &src->stats;
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    printf("read %" PRIu64 " rows (%" PRIu64 " load, %" PRIu64 " work), rejected %" PRIu64
           "\n",
           st->lines, src->load_rows, st->accepted - st->accepted_load, st->rejected);
    for (int r = 1; r < STROM_DEBS_REASON_COUNT; r++)
        if (st->by_reason[r])
            printf("  rejected, %s: %" PRIu64 "\n", strom_debs_reason_name(r), st->by_reason[r]);
    for (unsigned k = 0; k < STROM_DEBS_STREAMS; k++) {
        const char *path;
        unsigned long long rows;
        if (!strom_debs_run_stream(run, k, &path, &rows))
            printf("  %-22s %llu rows\n", strom_debs_stream_name(k), rows);
    }
    const struct strom_debs_latency *lat = strom_debs_run_latency(run);
    if (lat && lat->count)
        printf("latency of %" PRIu64 " output rows: mean %.3f ms, p10 %.3f ms, p90 %.3f ms, "
               "p99 %.3f ms\n",
               lat->count, lat->sum_ns / 1e6 / lat->count,
               strom_debs_latency_percentile(lat, 10) / 1e6,
               strom_debs_latency_percentile(lat, 90) / 1e6,
               strom_debs_latency_percentile(lat, 99) / 1e6);
    struct strom_checkpoint_stats cs;
    strom_job_checkpoint_stats(strom_debs_run_job(run), &cs);
    if (conf->checkpoint_dir)
        printf("checkpoints: %" PRIu64 " taken (last %" PRIu64 ", %.1f MB of state, serialized "
               "in %.2f s, %.2f s to commit; slowest %.2f s)%s\n",
               cs.taken, cs.last, cs.raw_bytes / 1e6, cs.serialize_seconds, cs.last_seconds,
               cs.max_seconds,
               cs.restored ? ", resumed from one" : "");
    printf("%.2f s, %.2f M rows/s, peak memory %.1f MiB; output in %s\n", secs,
           secs > 0 ? st->lines / secs / 1e6 : 0, ru.ru_maxrss / 1024.0, conf->out_dir);
}

int strom_cli_debs_parse(const char *cmd, int argc, char **argv, struct strom_debs_conf *conf,
                         struct strom_cli_debs_flags *fl)
{
    static const struct option opts[] = {
        {"input", required_argument, 0, 'i'},   {"out", required_argument, 0, 'o'},
        {"queries", required_argument, 0, 'q'}, {"threads", required_argument, 0, 't'},
        {"parallelism", required_argument, 0, 'p'}, {"t0", required_argument, 0, 'z'},
        {"progress", no_argument, 0, 'P'},      {"quiet", no_argument, 0, 'Q'},
        {"latency", no_argument, 0, 'L'},
        {"checkpoint-dir", required_argument, 0, 'C'},
        {"checkpoint-interval", required_argument, 0, 'I'},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0}};
    unsigned long long v;
    int c;

    *conf = (struct strom_debs_conf){.queries = STROM_DEBS_Q1 | STROM_DEBS_Q2,
                                     .t0 = STROM_DEBS_DEFAULT_T0};
    *fl = (struct strom_cli_debs_flags){.progress = isatty(2)};
    if (argc < 1 || strcmp(argv[0], "debs14")) {
        fprintf(stderr, "strom %s: unknown job '%s' (the job is: debs14)\n", cmd,
                argc < 1 ? "" : argv[0]);
        return 2;
    }
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'i': conf->input = optarg; break;
        case 'o': conf->out_dir = optarg; break;
        case 'q':
            if (parse_queries(optarg, &conf->queries))
                return 2;
            break;
        case 't':
            if (strom_cli_parse_u64("--threads", optarg, 1, 1024, &v))
                return 2;
            conf->threads = (unsigned)v;
            break;
        case 'p':
            if (strom_cli_parse_u64("--parallelism", optarg, 1, 1024, &v))
                return 2;
            conf->parallelism = (unsigned)v;
            break;
        case 'z':
            if (strom_cli_parse_u64("--t0", optarg, 0, UINT32_MAX, &v))
                return 2;
            conf->t0 = (uint32_t)v;
            break;
        case 'C': conf->checkpoint_dir = optarg; break;
        case 'I': {
            char *end;
            errno = 0;
            conf->checkpoint_interval = strtod(optarg, &end);
            if (errno || *end || end == optarg || !(conf->checkpoint_interval > 0) ||
                conf->checkpoint_interval > 86400) {
                fprintf(stderr, "strom %s: --checkpoint-interval: '%s' is not a number of "
                                "seconds between 0 and 86400\n", cmd, optarg);
                return 2;
            }
            break;
        }
        case 'P': fl->progress = 1; break;
        case 'L': conf->latency = 1; break;
        case 'Q': fl->quiet = 1; break;
        case 'h': fl->help = 1; return 0;
        default:
            if (optopt && strchr("ioqtpzCI", optopt))
                fprintf(stderr, "strom %s: %s needs a value\n", cmd, argv[optind - 1]);
            else
                fprintf(stderr, "strom %s: unknown option '%s' ('strom run debs14 --help' "
                                "lists the job's options)\n", cmd, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "strom %s: unexpected argument '%s'\n", cmd, argv[optind]);
        return 2;
    }
    if (!conf->input || !conf->out_dir) {
        fprintf(stderr, "strom %s: --input and --out are required\n", cmd);
        return 2;
    }
    return 0;
}

int strom_cmd_run(int argc, char **argv)
{
    struct strom_debs_conf conf;
    struct strom_cli_debs_flags fl;
    struct strom_debs_run *run = NULL;
    int rc, progress, quiet;
    char err[512] = "";
    double t_start;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        run_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if ((rc = strom_cli_debs_parse("run", argc - 1, argv + 1, &conf, &fl)))
        return rc;
    if (fl.help) {
        run_usage(stdout);
        return 0;
    }
    progress = fl.progress;
    quiet = fl.quiet;
    conf.log = log_line;
    if ((rc = strom_debs_run_new(&run, &conf, err, sizeof err))) {
        fprintf(stderr, "strom run: %s\n", err);
        return 1;
    }
    if (strom_debs_run_finished_before(run)) {
        fprintf(stderr, "strom run: the job recorded in %s is complete; the output in %s is "
                        "left as it is\n", conf.checkpoint_dir, conf.out_dir);
        strom_debs_run_free(run);
        return 0;
    }
    t_start = now();
    if ((rc = strom_debs_run_start(run))) {
        fprintf(stderr, "strom run: %s\n", strom_job_errmsg(strom_debs_run_job(run)));
        strom_debs_run_free(run);
        return 1;
    }
    if (progress && !quiet) {
        /* the job runs on its own threads; this one only watches */
        do {
            struct timespec ts = {0, 250000000};
            nanosleep(&ts, NULL);
            show_progress(run, t_start);
        } while (!strom_job_done(strom_debs_run_job(run)));
        fprintf(stderr, "\n");
    }
    rc = strom_debs_run_wait(run, err, sizeof err);
    if (rc)
        fprintf(stderr, "strom run: %s\n", err);
    else if (!quiet)
        summary(run, &conf, now() - t_start);
    strom_debs_run_free(run);
    return rc ? 1 : 0;
}
