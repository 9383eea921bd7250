/*
 * evbill-store: offline maintenance of an evbill store (an LMDB
 * directory), with nginx stopped.
 *
 *   evbill-store upgrade DIR   migrate to this build's schema, one step
 *                              at a time (each step one transaction)
 *   evbill-store check DIR     schema version, whether an upgrade is
 *                              needed, and consistency (records decode,
 *                              the indexes match the sessions)
 *
 * Exit codes (docs/operations.md):
 *   0  upgrade: done (or nothing to do); check: current and consistent
 *   1  check: problems found (listed)
 *   2  check: an older schema, run upgrade (records checked as far as
 *      that schema goes)
 *   3  a newer schema than this build's: refused
 *   4  cannot open or read the store, or a step failed; bad usage
 *   5  upgrade: the store is in use (nginx running): refused
 */

#include <stdio.h>
#include <string.h>

#include "../lmdb/evb_store.h"


static void
evb_step_done(void *data, unsigned from, unsigned to, const char *what,
    unsigned long items)
{
    printf("step %u -> %u: %s: %lu item(s), committed\n", from, to, what,
           items);
    fflush(stdout);
}


static void
evb_problem(void *data, const char *what)
{
    printf("problem: %s\n", what);
}


static int
evb_cmd_upgrade(const char *dir)
{
    int       rc;
    unsigned  version;
    char      err[1024];

    if (evb_store_version(dir, &version, err, sizeof(err)) != 0) {
        fprintf(stderr, "evbill-store: %s\n", err);
        return 4;
    }

    if (version > EVB_SCHEMA_VERSION) {
        fprintf(stderr, "evbill-store: store at %s has schema version %u, "
                "newer than this build's %u: refused (use the release "
                "that wrote it)\n", dir, version, EVB_SCHEMA_VERSION);
        return 3;
    }

    printf("store %s: schema version %u, this build: %u\n", dir, version,
           EVB_SCHEMA_VERSION);

    if (version == EVB_SCHEMA_VERSION) {
        printf("up to date: nothing to do\n");
        return 0;
    }

    rc = evb_store_upgrade(dir, evb_step_done, NULL, err, sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "evbill-store: %s\n", err);
        return rc == -2 ? 5 : rc == -3 ? 3 : 4;
    }

    printf("upgraded to schema version %u\n", EVB_SCHEMA_VERSION);

    return 0;
}


static int
evb_cmd_check(const char *dir)
{
    long      n;
    unsigned  version;
    char      err[1024];

    if (evb_store_version(dir, &version, err, sizeof(err)) != 0) {
        fprintf(stderr, "evbill-store: %s\n", err);
        return 4;
    }

    printf("schema version: %u (this build: %u)\n", version,
           EVB_SCHEMA_VERSION);

    if (version > EVB_SCHEMA_VERSION) {
        printf("upgrade needed: no; newer than this build: refused\n");
        return 3;
    }

    printf("upgrade needed: %s\n", version < EVB_SCHEMA_VERSION
           ? "yes (evbill-store upgrade DIR, with nginx stopped)" : "no");

    n = evb_store_verify(dir, evb_problem, NULL, err, sizeof(err));
    if (n < 0) {
        fprintf(stderr, "evbill-store: %s\n", err);
        return 4;
    }

    printf("consistency: %ld problem(s)\n", n);

    if (n > 0) {
        return 1;
    }

    return version < EVB_SCHEMA_VERSION ? 2 : 0;
}


int
main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "upgrade") == 0) {
        return evb_cmd_upgrade(argv[2]);
    }

    if (argc == 3 && strcmp(argv[1], "check") == 0) {
        return evb_cmd_check(argv[2]);
    }

    fprintf(stderr, "usage: evbill-store upgrade DIR\n"
            "       evbill-store check DIR\n");

    return 4;
}
