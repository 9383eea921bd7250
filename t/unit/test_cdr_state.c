/*
 * The CDR from the rating state (issue 8): a stop (and the idle sweep's
 * close) prices the session from the state kept with it and the periods
 * it closed, without reading its readings again.  Each session here is
 * then rated again from all its stored readings (evb_bill_final) and
 * both must give the same bytes: the final cost and the whole CDR, its
 * charging_periods included.  Sessions cross price changes (time of day,
 * kWh, duration), both DST days of Europe/Berlin, parking, min and max
 * price, under several step sizes, with readings in batches of several
 * sizes.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "../../lmdb/evb_store.h"
#include "../../src/ops/evb_ops.h"
#include "../../src/core/evb_crypto.h"


#define S(lit)   evb_str_of(lit)

/* 2026-03-28T23:00:00Z: 00:00 local, the night clocks go to summer time
 * (02:00 -> 03:00 local); 2026-10-24T22:00:00Z: 00:00 local, the night
 * they go back (03:00 -> 02:00); 2026-06-10T20:00:00Z: an ordinary
 * evening with the 22:00 local change */
static const evb_msec_t  days[] = {
    1774738800000LL, 1792879200000LL, 1781121600000LL
};

static evb_arena_t      *arena;
static unsigned char     mkey[EVB_MASTER_KEY_LEN];
static evb_bill_conf_t   conf;


