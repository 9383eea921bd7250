/*
 * Periods from meter readings: cuts at time-of-day, duration and kWh
 * thresholds and state switches, the exact energy split, min/max
 * dimensions, and live cost == finish == replay of the emitted periods,
 * also across a byte round trip of the stored state.
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_meter.h"


/* Europe/Berlin, Tuesday 2026-03-10 (CET, no DST change that day) */
static const char  tariff_json[] =
    "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"T1\","
    "\"currency\":\"EUR\",\"last_updated\":\"2026-01-01T00:00:00Z\","
    "\"elements\":["
    "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":6.00,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"min_duration\":5400}},"
    "{\"price_components\":[{\"type\":\"TIME\",\"price\":2.00,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"start_time\":\"17:00\",\"end_time\":\"20:00\"}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
    "\"vat\":20.0,\"step_size\":1}],"
    "\"restrictions\":{\"min_kwh\":5.0}},"
    "{\"price_components\":["
    "{\"type\":\"FLAT\",\"price\":0.50,\"vat\":20.0,\"step_size\":0},"
    "{\"type\":\"ENERGY\",\"price\":0.20,\"vat\":20.0,\"step_size\":1},"
    "{\"type\":\"TIME\",\"price\":1.00,\"vat\":20.0,\"step_size\":1},"
    "{\"type\":\"PARKING_TIME\",\"price\":3.00,\"vat\":20.0,"
    "\"step_size\":1}]}"
    "]}";


#define MIN  60000
#define P    EVB_READING_PARKED
#define C    EVB_READING_CHARGING

/* ms after start, register Wh, state, power W (-1 none), current mA
 * (-1 none) */
static const struct {
    int64_t  t, wh;
    int      state;
    int64_t  w, ma;
} rd[] = {
    { 5 * MIN,             11000, C, 11000, 16000 },
    { 15 * MIN,            12750, C, 10500, 15500 },
    { 1633500,             15731, C,  9000, 13000 },  /* 17:00, 5 kWh */
    { 40 * MIN,            17821, C,  7000, 10000 },
    { 55 * MIN,            17821, P,     0,     0 },  /* switch at 40 */
    { 100 * MIN,           17821, P,    -1,    -1 },  /* 90 min */
    { 101 * MIN,           17900, C,  3000,    -1 },
    { 101 * MIN,           17950, C, 50000,    -1 },  /* no time passes */
    { 200 * MIN,           19500, C,  2000,  3000 },  /* 20:00 exactly */
    { 215 * MIN,           20400, C,    -1,    -1 },
};

#define NR  (sizeof(rd) / sizeof(rd[0]))
#define METER0  10000


typedef struct {
    evb_period_t  p[64];
    evb_msec_t    end[64];
    size_t        n;
} col_t;


static void
collect(void *data, const evb_period_t *p, evb_msec_t end)
{
    col_t  *c = data;

    if (c->n < 64) {
        c->p[c->n] = *p;
        c->end[c->n] = end;
    }

    c->n++;
}


static int
amount_eq(const evb_amount_t *a, const evb_amount_t *b)
{
    return a->excl == b->excl && a->incl == b->incl
           && a->has_incl == b->has_incl;
}


static int
result_eq(const evb_rate_result_t *a, const evb_rate_result_t *b)
{
    return memcmp(a->currency, b->currency, 4) == 0
           && a->exponent == b->exponent
           && a->tariff_id.len == b->tariff_id.len
           && (a->tariff_id.len == 0
               || memcmp(a->tariff_id.data, b->tariff_id.data,
                         a->tariff_id.len) == 0)
           && a->total_energy == b->total_energy
           && a->total_time == b->total_time
           && a->total_parking_time == b->total_parking_time
           && a->total_reservation_time == b->total_reservation_time
           && amount_eq(&a->total_cost, &b->total_cost)
           && amount_eq(&a->total_energy_cost, &b->total_energy_cost)
           && amount_eq(&a->total_time_cost, &b->total_time_cost)
           && amount_eq(&a->total_parking_cost, &b->total_parking_cost)
           && amount_eq(&a->total_fixed_cost, &b->total_fixed_cost)
           && amount_eq(&a->total_reservation_cost,
                        &b->total_reservation_cost)
           && amount_eq(&a->rounded_cost, &b->rounded_cost)
           && amount_eq(&a->rounded_energy_cost, &b->rounded_energy_cost)
           && amount_eq(&a->rounded_time_cost, &b->rounded_time_cost)
           && amount_eq(&a->rounded_parking_cost, &b->rounded_parking_cost)
           && amount_eq(&a->rounded_fixed_cost, &b->rounded_fixed_cost)
           && amount_eq(&a->rounded_reservation_cost,
                        &b->rounded_reservation_cost);
}


