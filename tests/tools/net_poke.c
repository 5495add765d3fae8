/*
 * tests/tools/net_poke.c: tries to inject a batch into a worker's data channels, for the
 * cluster test's outsider (its key is not on the workers' allowlist).
 *
 *   net_poke KEYS NAME PEER ENDPOINT EPOCH
 *
 * Connects as NAME (key pair in KEYS; KEYS must also hold PEER.pub) to the worker PEER at
 * ENDPOINT, opens the data channel of run EPOCH that the runtime's transport uses
 * (net/nettrans.h) and sends one batch, then waits 3 s for the worker to acknowledge it.
 * Exit 0 and "refused" when it never was; 1 and "ACCEPTED" when it was; 2 on bad usage or
 * a local failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/channel.h"
#include "net/nettrans.h"
#include "strom/error.h"

static void to_stderr(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "net_poke: %s\n", msg);
}

int main(int argc, char **argv)
{
    struct strom_net_config cfg = {.log = to_stderr, .dead_ms = 2000};
    struct strom_net *n = NULL;
    struct strom_netchan *c = NULL;
    uint8_t batch[64] = {0};
    char err[512] = "";
    int rc;

    if (argc != 6) {
        fprintf(stderr, "usage: net_poke KEYS NAME PEER ENDPOINT EPOCH\n");
        return 2;
    }
    cfg.keys_dir = argv[1];
    cfg.name = argv[2];
    if ((rc = strom_net_new(&n, &cfg, err, sizeof err)) ||
        (rc = strom_net_connect(n, argv[3], argv[4], err, sizeof err)) ||
        (rc = strom_netchan_open(&c, n, argv[3], STROM_NETTRANS_CHAN, strtoull(argv[5], NULL, 10),
                                 STROM_NETCHAN_SEND, err, sizeof err))) {
        fprintf(stderr, "net_poke: %s\n", err[0] ? err : strom_strerror(rc));
        strom_net_free(n);
        return 2;
    }
    memset(batch, 0xa5, sizeof batch);
    rc = strom_netchan_send(c, batch, sizeof batch, 1000);
    if (!rc)
        rc = strom_netchan_finish(c, 3000);
    strom_netchan_close(c);
    strom_net_free(n);
    if (!rc) {
        printf("ACCEPTED: the batch was acknowledged\n");
        return 1;
    }
    printf("refused: %s\n", strom_strerror(rc));
    return 0;
}