static evb_str_t
evb_str_of(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


/* prices change at 01:00-04:00 local (through the DST hour), after
 * 22:00, above 12 kWh, after 3 h; parking priced; min and max */
static const char  tariff_a[] =
    "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"TA\","
    "\"currency\":\"EUR\",\"type\":\"REGULAR\","
    "\"last_updated\":\"2026-01-01T00:00:00Z\","
    "\"min_price\":{\"excl_vat\":4.00,\"incl_vat\":4.76},"
    "\"max_price\":{\"excl_vat\":60.00,\"incl_vat\":71.40},"
    "\"elements\":["
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.21,"
    "\"vat\":19.0,\"step_size\":1000},{\"type\":\"TIME\",\"price\":0.60,"
    "\"vat\":19.0,\"step_size\":300}],"
    "\"restrictions\":{\"start_time\":\"01:00\",\"end_time\":\"04:00\"}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.45,"
    "\"vat\":19.0,\"step_size\":1}],"
    "\"restrictions\":{\"start_time\":\"22:00\",\"end_time\":\"01:00\"}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.29,"
    "\"vat\":19.0,\"step_size\":500}],"
    "\"restrictions\":{\"min_kwh\":12}},"
    "{\"price_components\":[{\"type\":\"TIME\",\"price\":1.50,"
    "\"vat\":19.0,\"step_size\":60}],"
    "\"restrictions\":{\"min_duration\":10800}},"
    "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":6.00,"
    "\"vat\":19.0,\"step_size\":900}]},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.35,"
    "\"vat\":19.0,\"step_size\":1},{\"type\":\"FLAT\",\"price\":0.50,"
    "\"vat\":19.0,\"step_size\":0}]}]}";

/* other step sizes, a low max_price that clamps, power bands */
static const char  tariff_b[] =
    "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"TB\","
    "\"currency\":\"EUR\",\"type\":\"REGULAR\","
    "\"last_updated\":\"2026-01-01T00:00:00Z\","
    "\"max_price\":{\"excl_vat\":9.00,\"incl_vat\":10.71},"
    "\"elements\":["
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.55,"
    "\"vat\":19.0,\"step_size\":250}],"
    "\"restrictions\":{\"min_power\":11}},"
    "{\"price_components\":[{\"type\":\"TIME\",\"price\":3.00,"
    "\"vat\":19.0,\"step_size\":600}],"
    "\"restrictions\":{\"start_time\":\"02:00\",\"end_time\":\"03:00\"}},"
    "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":2.40,"
    "\"vat\":7.0,\"step_size\":60}],"
    "\"restrictions\":{\"max_duration\":5400}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.33,"
    "\"vat\":19.0,\"step_size\":100}]}]}";


static evb_problem_e
apply(evb_store_t *st, evb_op_any_t *o)
{
    char           err[256];
    evb_wop_t     *w;
    evb_problem_e  p;

    w = &o->op.w;

    p = evb_store_apply(st, &w, 1, err, sizeof(err));
    if (p != EVB_OK) {
        printf("# apply: %s\n", err);
        return p;
    }

    if (w->problem != EVB_OK) {
        printf("# op problem %d: %s\n", (int) w->problem, w->detail);
    }

    return w->problem;
}


static void
limits(evb_op_limits_t *l)
{
    memset(l, 0, sizeof(evb_op_limits_t));
    l->bill = &conf;
}


static void
setup(evb_store_t *st)
{
    evb_op_any_t   o;
    evb_charger_t  c;
    size_t         nerr;
    evb_json_t    *root;
    char           detail[192];

    static const char  doc[] =
        "{\"location\":{\"id\":\"LOC1\",\"name\":\"Test\","
        "\"address\":\"Teststrasse 1\",\"city\":\"Berlin\","
        "\"postal_code\":\"10115\",\"country\":\"DEU\","
        "\"coordinates\":{\"latitude\":\"52.520008\","
        "\"longitude\":\"13.404954\"},\"time_zone\":\"Europe/Berlin\"},"
        "\"evse_uid\":\"EVSE1\",\"evse_id\":\"DE*EXA*E0001*1\","
        "\"connector\":{\"standard\":\"IEC_62196_T2\",\"format\":\"SOCKET\","
        "\"power_type\":\"AC_3_PHASE\",\"max_electric_power\":22000},"
        "\"tariff_id\":\"TA\"}";

    evb_op_put_tariff_init(&o.put_tariff, days[0], arena);
    o.put_tariff.tariff_id = S("TA");
    o.put_tariff.tariff_json = S(tariff_a);
    is_int(apply(st, &o), EVB_OK, "tariff TA");

    evb_op_put_tariff_init(&o.put_tariff, days[0], arena);
    o.put_tariff.tariff_id = S("TB");
    o.put_tariff.tariff_json = S(tariff_b);
    is_int(apply(st, &o), EVB_OK, "tariff TB");


    nerr = 0;
    if (evb_json_parse(arena, doc, sizeof(doc) - 1, EVB_JSON_MAX_DEPTH,
                       &root, detail, sizeof(detail)) != EVB_JSON_OK
        || evb_parse_charger(arena, root, S("CH1"), &c, detail,
                             sizeof(detail), NULL, &nerr) != EVB_OK)
    {
        printf("Bail out! charger: %s\n", detail);
        exit(1);
    }

    evb_op_put_charger_init(&o.put_charger, days[0], arena);
    o.put_charger.charger_id = S("CH1");
    o.put_charger.charger = &c;
    o.put_charger.master_key = mkey;
    is_int(apply(st, &o), EVB_OK, "charger CH1 (Europe/Berlin)");
}


/* the charging periods in a CDR: one "dimensions" each */
static size_t
periods(evb_str_t cdr)
{
    size_t       n;
    const char  *p, *end;

    n = 0;
    end = cdr.data + cdr.len;

    for (p = cdr.data; p + 12 <= end; p++) {
        if (memcmp(p, "\"dimensions\"", 12) == 0) {
            n++;
        }
    }

    return n;
}


/* the full re-rate of a stored, stopped session; its CDR as stored */
static void
compare(evb_store_t *st, const char *name, const char *tariff)
{
    size_t             n, nkeys;
    evb_str_t          cdr, cost, again, json;
    evb_bill_t         b;
    evb_charger_t      c;
    evb_session_t      s;
    evb_problem_e      p;
    evb_reading_t     *r;
    evb_key_record_t  *keys;
    evb_rate_result_t  res;
    evb_bill_detail_t  bill;
    uint32_t           version;
    char               detail[192];

    if (evb_store_get_session(st, arena, S("CH1"), S(name), &s, &r, &n)
        != EVB_OK
        || evb_store_get_cdr(st, arena, S("CH1"), S(name), &cdr) != EVB_OK
        || evb_store_get_charger(st, arena, S("CH1"), &c, &keys, &nkeys)
           != EVB_OK
        || evb_store_get_tariff(st, arena, S(tariff), s.tariff_version,
                                &json, &version, NULL) != EVB_OK)
    {
        ok(0, "%s: readings and tariff (cost_error %.*s)", name,
           (int) s.cost_error.len, s.cost_error.data);
        return;
    }

    memset(&b, 0, sizeof(b));
    b.tariff_id = S(tariff);
    b.tariff_version = version;
    b.tariff_json = json;
    b.time_zone = S("Europe/Berlin");
    b.conf = &conf;

    p = evb_bill_final(arena, &b, &s, &c, r, n, &cost, &again, &res, &bill,
                       detail, sizeof(detail));
    is_int(p, EVB_OK, "%s: rated again from its %zu readings %s", name, n,
           p == EVB_OK ? "" : detail);
    if (p != EVB_OK) {
        return;
    }

    is_str(s.cost.data, s.cost.len, cost.data,
           "%s: the final cost from the state is the full re-rate's", name);
    ok(cdr.len == again.len && memcmp(cdr.data, again.data, cdr.len) == 0,
       "%s: the CDR from the state (charging periods included) is the "
       "full re-rate's", name);
    ok(periods(cdr) >= 3, "%s: the CDR has %zu charging periods", name,
       periods(cdr));
    if (cdr.len != again.len || memcmp(cdr.data, again.data, cdr.len) != 0) {
        printf("#  state: %.*s\n# replay: %.*s\n", (int) cdr.len, cdr.data,
               (int) again.len, again.data);
    }
}


/*
 * One session: start at t0, a reading every step ms for count readings
 * (parked in the middle third when parked), posted in batches of
 * 1, 2, 3, ... batch_max, then a stop (or the sweep).
 */
static void
session(evb_store_t *st, const char *name, const char *tariff,
    evb_msec_t t0, evb_msec_t step, int count, int parked, int batch_max,
    int by_sweep)
{
    int             i, j, nb, k;
    int64_t         wh, power;
    evb_op_any_t    o;
    evb_start_t     start;
    evb_stop_t      stop;
    evb_reading_t  *rs;

    memset(&start, 0, sizeof(start));
    start.session_id = S(name);
    start.connector_id = 1;
    start.id_token = S("TOK");
    start.timestamp = t0;
    start.meter_start_wh = 5000;
    start.tariff_id = S(tariff);
    start.ocmf = S("");

    evb_op_start_init(&o.start, t0, arena);
    limits(&o.start.limits);
    o.start.charger_id = S("CH1");
    o.start.start = &start;
    is_int(apply(st, &o), EVB_OK, "%s: start", name);

    rs = evb_arena_alloc(arena, count * sizeof(evb_reading_t));
    if (rs == NULL) {
        ok(0, "%s: memory", name);
        return;
    }

    wh = 5000;

    for (i = 0; i < count; i++) {
        memset(&rs[i], 0, sizeof(evb_reading_t));
        rs[i].seq = (uint64_t) i + 1;
        rs[i].timestamp = t0 + (evb_msec_t) (i + 1) * step + (i % 7) * 13;

        if (parked && i >= count / 3 && i < 2 * count / 3) {
            rs[i].state = EVB_READING_PARKED;

        } else {
            /* 22 kW, then 7 kW: power bands change the price */
            power = (i % 11 < 6) ? 22000 : 7000;
            wh += power * step / 3600000 + (i % 5);
            rs[i].state = EVB_READING_CHARGING;
            rs[i].has_power = 1;
            rs[i].power_w = power;
        }

        rs[i].energy_wh = wh;
        rs[i].ocmf = S("");
    }

    k = 0;
    nb = 0;

    for (i = 0; i < count; i += j) {
        j = (k++ % batch_max) + 1;
        if (i + j > count) {
            j = count - i;
        }

        evb_op_readings_init(&o.readings, rs[i + j - 1].timestamp, arena);
        limits(&o.readings.limits);
        o.readings.charger_id = S("CH1");
        o.readings.session_id = S(name);
        o.readings.readings = &rs[i];
        o.readings.nreadings = (size_t) j;

        if (apply(st, &o) != EVB_OK) {
            ok(0, "%s: readings from seq %d", name, i + 1);
            return;
        }

        nb++;
    }

    ok(nb > 0, "%s: %d readings in %d batches", name, count, nb);

    if (by_sweep) {
        /* the sweep closes at the last reading */
        evb_op_sweep_init(&o.sweep, rs[count - 1].timestamp + 7200000,
                          arena);
        o.sweep.bill = &conf;
        o.sweep.idle_timeout = 3600000;

        do {
            is_int(apply(st, &o), EVB_OK, "%s: sweep", name);
            o.sweep.op.w.problem = EVB_OK;
        } while (o.sweep.more);

        return;
    }

    memset(&stop, 0, sizeof(stop));
    stop.timestamp = rs[count - 1].timestamp + step / 2;
    stop.meter_stop_wh = wh + 3;
    stop.reason = S("");
    stop.ocmf = S("");

    evb_op_stop_init(&o.stop, stop.timestamp, arena);
    limits(&o.stop.limits);
    o.stop.charger_id = S("CH1");
    o.stop.session_id = S(name);
    o.stop.stop = &stop;
    is_int(apply(st, &o), EVB_OK, "%s: stop", name);
}


int
main(void)
{
    int           i, d;
    char          err[256], dir[64], name[32];
    evb_store_t  *st;

    static const struct {
        const char  *tariff;
        evb_msec_t   step;
        int          count;
        int          parked;
        int          batch;
    } kinds[] = {
        { "TA", 300000, 70, 1, 4 },     /* 5 min, 5:50 h, parking */
        { "TA", 61000, 200, 0, 9 },     /* about a minute, 3:23 h */
        { "TB", 420000, 40, 1, 3 },     /* 7 min, 4:40 h */
        { "TB", 95000, 150, 1, 1 },     /* one reading per request */
    };

    for (i = 0; i < EVB_MASTER_KEY_LEN; i++) {
        mkey[i] = (unsigned char) (i * 5 + 3);
    }

    arena = evb_arena_create(1 << 16);
    if (arena == NULL) {
        printf("Bail out! arena\n");
        return 1;
    }

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    conf.cpo_country = S("DE");
    conf.cpo_party = S("EXA");

    strcpy(dir, "/tmp/evb_cdrst_XXXXXX");
    if (mkdtemp(dir) == NULL) {
        printf("Bail out! mkdtemp\n");
        return 1;
    }

    if (evb_store_open(&st, dir, 64 << 20, 16, err, sizeof(err)) != 0) {
        printf("Bail out! open: %s\n", err);
        return 1;
    }

    setup(st);

    evb_ops_final_replays = 0;

    for (d = 0; d < 3; d++) {
        for (i = 0; i < 4; i++) {
            snprintf(name, sizeof(name), "D%d-K%d", d, i);
            /* start 40 min before local midnight on the DST days: the
             * sessions cross 22:00-01:00-02:00/03:00 local */
            session(st, name, kinds[i].tariff, days[d] - 2400000,
                    kinds[i].step, kinds[i].count, kinds[i].parked,
                    kinds[i].batch, d == 1 && i == 2);
            compare(st, name, kinds[i].tariff);
        }
    }

    is_int(evb_ops_final_replays, 0, "every close was priced from the "
           "state, no session's readings replayed");

    evb_store_close(st);

    snprintf(err, sizeof(err), "%s/data.mdb", dir);
    unlink(err);
    snprintf(err, sizeof(err), "%s/lock.mdb", dir);
    unlink(err);
    rmdir(dir);

    tap_plan(tap_n);

    return tap_done();
}
