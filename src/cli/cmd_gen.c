/*
 * cli/cmd_gen.c: `strom gen`, synthetic DEBS 2014 smart-plug data (apps/debs14/gen.h).
 *
 * Standard output carries only data, so that `strom gen ... | strom run ...` works; every
 * message goes to standard error. The dirty counts are printed in a fixed form that
 * scripts parse:
 *
 *   gen: dirty: duplicates=N malformed=N late=N gaps=N
 *   gen: malformed: fields=N empty=N nondigit=N range=N value=N property=N
 *
 * malformed + late is the number of lines a spec-exact reader (t0 = --start) rejects.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/debs14/gen.h"
#include "cli/cli.h"
#include "strom/error.h"

struct progress {
    struct timespec t0;
    double last, span_h;
    int on; /* --out is a file: standard error is free for a human */
};

static double elapsed(const struct progress *pr)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - pr->t0.tv_sec) + (double)(now.tv_nsec - pr->t0.tv_nsec) / 1e9;
}

/* A line at most every 5 s of wall time: a month of 40 houses takes minutes. */
static void on_progress(void *arg, const struct strom_debs_gen_stats *st)
{
    struct progress *pr = arg;
    double s = elapsed(pr);
    if (!pr->on || s - pr->last < 5)
        return;
    pr->last = s;
    fprintf(stderr, "gen: %.0f of %.0f h of data, %llu rows, %.1f s\n",
            (double)st->seconds_done / 3600, pr->span_h, (unsigned long long)st->rows, s);
}

static void gen_usage(FILE *f)
{
    fprintf(f,
            "usage: strom gen --houses H (--days D | --hours N) --seed S [--start T]\n"
            "                 [--dirty RATE] [--out FILE]\n\n"
            "Synthetic DEBS 2014 smart-plug data in the challenge's input format\n"
            "(id,timestamp,value,property,plug_id,household_id,house_id), sorted by time.\n"
            "The same arguments always give the same bytes.\n\n"
            "  --houses H    houses 1..%u; about 53 plugs each (2125 for 40)\n"
            "  --days D      days of data (about 141 million rows, 4.9 GB a day for 40\n"
            "                houses; ids are 32-bit, so 30 days of 40 houses at most)\n"
            "  --hours N     hours of data, added to --days (for short sets)\n"
            "  --seed S      seed of the data, any 64-bit number\n"
            "  --start T     first second, Unix time (default %u, the spec's t0)\n"
            "  --dirty RATE  inject bad data into about RATE of the rows, 0 <= RATE < 1:\n"
            "                same-second duplicates (valid), malformed lines, late rows\n"
            "                (rejected), and multi-minute gaps; counts go to stderr as\n"
            "                'gen: dirty: duplicates=N malformed=N late=N gaps=N'\n"
            "  --out FILE    write to FILE (default standard output); then progress and a\n"
            "                summary go to stderr\n",
            STROM_DEBS_GEN_MAX_HOUSES, STROM_DEBS_GEN_DEFAULT_START);
}

static int parse_rate(const char *s, double *out)
{
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (!*s || *end || errno || !isfinite(v) || v < 0 || v >= 1) {
        fprintf(stderr, "strom gen: --dirty: '%s' is not a rate from 0 up to (not including) 1\n",
                s);
        return 2;
    }
    *out = v;
    return 0;
}