static void
mkreading(evb_reading_t *r, evb_msec_t start, size_t i)
{
    memset(r, 0, sizeof(evb_reading_t));
    r->seq = i + 1;
    r->timestamp = start + rd[i].t;
    r->energy_wh = rd[i].wh;
    r->state = rd[i].state;

    if (rd[i].w >= 0) {
        r->has_power = 1;
        r->power_w = rd[i].w;
    }

    if (rd[i].ma >= 0) {
        r->has_current = 1;
        r->current_ua = rd[i].ma * 1000;
    }
}


/* Replay periods through a fresh rating state. */
static evb_problem_e
replay(const evb_rate_ctx_t *ctx, evb_msec_t start, const col_t *c,
    evb_rate_result_t *out)
{
    size_t            i;
    evb_problem_e     rc;
    evb_rate_state_t  st;
    evb_str_t         none = { NULL, 0 };

    rc = evb_rate_init(&st, ctx, start, none, 0);
    if (rc != EVB_OK) {
        return rc;
    }

    for (i = 0; i < c->n && i < 64; i++) {
        rc = evb_rate_add(&st, ctx, &c->p[i], c->end[i], NULL);
        if (rc != EVB_OK) {
            return rc;
        }
    }

    return evb_rate_result(&st, ctx, out, NULL);
}


