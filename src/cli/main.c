/* cli/main.c: the strom command's entry point and subcommand table. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct strom_cmd commands[] = {
    {"gen", "generate DEBS 2014 smart-plug data", strom_cmd_gen},
    {"run", "run a job: strom run debs14 --input FILE --out DIR", strom_cmd_run},
    {"bench", "measure the engine: keyed aggregation at 1 and 2 threads", strom_cmd_bench},
    {"keygen", "make a process's CURVE key pair: strom keygen DIR NAME", strom_cmd_keygen},
    {"netbench", "measure channels between processes, CURVE and insecure", strom_cmd_netbench},
    {"coordinator", "coordinate a cluster (one is elected through ZooKeeper)",
     strom_cmd_coordinator},
    {"worker", "run the parts of cluster jobs assigned to this process", strom_cmd_worker},
    {"submit", "run a job on the cluster: strom submit --zk ... debs14 ...", strom_cmd_submit},
    {"status", "show the cluster: coordinator, workers, job, assignment", strom_cmd_status},
    {"stop", "stop the cluster's job (--shutdown: and its processes)", strom_cmd_stop},
    {"version", "print the version", strom_cmd_version},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: strom <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'strom <command> --help' describes a command's options.\n");
}

int strom_cli_parse_u64(const char *opt, const char *s, unsigned long long min,
                        unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;
    errno = 0;
    if (!s || !*s || *s == '-') {
        fprintf(stderr, "strom: %s needs a whole number from %llu to %llu\n", opt, min, max);
        return 2;
    }
    v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max) {
        fprintf(stderr, "strom: %s: '%s' is not a whole number from %llu to %llu\n", opt, s,
                min, max);
        return 2;
    }
    *out = v;
    return 0;
}

int strom_cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("strom %s\n", STROM_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version"))
        return strom_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "strom: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
