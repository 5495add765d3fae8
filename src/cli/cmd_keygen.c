/*
 * cli/cmd_keygen.c: `strom keygen DIR NAME`, a CURVE key pair for one process of a cluster
 * (files and rules in net/keys.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "net/keys.h"
#include "strom/error.h"

static void keygen_usage(FILE *f)
{
    fprintf(f,
            "usage: strom keygen DIR NAME\n\n"
            "Makes the CURVE key pair of the process called NAME in the keys directory DIR\n"
            "(created, mode 0700, if missing):\n\n"
            "  DIR/NAME.key       the secret key (Z85, mode 0600); never overwritten\n"
            "  DIR/NAME.pub       the public key (Z85)\n"
            "  DIR/cluster.secret the cluster's shared secret (32 random bytes, hex, mode\n"
            "                     0600), made by the first keygen in DIR and kept after that;\n"
            "                     the cluster's ZooKeeper credentials derive from it\n\n"
            "Run it once per process name, then copy DIR to every host: all the .pub files\n"
            "(they are the allowlist: a process admits only clients whose key is there) and\n"
            "cluster.secret, but to each host only its own NAME.key. Processes then run with\n"
            "--keys DIR --name NAME.\n\n"
            "NAME: 1 to %d characters of A-Z a-z 0-9 _ . -, not starting with '.'.\n",
            STROM_KEY_NAME_MAX);
}

int strom_cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    char err[512] = "";
    int c, made_secret = 0, rc;

    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'h') {
            keygen_usage(stdout);
            return 0;
        }
        keygen_usage(stderr);
        return 2;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "strom keygen: needs DIR and NAME\n\n");
        keygen_usage(stderr);
        return 2;
    }
    rc = strom_keys_generate(argv[optind], argv[optind + 1], &made_secret, err, sizeof err);
    if (rc) {
        fprintf(stderr, "strom keygen: %s\n", err[0] ? err : strom_strerror(rc));
        return rc == STROM_E_INVAL ? 2 : 1;
    }
    printf("keygen: wrote %s/%s.key (secret, 0600) and %s/%s.pub\n", argv[optind], argv[optind + 1],
           argv[optind], argv[optind + 1]);
    if (made_secret)
        printf("keygen: wrote %s/cluster.secret (the cluster's shared secret, 0600): copy it "
               "with the .pub files to every host\n",
               argv[optind]);
    return 0;
}
