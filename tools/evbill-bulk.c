/*
 * evbill-bulk: load a store with many open sessions, fast, for
 * `make bench-scale` (tools/bench-scale.sh); not for production stores.
 *
 *   evbill-bulk DIR N IDLE
 *
 * Writes through the same ops the API uses (src/ops), in batches of 500
 * sessions per transaction: a tariff, one charger BULK-1, and N sessions
 * "b<n>" started with two readings each.  The first IDLE of them get
 * their last write 30 days before now (idle for any idle timeout below
 * that), the others now.  Prints the load time of the sessions.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/core/evb_core.h"
#include "../src/ops/evb_ops.h"


#define BATCH  500


static evb_str_t
str(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


static int
apply(evb_store_t *st, evb_wop_t **w, size_t n)
{
    size_t         i;
    char           err[256];
    evb_problem_e  p;

    p = evb_store_apply(st, w, n, err, sizeof(err));
    if (p != EVB_OK) {
        fprintf(stderr, "evbill-bulk: batch: %s\n", err);
        return -1;
    }

    for (i = 0; i < n; i++) {
        if (w[i]->problem != EVB_OK) {
            fprintf(stderr, "evbill-bulk: op %zu: %s\n", i, w[i]->detail);
            return -1;
        }
    }

    return 0;
}


int
main(int argc, char **argv)
{
    char                  err[256], (*names)[24];
    size_t                i, j, k, n, idle, m;
    evb_wop_t            *w[2 * BATCH];
    evb_arena_t          *a;
    evb_store_t          *st;
    evb_msec_t            now, at, t0;
    evb_start_t          *starts;
    evb_reading_t        *rd;
    evb_charger_t         c;
    evb_op_start_t       *so;
    evb_op_readings_t    *ro;
    evb_bill_conf_t       conf;
    evb_op_put_tariff_t   pt;
    evb_op_put_charger_t  pc;
    struct timespec       ts;

    static const char  tariff[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"BULK\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
        "\"vat\":19.0,\"step_size\":1},{\"type\":\"TIME\",\"price\":1.20,"
        "\"vat\":19.0,\"step_size\":60}]}]}";

    if (argc != 4) {
        fprintf(stderr, "usage: evbill-bulk DIR N IDLE\n");
        return 2;
    }

    n = strtoul(argv[2], NULL, 10);
    idle = strtoul(argv[3], NULL, 10);

    if (evb_store_open(&st, argv[1], (size_t) 64 << 30, 16, err,
                       sizeof(err)) != 0)
    {
        fprintf(stderr, "evbill-bulk: %s\n", err);
        return 1;
    }

    clock_gettime(CLOCK_REALTIME, &ts);
    now = (evb_msec_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    conf.policy.max_duration = 60LL * 86400000;
    conf.policy.max_periods = 100000;
    conf.cpo_country = str("DE");
    conf.cpo_party = str("EXA");

    a = evb_arena_create(1 << 20);
    so = calloc(BATCH, sizeof(evb_op_start_t));
    ro = calloc(BATCH, sizeof(evb_op_readings_t));
    starts = calloc(BATCH, sizeof(evb_start_t));
    rd = calloc(2 * BATCH, sizeof(evb_reading_t));
    names = calloc(BATCH, sizeof(*names));
    if (a == NULL || so == NULL || ro == NULL || starts == NULL
        || rd == NULL || names == NULL)
    {
        fprintf(stderr, "evbill-bulk: out of memory\n");
        return 1;
    }

    evb_op_put_tariff_init(&pt, now, a);
    pt.tariff_id = str("BULK");
    pt.tariff_json = str(tariff);
    w[0] = &pt.op.w;

    memset(&c, 0, sizeof(c));
    c.charger_id = str("BULK-1");
    c.doc = str("{\"evse_uid\":\"E1\"}");
    c.tariff_id = str("BULK");
    c.time_zone = str("Europe/Berlin");
    evb_op_put_charger_init(&pc, now, a);
    pc.charger_id = c.charger_id;
    pc.charger = &c;
    w[1] = &pc.op.w;

    if (apply(st, w, 2) != 0) {
        return 1;
    }

    for (i = 0; i < n; i += m) {
        m = n - i < BATCH ? n - i : BATCH;

        for (j = 0; j < m; j++) {
            k = i + j;
            /* the idle ones wrote last 30 days ago */
            at = k < idle ? now - 30LL * 86400000 : now;
            t0 = at - 600000;

            snprintf(names[j], sizeof(names[j]), "b%zu", k);
            memset(&starts[j], 0, sizeof(evb_start_t));
            starts[j].session_id = str(names[j]);
            starts[j].connector_id = 1;
            starts[j].id_token = str("TOKEN1");
            starts[j].token_type = EVB_TOKEN_RFID;
            starts[j].timestamp = t0;
            starts[j].meter_start_wh = 1000;
            starts[j].tariff_id = str("");
            starts[j].ocmf = str("");

            evb_op_start_init(&so[j], at, a);
            so[j].limits.bill = &conf;
            so[j].charger_id = str("BULK-1");
            so[j].session_id = starts[j].session_id;
            so[j].start = &starts[j];

            memset(&rd[2 * j], 0, 2 * sizeof(evb_reading_t));
            rd[2 * j].seq = 1;
            rd[2 * j].timestamp = t0 + 300000;
            rd[2 * j].energy_wh = 1500;
            rd[2 * j].state = EVB_READING_CHARGING;
            rd[2 * j].ocmf = str("");
            rd[2 * j + 1] = rd[2 * j];
            rd[2 * j + 1].seq = 2;
            rd[2 * j + 1].timestamp = t0 + 600000;
            rd[2 * j + 1].energy_wh = 2000;

            evb_op_readings_init(&ro[j], at, a);
            ro[j].limits.bill = &conf;
            ro[j].charger_id = str("BULK-1");
            ro[j].session_id = starts[j].session_id;
            ro[j].readings = &rd[2 * j];
            ro[j].nreadings = 2;

            w[2 * j] = &so[j].op.w;
            w[2 * j + 1] = &ro[j].op.w;
        }

        if (apply(st, w, 2 * m) != 0) {
            return 1;
        }

        /* the ops' outputs live in the arena: one batch at a time */
        evb_arena_destroy(a);
        a = evb_arena_create(1 << 20);
        if (a == NULL) {
            fprintf(stderr, "evbill-bulk: out of memory\n");
            return 1;
        }

        if ((i / BATCH) % 200 == 0) {
            fprintf(stderr, "evbill-bulk: %zu sessions\n", i + m);
        }
    }

    evb_store_close(st);
    evb_arena_destroy(a);

    printf("loaded=%zu idle=%zu at_ms=%lld\n", n, idle, (long long) now);

    return 0;
}