int strom_cmd_gen(int argc, char **argv)
{
    static const struct option opts[] = {{"houses", required_argument, 0, 'H'},
                                         {"days", required_argument, 0, 'd'},
                                         {"hours", required_argument, 0, 'r'},
                                         {"seed", required_argument, 0, 's'},
                                         {"start", required_argument, 0, 't'},
                                         {"dirty", required_argument, 0, 'x'},
                                         {"out", required_argument, 0, 'o'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    struct strom_debs_gen_config cfg = {.start = STROM_DEBS_GEN_DEFAULT_START};
    struct strom_debs_gen_stats st;
    struct progress pr = {0};
    unsigned long long v, days = 0, hours = 0;
    const char *path = NULL;
    int c, have_seed = 0, have_dirty = 0, rc;
    char err[256];
    FILE *out = stdout;
    double secs;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'H':
            if (strom_cli_parse_u64("--houses", optarg, 1, STROM_DEBS_GEN_MAX_HOUSES, &v))
                return 2;
            cfg.houses = (uint32_t)v;
            break;
        case 'd':
            if (strom_cli_parse_u64("--days", optarg, 1, 50000, &days))
                return 2;
            break;
        case 'r':
            if (strom_cli_parse_u64("--hours", optarg, 1, 1200000, &hours))
                return 2;
            break;
        case 's':
            if (strom_cli_parse_u64("--seed", optarg, 0, UINT64_MAX, &v))
                return 2;
            cfg.seed = v;
            have_seed = 1;
            break;
        case 't':
            if (strom_cli_parse_u64("--start", optarg, 1, UINT32_MAX, &v))
                return 2;
            cfg.start = (uint32_t)v;
            break;
        case 'x':
            if (parse_rate(optarg, &cfg.dirty))
                return 2;
            have_dirty = 1;
            break;
        case 'o':
            path = optarg;
            break;
        case 'h':
            gen_usage(stdout);
            return 0;
        default:
            gen_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "strom gen: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!cfg.houses || !have_seed || (!days && !hours)) {
        fprintf(stderr, "strom gen: %s is required (see strom gen --help)\n",
                !cfg.houses ? "--houses" : !have_seed ? "--seed" : "--days or --hours");
        return 2;
    }
    cfg.seconds = days * 86400 + hours * 3600;
    if (cfg.seconds > (unsigned long long)UINT32_MAX + 1 - cfg.start) {
        fprintf(stderr, "strom gen: --start %u plus %llu s of data passes the 32-bit "
                        "timestamps' end (2106)\n", cfg.start, (unsigned long long)cfg.seconds);
        return 2;
    }
    if (path && !(out = fopen(path, "w"))) {
        fprintf(stderr, "strom gen: cannot create %s: %s\n", path, strerror(errno));
        return 1;
    }
    pr.on = path != NULL;
    pr.span_h = (double)cfg.seconds / 3600;
    clock_gettime(CLOCK_MONOTONIC, &pr.t0);
    cfg.progress = on_progress;
    cfg.progress_arg = &pr;
    rc = strom_debs_gen_write(&cfg, out, &st, err, sizeof err);
    if (path && fclose(out) && !rc) {
        rc = -errno;
        snprintf(err, sizeof err, "close failed: %s", strerror(errno));
    }
    secs = elapsed(&pr);
    if (rc) {
        fprintf(stderr, "strom gen: %s: %s\n", path ? path : "standard output",
                *err ? err : strom_strerror(rc));
        /* too many lines for 32-bit ids is a request that cannot be met: usage */
        return rc == STROM_E_INVAL || rc == -EOVERFLOW ? 2 : 1;
    }
    if (have_dirty) {
        fprintf(stderr, "gen: dirty: duplicates=%llu malformed=%llu late=%llu gaps=%llu\n",
                (unsigned long long)st.duplicates, (unsigned long long)st.malformed,
                (unsigned long long)st.late, (unsigned long long)st.gaps);
        fprintf(stderr, "gen: malformed:");
        for (int k = 0; k < STROM_DEBS_GEN_M_COUNT; k++)
            fprintf(stderr, " %s=%llu", strom_debs_gen_malformed_name(k),
                    (unsigned long long)st.malformed_kind[k]);
        fprintf(stderr, "\n");
    }
    if (path)
        fprintf(stderr,
                "gen: %llu rows, %llu bytes, %u houses, %llu plugs, %llu s of data from %u, "
                "in %.2f s (%.1f M rows/s, %.0f MB/s)\n",
                (unsigned long long)st.rows, (unsigned long long)st.bytes, cfg.houses,
                (unsigned long long)st.plugs, (unsigned long long)cfg.seconds, cfg.start, secs,
                (double)st.rows / secs / 1e6, (double)st.bytes / secs / 1e6);
    return 0;
}
