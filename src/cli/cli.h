/*
 * cli/cli.h: the strom command. One file per subcommand (cmd_<name>.c), each a function
 * behind the dispatch table in main.c. Only this module decides to exit.
 * Exit status: 0 success, 1 failure of the work, 2 bad usage.
 */
#ifndef STROM_CLI_H
#define STROM_CLI_H

struct strom_cmd {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
};

int strom_cmd_bench(int argc, char **argv);
int strom_cmd_coordinator(int argc, char **argv);
int strom_cmd_gen(int argc, char **argv);
int strom_cmd_keygen(int argc, char **argv);
int strom_cmd_netbench(int argc, char **argv);
int strom_cmd_run(int argc, char **argv);
int strom_cmd_status(int argc, char **argv);
int strom_cmd_stop(int argc, char **argv);
int strom_cmd_submit(int argc, char **argv);
int strom_cmd_version(int argc, char **argv);
int strom_cmd_worker(int argc, char **argv);

struct strom_debs_conf;
struct strom_cli_debs_flags {
    int progress, quiet, help;
};
/* The job options of `strom run` (argv[0] is the job's name, "debs14") into conf, which
 * borrows argv's strings. 0, or 2 after printing what is wrong (usage); fl->help when
 * --help was asked for. cmd names the command in messages. */
int strom_cli_debs_parse(const char *cmd, int argc, char **argv, struct strom_debs_conf *conf,
                         struct strom_cli_debs_flags *fl);

/* Parse an unsigned decimal option value; prints the error itself. 0 or 2 (usage). */
int strom_cli_parse_u64(const char *opt, const char *s, unsigned long long min,
                        unsigned long long max, unsigned long long *out);

#endif