int
main(void)
{
    int                 cont, sums, rt, live_eq;
    char                err[256];
    size_t              i, nerr;
    uint64_t            lim;
    int64_t             e, us;
    evb_msec_t          start;
    evb_json_t         *root;
    evb_arena_t        *a;
    evb_meter_t         m, mb, mc;
    evb_tariff_t        tariff;
    evb_reading_t       r;
    evb_rate_ctx_t      ctx;
    evb_problem_e       rc;
    evb_rate_result_t   live[NR], fin, rep;
    evb_tariff_error_t  errors[EVB_TARIFF_ERRORS_MAX];
    static col_t        ca, cb, cc;
    static unsigned char  bytes[sizeof(evb_meter_t)];
    evb_str_t           none = { NULL, 0 };

    static const int64_t  want_start[] = {
        0, 20 * MIN, 1453632, 40 * MIN, 90 * MIN, 100 * MIN, 200 * MIN
    };

    tap_plan(69);

    a = evb_arena_create(65536);
    if (a == NULL) {
        return 1;
    }

    if (evb_json_parse(a, tariff_json, sizeof(tariff_json) - 1, 32, &root,
                       err, sizeof(err))
        != EVB_JSON_OK)
    {
        printf("Bail out! tariff JSON: %s\n", err);
        return 1;
    }

    nerr = 0;
    rc = evb_tariff_parse(a, root, &tariff, errors, &nerr);
    is_int(rc, EVB_OK, "test tariff parses");

    if (rc != EVB_OK) {
        printf("Bail out! %s: %s\n", errors[0].pointer, errors[0].detail);
        return 1;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.tariffs = &tariff;
    ctx.ntariffs = 1;
    ctx.tz = evb_tz_get("Europe/Berlin", err, sizeof(err));
    ctx.policy.rounding = EVB_ROUND_HALF_UP;

    if (ctx.tz == NULL) {
        printf("Bail out! %s\n", err);
        return 1;
    }

    /* 16:40 local */
    if (evb_time_parse_rfc3339("2026-03-10T15:40:00Z", 20, &start) != 0) {
        printf("Bail out! time\n");
        return 1;
    }

    /* live: one reading at a time, the cost after each; after each, a
     * copy finished at that very point must agree */
    is_int(evb_meter_init(&m, &ctx, start, METER0, none), EVB_OK, "init");
    is_int(evb_meter_init(&mb, &ctx, start, METER0, none), EVB_OK,
           "init (round-tripped)");

    rc = EVB_OK;
    rt = 1;
    live_eq = 1;

    for (i = 0; i < NR; i++) {
        mkreading(&r, start, i);

        rc = evb_meter_reading(&m, &ctx, &r, collect, &ca);
        if (rc != EVB_OK) {
            break;
        }

        rc = evb_meter_cost(&m, &ctx, &live[i]);
        if (rc != EVB_OK) {
            break;
        }

        /* the stored state: bytes out, garbage, bytes back */
        rc = evb_meter_reading(&mb, &ctx, &r, collect, &cb);
        if (rc != EVB_OK) {
            break;
        }

        memcpy(bytes, &mb, sizeof(evb_meter_t));
        memset(&mb, 0x5a, sizeof(evb_meter_t));
        memcpy(&mb, bytes, sizeof(evb_meter_t));

        if (memcmp(&m, &mb, sizeof(evb_meter_t)) != 0
            || evb_meter_cost(&mb, &ctx, &fin) != EVB_OK
            || !result_eq(&fin, &live[i]))
        {
            rt = 0;
        }

        mc = m;
        memset(&cc, 0, sizeof(cc));

        if (evb_meter_finish(&mc, &ctx, r.timestamp, r.energy_wh, collect,
                             &cc, &fin)
            != EVB_OK
            || !result_eq(&fin, &live[i]))
        {
            printf("# finish at reading %zu differs from its live cost\n",
                   i);
            live_eq = 0;
        }
    }

    is_int(rc, EVB_OK, "all readings accepted");
    ok(live_eq, "after every reading: live cost == finish at that point");
    ok(rt, "state round-tripped through bytes is identical and costs the "
       "same");
    is_int(ca.n, cb.n, "round-tripped meter closed as many periods");
    ok(ca.n == cb.n && memcmp(ca.p, cb.p, ca.n * sizeof(evb_period_t)) == 0,
       "round-tripped meter closed the same periods");

    /* finish at the last reading's point and time */
    rc = evb_meter_finish(&m, &ctx, start + rd[NR - 1].t, rd[NR - 1].wh,
                          collect, &ca, &fin);
    is_int(rc, EVB_OK, "finish");
    ok(result_eq(&fin, &live[NR - 1]), "finish == last live cost");
    is_int(m.open, 0, "nothing open after finish");

    is_int(ca.n, 7, "seven periods");

    for (i = 0; i < 7 && i < ca.n; i++) {
        is_int(ca.p[i].start - start, want_start[i], "period %zu start", i);
    }

    /* contiguity and exact sums */
    cont = 1;
    sums = 1;
    e = 0;
    us = 0;

    for (i = 0; i < ca.n && i < 64; i++) {
        if (i + 1 < ca.n && ca.end[i] != ca.p[i + 1].start) {
            cont = 0;
        }

        if (ca.end[i] < ca.p[i].start
            || (ca.end[i] - ca.p[i].start) * 1000
               != ca.p[i].time + ca.p[i].parking)
        {
            sums = 0;
        }

        e += ca.p[i].energy;
        us += ca.p[i].time + ca.p[i].parking;
    }

    ok(cont, "each period ends where the next starts");
    ok(sums, "each period's duration is its end minus its start");
    is_int(e, (int64_t) (20400 - METER0) * 1000000, "energies sum exactly");
    is_int(us, (int64_t) 215 * MIN * 1000, "durations sum exactly");
    is_int(ca.end[ca.n - 1] - start, 215 * MIN, "last period ends at stop");

    /* the 17:00 cut: interpolated energy, floored to 10^-9 kWh */
    is_int(ca.p[0].energy, 3969222903LL, "energy at 17:00 is floored");
    /* the 5 kWh cut: energy exactly the threshold */
    is_int(ca.p[0].energy + ca.p[1].energy, 5000000000LL,
           "energy before the kWh cut is exactly 5 kWh");
    is_int(ca.p[1].time, (1453632 - 20 * MIN) * 1000LL,
           "kWh cut instant is the interpolation rounded up to the ms");
    ok(ca.p[0].time > 0 && ca.p[0].parking == 0
       && ca.p[3].parking == 50LL * MIN * 1000 && ca.p[3].time == 0
       && ca.p[4].parking == 10LL * MIN * 1000 && ca.p[5].time > 0,
       "states: charging, parked from the switch, charging again");
    is_int(ca.p[3].energy + ca.p[4].energy, 0, "no energy while parked");

    /* min/max: readings whose intervals touch the period */
    ok(ca.p[0].has_min_power && ca.p[0].min_power == 9000000
       && ca.p[0].max_power == 11000000
       && ca.p[0].min_current == 13000000
       && ca.p[0].max_current == 16000000,
       "period 0: power 9..11 kW, current 13..16 A");
    ok(ca.p[1].has_max_power && ca.p[1].min_power == 9000000
       && ca.p[1].max_power == 9000000 && ca.p[1].max_current == 13000000,
       "period 1 (inside one interval): that reading's values");
    ok(ca.p[2].min_power == 7000000 && ca.p[2].max_power == 9000000
       && ca.p[2].min_current == 10000000,
       "period 2: 7..9 kW");
    ok(ca.p[3].has_min_power && ca.p[3].max_power == 0,
       "parked period: 0 kW");
    ok(!ca.p[4].has_min_power && !ca.p[4].has_max_power
       && !ca.p[4].has_min_current && !ca.p[4].has_max_current,
       "period without measurements has no MIN/MAX");
    ok(ca.p[5].min_power == 2000000 && ca.p[5].max_power == 50000000
       && ca.p[5].has_min_current && ca.p[5].min_current == 3000000,
       "period 5: 2..50 kW, current only from the reading that had it");
    ok(!ca.p[6].has_max_power && !ca.p[6].has_max_current,
       "a cut exactly at a reading: that reading stays in the period "
       "before");

    /* replay of the emitted periods */
    rc = replay(&ctx, start, &ca, &rep);
    is_int(rc, EVB_OK, "replay rates");
    ok(result_eq(&rep, &fin), "replay of the CDR periods == finish");
    is_int(fin.warnings & EVB_WARN_SPANS_PRICE_CHANGE, 0,
           "no period spans a price change");

    /* the price, by hand: energy 5 @0.20 + 5.4 @0.30 = 2.62; time 2 h
     * @2.00 + 35 min @1.00 = 4.583333..; parking 50 min @3.00 + 10 min
     * @6.00 = 3.50; flat 0.50; VAT 20 % */
    is_int(fin.total_energy, 10400000000LL, "total energy");
    is_int(fin.total_time, 215LL * MIN * 1000, "total time");
    is_int(fin.total_parking_time, 60LL * MIN * 1000, "total parking");
    is_int(fin.total_energy_cost.excl, 2620000, "energy cost");
    is_int(fin.total_time_cost.excl, 4583333, "time cost");
    is_int(fin.total_parking_cost.excl, 3500000, "parking cost");
    is_int(fin.total_cost.excl, 11203333, "total excl");
    is_int(fin.total_cost.incl, 13444000, "total incl");
    is_int(fin.rounded_cost.excl, 11200000, "rounded excl");
    is_int(fin.rounded_cost.incl, 13440000, "rounded incl");

    /* finish after the last reading: the stop extends the last period */
    memset(&cc, 0, sizeof(cc));
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);

    for (i = 0; rc == EVB_OK && i < NR; i++) {
        mkreading(&r, start, i);
        rc = evb_meter_reading(&mc, &ctx, &r, collect, &cc);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&mc, &ctx, start + 230 * MIN, 20500, collect,
                              &cc, &fin);
    }

    is_int(rc, EVB_OK, "later stop");
    is_int(cc.n, 7, "later stop: still seven periods");
    is_int(cc.p[6].energy, 1000000000LL, "last period to the stop");
    is_int(cc.p[6].time, 30LL * MIN * 1000, "last period's time");
    rc = replay(&ctx, start, &cc, &rep);
    ok(rc == EVB_OK && result_eq(&rep, &fin), "later stop == replay");

    /* no readings: a stop at the start emits nothing */
    memset(&cc, 0, sizeof(cc));
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);

    if (rc == EVB_OK) {
        rc = evb_meter_cost(&mc, &ctx, &live[0]);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&mc, &ctx, start, METER0, collect, &cc, &fin);
    }

    is_int(rc, EVB_OK, "empty session");
    is_int(cc.n, 0, "empty session: no periods");
    ok(result_eq(&fin, &live[0]), "empty session: cost == finish");
    is_int(fin.total_energy, 0, "empty session: no energy");

    /* no readings, one stop: one charging period */
    memset(&cc, 0, sizeof(cc));
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&mc, &ctx, start + 10 * MIN, METER0 + 500,
                              collect, &cc, &fin);
    }

    ok(rc == EVB_OK && cc.n == 1 && cc.p[0].time == 10LL * MIN * 1000
       && cc.p[0].energy == 500000000LL,
       "stop without readings: one charging period");

    /* checks the store normally makes first */
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);
    mkreading(&r, start, 1);
    rc = evb_meter_reading(&mc, &ctx, &r, NULL, NULL);
    mkreading(&r, start, 0);
    is_int(evb_meter_reading(&mc, &ctx, &r, NULL, NULL),
           EVB_P_TIME_BACKWARDS, "time going backwards is refused");
    mkreading(&r, start, 2);
    r.energy_wh = 12000;
    is_int(evb_meter_reading(&mc, &ctx, &r, NULL, NULL),
           EVB_P_REGISTER_BACKWARDS, "register going backwards is refused");

    /* max_periods: the session above makes exactly 7 */
    for (lim = 6; lim <= 7; lim++) {
        ctx.policy.max_periods = lim;
        memset(&cc, 0, sizeof(cc));
        rc = evb_meter_init(&mc, &ctx, start, METER0, none);

        for (i = 0; rc == EVB_OK && i < NR; i++) {
            mkreading(&r, start, i);
            rc = evb_meter_reading(&mc, &ctx, &r, collect, &cc);
        }

        if (rc == EVB_OK) {
            rc = evb_meter_finish(&mc, &ctx, start + rd[NR - 1].t,
                                  rd[NR - 1].wh, collect, &cc, &fin);
        }

        if (lim == 7) {
            ok(rc == EVB_OK && cc.n == 7 && result_eq(&fin, &live[NR - 1]),
               "max_periods 7: the 7-period session, same price");

        } else {
            is_int(rc, EVB_P_SESSION_LIMIT, "max_periods 6: refused");
            ok(cc.n <= 6 && evb_meter_periods(&mc) == 7,
               "max_periods 6: refused at the 7th period, none closed "
               "beyond 6 (%zu)", cc.n);
        }
    }

    /* the attack: one reading ten years after the start, under a
     * time-of-day restriction, stops at the bound instead of cutting
     * about 7,300 periods */
    ctx.policy.max_periods = 5000;
    memset(&cc, 0, sizeof(cc));
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);
    memset(&r, 0, sizeof(r));
    r.seq = 1;
    r.timestamp = start + 3650LL * 86400 * 1000;
    r.energy_wh = METER0 + 1000;

    if (rc == EVB_OK) {
        rc = evb_meter_reading(&mc, &ctx, &r, collect, &cc);
    }

    is_int(rc, EVB_P_SESSION_LIMIT, "a 10-year interval: session-limit");
    is_int(cc.n, 5000, "... after exactly 5000 closed periods");

    /* a cut at the reading's instant opens an empty period: not counted */
    ctx.policy.max_periods = 2;
    rc = evb_meter_init(&mc, &ctx, start, METER0, none);
    memset(&r, 0, sizeof(r));
    r.seq = 1;
    r.timestamp = start + 20 * MIN;              /* 17:00 local exactly */
    r.energy_wh = METER0 + 100;

    if (rc == EVB_OK) {
        rc = evb_meter_reading(&mc, &ctx, &r, NULL, NULL);
    }

    ok(rc == EVB_OK && mc.nperiods == 1 && mc.open
       && evb_meter_periods(&mc) == 1,
       "a cut at the last reading: 1 period, the empty one not counted");

    r.seq = 2;
    r.timestamp = start + 30 * MIN;
    r.energy_wh = METER0 + 200;
    is_int(evb_meter_reading(&mc, &ctx, &r, NULL, NULL), EVB_OK,
           "max_periods 2: a second period");
    ok(evb_meter_finish(&mc, &ctx, start + 30 * MIN, METER0 + 200, NULL,
                        NULL, &fin) == EVB_OK && mc.nperiods == 2,
       "max_periods 2: finish at the last reading stays within it");

    ctx.policy.max_periods = 0;

    evb_arena_destroy(a);

    return tap_done();
}
