/*
 * The rating engine: each restriction's boundaries, step_size, min/max,
 * VAT absent vs 0 %, rounding policy, incremental equivalence (and a
 * state copied as bytes), next_time_change / next_energy_change, and
 * cuts at DST changes checked against a minute-by-minute reference.
 */

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_core.h"
#include "../../src/core/evb_json.h"
#include "../../src/core/evb_rate.h"
#include "../../src/core/evb_meter.h"
#include "../../src/core/evb_bill.h"


#define KWH(x)   ((int64_t) (x) * 1000000000LL)      /* whole kWh */
#define WH(x)    ((int64_t) (x) * 1000000LL)
#define MIN(x)   ((int64_t) (x) * 60000000LL)        /* minutes in us */
#define MS_MIN   60000LL

#define HEAD  "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"t\"," \
              "\"currency\":\"EUR\",\"last_updated\":\"2024-01-01T00:00:00Z\","


static evb_arena_t     *A;
static evb_tariff_t     T[2];
static evb_rate_ctx_t   C;


static int
load(const char *zone, const char *json)
{
    char                err[128];
    size_t              n;
    evb_json_t         *root;
    evb_tariff_error_t  e[EVB_TARIFF_ERRORS_MAX];

    memset(&C, 0, sizeof(C));
    C.policy.rounding = EVB_ROUND_HALF_UP;
    n = 0;
    C.tz = evb_tz_get(zone, err, sizeof(err));

    if (C.tz == NULL
        || evb_json_parse(A, json, strlen(json), 32, &root, err, sizeof(err))
           != EVB_JSON_OK
        || evb_tariff_parse(A, root, &T[0], e, &n) != EVB_OK)
    {
        printf("# fixture does not load: %s %s\n", err,
               n > 0 ? e[0].pointer : "");
        return -1;
    }

    C.tariffs = T;
    C.ntariffs = 1;
    return 0;
}


static evb_msec_t
ts(const char *s)
{
    evb_msec_t  t;

    if (evb_time_parse_rfc3339(s, strlen(s), &t) != 0) {
        printf("# bad time %s\n", s);
        return 0;
    }

    return t;
}


static evb_period_t
per(evb_msec_t start, int64_t energy, int64_t time, int64_t parking)
{
    evb_period_t  p;

    memset(&p, 0, sizeof(p));
    p.start = start;
    p.energy = energy;
    p.time = time;
    p.parking = parking;
    return p;
}


/* Rate periods (each ends where the next starts, the last at end). */
static evb_problem_e
rate(evb_msec_t start, const evb_period_t *p, size_t n, evb_msec_t end,
    evb_rate_result_t *res)
{
    size_t            i;
    evb_str_t         none = { NULL, 0 };
    evb_problem_e     rc;
    evb_rate_state_t  st;

    rc = evb_rate_init(&st, &C, start, none, 0);

    for (i = 0; rc == EVB_OK && i < n; i++) {
        rc = evb_rate_add(&st, &C, &p[i], i + 1 < n ? p[i + 1].start : end,
                          NULL);
    }

    if (rc == EVB_OK) {
        rc = evb_rate_result(&st, &C, res, NULL);
    }

    return rc;
}


/* The excl. total (10^-6) of one period priced at `at`. */
static int64_t
price_at(evb_msec_t session_start, evb_period_t p)
{
    evb_rate_result_t  res;

    if (rate(session_start, &p, 1, p.start + MS_MIN, &res) != EVB_OK) {
        return -1;
    }

    return res.total_cost.excl;
}


static void
test_time_restrictions(void)
{
    evb_msec_t  t;

    /* 1 kWh costs 0.40 inside 17:00-06:30 (wraps midnight), 0.20 else */
    if (load("Europe/Berlin", HEAD "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.4,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"17:00\","
        "\"end_time\":\"06:30\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.2,"
        "\"step_size\":1}]}]}") != 0)
    {
        ok(0, "time fixture");
        return;
    }

    /* 2024-01-15 is a Monday; Berlin is UTC+1 in January */
    t = ts("2024-01-15T16:00:00Z");                 /* 17:00 local */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 400000,
           "start_time is inclusive (17:00:00.000)");
    is_int(price_at(t - 1, per(t - 1, KWH(1), 0, 0)), 200000,
           "16:59:59.999 is before it");
    t = ts("2024-01-16T05:30:00Z");                 /* 06:30 local */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 200000,
           "end_time is exclusive (06:30)");
    is_int(price_at(t - 1, per(t - 1, KWH(1), 0, 0)), 400000,
           "06:29:59.999 is inside (wrapped past midnight)");
    t = ts("2024-01-15T23:00:00Z");                 /* 00:00 local */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 400000, "midnight inside");

    /* summer: UTC+2, so 15:30Z is 17:30 local */
    t = ts("2024-07-15T15:30:00Z");
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 400000,
           "local time follows DST");
}


static void
test_other_restrictions(void)
{
    evb_msec_t    t, s;
    evb_period_t  p;

    /* date window [2024-03-01, 2024-03-02) local, weekend, durations */
    if (load("Europe/Berlin", HEAD "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.1,"
        "\"step_size\":1}],\"restrictions\":{\"start_date\":\"2024-03-01\","
        "\"end_date\":\"2024-03-02\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3,"
        "\"step_size\":1}],\"restrictions\":{\"day_of_week\":"
        "[\"SATURDAY\",\"SUNDAY\"]}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.5,"
        "\"step_size\":1}],\"restrictions\":{\"min_duration\":1800,"
        "\"max_duration\":3600}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.7,"
        "\"step_size\":1}],\"restrictions\":{\"min_kwh\":10,"
        "\"max_kwh\":20}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.9,"
        "\"step_size\":1}],\"restrictions\":{\"min_power\":11,"
        "\"max_power\":50}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":1.0,"
        "\"step_size\":1}]}]}") != 0)
    {
        ok(0, "restrictions fixture");
        return;
    }

    t = ts("2024-02-29T23:00:00Z");                 /* 03-01 00:00 local */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 100000,
           "start_date inclusive at local midnight");
    is_int(price_at(t - 1, per(t - 1, KWH(1), 0, 0)), 1000000,
           "the day before is outside");
    t = ts("2024-03-01T23:00:00Z");                 /* 03-02 00:00 local */
    is_int(price_at(t - 1, per(t - 1, KWH(1), 0, 0)), 100000,
           "last ms of the end_date's eve is inside");
    /* 2024-03-02 is a Saturday: end_date exclusive, weekend price */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 300000,
           "end_date exclusive; Saturday by local day");
    t = ts("2024-03-03T22:59:59Z");                 /* Sunday 23:59:59 */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 300000, "Sunday local");
    t = ts("2024-03-03T23:00:00Z");                 /* Monday 00:00 */
    is_int(price_at(t, per(t, KWH(1), 0, 0)), 1000000,
           "Monday 00:00 local is a weekday (UTC says Sunday)");

    /* durations from session start, on a Tuesday */
    s = ts("2024-03-05T10:00:00Z");
    is_int(price_at(s, per(s + 30 * MS_MIN, KWH(1), 0, 0)), 500000,
           "min_duration inclusive (exactly 1800 s)");
    is_int(price_at(s, per(s + 30 * MS_MIN - 1, KWH(1), 0, 0)), 1000000,
           "1799.999 s is below it");
    is_int(price_at(s, per(s + 60 * MS_MIN, KWH(1), 0, 0)), 1000000,
           "max_duration exclusive (3600 s)");

    /* energy before the period: [10, 20) kWh */
    {
        evb_period_t       ps[2];
        evb_rate_result_t  res;

        ps[0] = per(s, KWH(10), 0, 0);
        ps[1] = per(s + 5 * MS_MIN, KWH(1), 0, 0);
        rate(s, ps, 2, s + 10 * MS_MIN, &res);
        is_int(res.total_cost.excl, 10000000 + 700000,
               "min_kwh inclusive (10 kWh before)");
        ok(res.warnings == 0, "no warning for periods meeting at it");

        ps[0].energy = KWH(10) - 1;
        rate(s, ps, 2, s + 10 * MS_MIN, &res);
        is_int(res.total_cost.excl, 11000000,
               "below min_kwh by 10^-9 kWh (9.999999999 + 1.00)");

        ps[0].energy = KWH(20);
        rate(s, ps, 2, s + 10 * MS_MIN, &res);
        is_int(res.total_cost.excl, 20000000 + 1000000,
               "max_kwh exclusive (20 kWh before)");
        ok(res.warnings & EVB_WARN_SPANS_PRICE_CHANGE,
           "0 -> 20 kWh in one period crosses min_kwh 10: reported");

        ps[0].energy = KWH(15);
        ps[1].energy = KWH(10);
        rate(s, ps, 2, s + 10 * MS_MIN, &res);
        ok(res.warnings & EVB_WARN_SPANS_PRICE_CHANGE,
           "a period crossing 20 kWh is reported");
    }

    /* power: min_* against the period's peak, max_* against its low */
    p = per(s, KWH(1), 0, 0);
    p.has_min_power = p.has_max_power = 1;
    p.min_power = 11000000;
    p.max_power = 11000000;
    is_int(price_at(s, p), 900000, "min_power inclusive (11 kW)");
    p.min_power = p.max_power = 10999999;
    is_int(price_at(s, p), 1000000, "below min_power");
    p.min_power = p.max_power = 50000000;
    is_int(price_at(s, p), 1000000, "max_power exclusive (50 kW)");
    p.min_power = 49999999;
    is_int(price_at(s, p), 900000, "low below max_power, peak at it");
    p.has_min_power = p.has_max_power = 0;
    is_int(price_at(s, p), 1000000, "no power measured: bound not met");
}


static void
test_reservation(void)
{
    evb_msec_t         s;
    evb_period_t       p[2];
    evb_str_t          none = { NULL, 0 };
    evb_rate_state_t   st;
    evb_rate_result_t  res;

    /* RESERVATION 4/h + 1.00 fee, EXPIRES 6/h, charging 1/h + 0.50 */
    if (load("UTC", HEAD "\"elements\":["
        "{\"price_components\":[{\"type\":\"TIME\",\"price\":6,"
        "\"step_size\":1}],\"restrictions\":{\"reservation\":"
        "\"RESERVATION_EXPIRES\"}},"
        "{\"price_components\":[{\"type\":\"TIME\",\"price\":4,"
        "\"step_size\":1},{\"type\":\"FLAT\",\"price\":1,\"step_size\":0}],"
        "\"restrictions\":{\"reservation\":\"RESERVATION\"}},"
        "{\"price_components\":[{\"type\":\"TIME\",\"price\":1,"
        "\"step_size\":1},{\"type\":\"FLAT\",\"price\":0.5,"
        "\"step_size\":0}]}]}") != 0)
    {
        ok(0, "reservation fixture");
        return;
    }

    s = ts("2024-01-15T10:00:00Z");
    p[0] = per(s, 0, 0, 0);
    p[0].reservation = MIN(30);
    p[1] = per(s + 30 * MS_MIN, 0, MIN(60), 0);

    rate(s, p, 2, s + 90 * MS_MIN, &res);
    is_int(res.total_reservation_cost.excl, 2000000 + 1000000,
           "reservation time at 4/h plus its own fee");
    is_int(res.total_time_cost.excl, 1000000, "charging at 1/h");
    is_int(res.total_fixed_cost.excl, 500000, "the charging FLAT apart");
    is_int(res.total_cost.excl, 4500000, "two FLATs: reservation + start");

    evb_rate_init(&st, &C, s, none, 1);
    evb_rate_add(&st, &C, &p[0], p[1].start, NULL);
    evb_rate_add(&st, &C, &p[1], s + 90 * MS_MIN, NULL);
    evb_rate_result(&st, &C, &res, NULL);
    is_int(res.total_reservation_cost.excl, 3000000 + 1000000,
           "expired: EXPIRES time 6/h, RESERVATION still supplies the fee");
}


static void
test_step_size(void)
{
    evb_msec_t         s;
    evb_period_t       p[3];
    evb_rate_result_t  res;

    /* energy: 0.20 before 17:00 step 500 Wh, 0.27 after step 1000 Wh */
    if (load("UTC", HEAD "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.2,"
        "\"step_size\":500}],\"restrictions\":{\"end_time\":\"17:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.27,"
        "\"step_size\":1000}]}]}") != 0)
    {
        ok(0, "step fixture");
        return;
    }

    s = ts("2024-01-15T15:00:00Z");
    p[0] = per(s, WH(4300), 0, 0);
    p[1] = per(ts("2024-01-15T17:00:00Z"), WH(1100), 0, 0);
    rate(s, p, 2, s + 180 * MS_MIN, &res);
    /* 5.4 kWh -> 6 (last step 1000 Wh); 0.6 kWh surplus at 0.27 */
    is_int(res.total_cost.excl, 860000 + 297000 + 162000,
           "energy total rounded once, last step, last price");

    p[1].energy = WH(1700);                         /* 6.0 kWh exactly */
    rate(s, p, 2, s + 180 * MS_MIN, &res);
    is_int(res.total_cost.excl, 860000 + 459000,
           "an exact multiple stays");

    C.policy.no_step_size = 1;
    p[1].energy = WH(1100);
    rate(s, p, 2, s + 180 * MS_MIN, &res);
    is_int(res.total_cost.excl, 860000 + 297000, "policy no_step_size");
    C.policy.no_step_size = 0;

    /* time and parking share one rounding: parking's when present */
    if (load("UTC", HEAD "\"elements\":[{\"price_components\":["
        "{\"type\":\"TIME\",\"price\":6,\"step_size\":600},"
        "{\"type\":\"PARKING_TIME\",\"price\":12,\"step_size\":900}]}]}")
        != 0)
    {
        ok(0, "time step fixture");
        return;
    }

    p[0] = per(s, 0, MIN(7), 0);
    rate(s, p, 1, s + 7 * MS_MIN, &res);
    is_int(res.total_time_cost.excl, 1000000, "TIME alone: 7 -> 10 min");

    p[1] = per(s + 7 * MS_MIN, 0, 0, MIN(2));
    rate(s, p, 2, s + 9 * MS_MIN, &res);
    is_int(res.total_time_cost.excl, 700000,
           "with parking, charging time is not rounded");
    is_int(res.total_parking_cost.excl, 3000000, "parking 2 -> 15 min");

    p[0] = per(s, 0, 0, MIN(2));                    /* park, then charge */
    p[1] = per(s + 2 * MS_MIN, 0, MIN(7), 0);
    rate(s, p, 2, s + 9 * MS_MIN, &res);
    is_int(res.total_cost.excl, 3000000 + 700000,
           "park-then-charge: parking absorbs the rounding");

    /* step_size 0: no rounding, no division */
    if (load("UTC", HEAD "\"elements\":[{\"price_components\":["
        "{\"type\":\"TIME\",\"price\":6,\"step_size\":0}]}]}") != 0)
    {
        ok(0, "step 0 fixture");
        return;
    }

    p[0] = per(s, 0, MIN(7), 0);
    is_int(rate(s, p, 1, s + 7 * MS_MIN, &res), EVB_OK, "step 0 rates");
    is_int(res.total_cost.excl, 700000, "step 0 bills what was measured");
}


static void
test_min_max_vat(void)
{
    evb_msec_t         s;
    evb_period_t       p;
    evb_rate_result_t  res;

    s = ts("2024-01-15T10:00:00Z");

    if (load("UTC", HEAD "\"min_price\":{\"excl_vat\":5},"
        "\"max_price\":{\"excl_vat\":10,\"incl_vat\":11},"
        "\"elements\":[{\"price_components\":["
        "{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":21,\"step_size\":1},"
        "{\"type\":\"FLAT\",\"price\":0.5,\"step_size\":0}]}]}") != 0)
    {
        ok(0, "min/max fixture");
        return;
    }

    p = per(s, KWH(2), 0, 0);
    rate(s, &p, 1, s + MS_MIN, &res);
    /* 1.00 excl, 0.605 + 0.50 incl; min 5 excl only: incl scaled x5 */
    is_int(res.total_cost.excl, 5000000, "min_price raises excl");
    is_int(res.total_cost.incl, 5525000, "incl scaled by the same factor");
    is_int(res.total_energy_cost.excl, 500000,
           "dimension totals stay unclamped");

    p.energy = KWH(100);
    rate(s, &p, 1, s + MS_MIN, &res);
    is_int(res.total_cost.excl, 10000000, "max_price caps excl");
    is_int(res.total_cost.incl, 11000000, "and incl to its own bound");

    C.policy.ignore_min_max = 1;
    rate(s, &p, 1, s + MS_MIN, &res);
    is_int(res.total_cost.excl, 25500000, "policy ignore_min_max");
    C.policy.ignore_min_max = 0;

    /* VAT: absent is no VAT (incl left out); 0 % is VAT of zero */
    load("UTC", HEAD "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.25,\"step_size\":1}]}]}");
    p.energy = KWH(2);
    rate(s, &p, 1, s + MS_MIN, &res);
    ok(!res.total_cost.has_incl && !res.total_energy_cost.has_incl,
       "no VAT anywhere: incl_vat absent");

    load("UTC", HEAD "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":0,\"step_size\":1}]}]}");
    rate(s, &p, 1, s + MS_MIN, &res);
    ok(res.total_cost.has_incl && res.total_cost.incl == 500000,
       "VAT 0 %%: incl_vat present and equal");

    /* rounding policy on 20.5 kWh x 0.25 = 5.125 */
    p.energy = WH(20500);
    rate(s, &p, 1, s + MS_MIN, &res);
    is_int(res.total_cost.excl, 5125000, "exact 5.125");
    is_int(res.rounded_cost.excl, 5130000, "half_up 5.13");
    C.policy.rounding = EVB_ROUND_HALF_EVEN;
    rate(s, &p, 1, s + MS_MIN, &res);
    is_int(res.rounded_cost.excl, 5120000, "half_even 5.12");
    C.policy.rounding = EVB_ROUND_HALF_UP;

    /* JPY: no minor unit */
    load("UTC", "{\"country_code\":\"JP\",\"party_id\":\"EVB\",\"id\":\"t\","
         "\"currency\":\"JPY\",\"last_updated\":\"2024-01-01T00:00:00Z\","
         "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
         "\"price\":45,\"vat\":10,\"step_size\":1}]}]}");
    p.energy = WH(1511);
    rate(s, &p, 1, s + MS_MIN, &res);
    is_int(res.total_cost.excl, 67995000, "JPY exact 67.995");
    is_int(res.rounded_cost.excl, 68000000, "JPY rounded to 68");
    is_int(res.rounded_cost.incl, 75000000, "JPY incl 74.7945 -> 75");
}


static void
test_incremental(void)
{
    size_t             i, k;
    evb_msec_t         s, end;
    evb_str_t          none = { NULL, 0 };
    evb_period_t       p[6];
    evb_rate_state_t   st, copy;
    evb_rate_result_t  a, b;
    int                same;

    if (load("Europe/Berlin", HEAD "\"min_price\":{\"excl_vat\":2},"
        "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.35,"
        "\"vat\":19,\"step_size\":100},{\"type\":\"TIME\",\"price\":1.2,"
        "\"vat\":19,\"step_size\":300}],\"restrictions\":{\"start_time\":"
        "\"17:00\",\"end_time\":\"21:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3,"
        "\"vat\":19,\"step_size\":1000}],\"restrictions\":"
        "{\"min_kwh\":30}},"
        "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":6,"
        "\"vat\":19,\"step_size\":600}],\"restrictions\":"
        "{\"min_duration\":5400}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.25,"
        "\"vat\":19,\"step_size\":100},{\"type\":\"TIME\",\"price\":0.6,"
        "\"vat\":19,\"step_size\":60},{\"type\":\"FLAT\",\"price\":0.5,"
        "\"vat\":7,\"step_size\":0}]}]}") != 0)
    {
        ok(0, "incremental fixture");
        return;
    }

    s = ts("2024-03-12T15:40:00Z");                 /* 16:40 local */
    p[0] = per(s, 8123456789LL, MIN(20), 0);
    p[1] = per(s + 20 * MS_MIN, 21000000001LL, MIN(40), 0);
    p[2] = per(s + 60 * MS_MIN, 3333333333LL, MIN(25), 0);
    p[3] = per(s + 85 * MS_MIN, 0, 0, MIN(5));
    p[4] = per(s + 90 * MS_MIN, 0, 0, MIN(13));
    p[5] = per(s + 103 * MS_MIN, 1, MIN(2), 0);
    end = s + 105 * MS_MIN;

    evb_rate_init(&st, &C, s, none, 0);
    same = 1;

    for (i = 0; i < 6; i++) {
        evb_msec_t  e = i + 1 < 6 ? p[i + 1].start : end;

        /* the stored state is plain bytes: continue from a copy */
        memcpy(&copy, &st, sizeof(st));
        memset(&st, 0xa5, sizeof(st));
        evb_rate_add(&copy, &C, &p[i], e, NULL);
        memcpy(&st, &copy, sizeof(st));
        evb_rate_result(&st, &C, &a, NULL);

        /* the prefix rated from scratch */
        memset(&b, 0, sizeof(b));
        {
            evb_rate_state_t  fresh;

            evb_rate_init(&fresh, &C, s, none, 0);

            for (k = 0; k <= i; k++) {
                evb_rate_add(&fresh, &C, &p[k],
                             k < i ? p[k + 1].start : e, NULL);
            }

            evb_rate_result(&fresh, &C, &b, NULL);
        }

        if (memcmp(&a.total_cost, &b.total_cost, sizeof(a.total_cost)) != 0
            || a.rounded_cost.incl != b.rounded_cost.incl
            || a.total_energy_cost.excl != b.total_energy_cost.excl
            || a.total_time_cost.incl != b.total_time_cost.incl
            || a.total_parking_cost.excl != b.total_parking_cost.excl
            || a.total_time != b.total_time)
        {
            same = 0;
            printf("# after period %zu: %lld vs %lld\n", i,
                   (long long) a.total_cost.excl,
                   (long long) b.total_cost.excl);
        }
    }

    ok(same, "result after each period equals the prefix rated afresh");

    /* asking for a result leaves the state alone */
    memcpy(&copy, &st, sizeof(st));
    evb_rate_result(&st, &C, &a, NULL);
    ok(memcmp(&copy, &st, sizeof(st)) == 0, "result does not change state");
    ok(a.total_cost.excl > 2000000 && a.total_cost.has_incl,
       "a real bill came out");
}


static void
test_next_change(void)
{
    evb_msec_t        s, t;
    evb_str_t         none = { NULL, 0 };
    evb_rate_state_t  st;

    if (load("Europe/Berlin", HEAD "\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.4,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"02:30\","
        "\"end_time\":\"17:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3,"
        "\"step_size\":1}],\"restrictions\":{\"min_kwh\":5,"
        "\"max_kwh\":12.5,\"max_duration\":5400}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.2,"
        "\"step_size\":1}]}]}") != 0)
    {
        ok(0, "next-change fixture");
        return;
    }

    s = ts("2024-01-15T14:00:00Z");                 /* 15:00 local */
    evb_rate_init(&st, &C, s, none, 0);

    t = evb_rate_next_time_change(&st, &C, s, s + 86400000LL);
    is_int(t, ts("2024-01-15T15:30:00Z"), "next: max_duration 5400 s");
    t = evb_rate_next_time_change(&st, &C, ts("2024-01-15T15:30:00Z"),
                                  s + 86400000LL);
    is_int(t, ts("2024-01-15T16:00:00Z"),
           "strictly after t: then 17:00 local (CET)");
    t = evb_rate_next_time_change(&st, &C, s, s + 30 * MS_MIN);
    is_int(t, s + 30 * MS_MIN, "nothing before limit: limit");
    t = evb_rate_next_time_change(&st, &C, ts("2024-01-15T16:00:00Z"),
                                  s + 86400000LL);
    is_int(t, ts("2024-01-16T01:30:00Z"), "then 02:30 local next day");

    /* 2024-03-31: Berlin skips 02:00-03:00; 02:30 happens at the jump */
    s = ts("2024-03-30T22:00:00Z");
    evb_rate_init(&st, &C, s, none, 0);
    t = evb_rate_next_time_change(&st, &C, ts("2024-03-31T00:00:00Z"),
                                  ts("2024-03-31T12:00:00Z"));
    is_int(t, ts("2024-03-31T01:00:00Z"),
           "a skipped 02:30 is the DST jump instant");
    t = evb_rate_next_time_change(&st, &C, ts("2024-03-31T01:00:00Z"),
                                  ts("2024-03-31T23:00:00Z"));
    is_int(t, ts("2024-03-31T15:00:00Z"), "17:00 CEST after the jump");

    is_int(evb_rate_next_energy_change(&st, &C, 0), KWH(5),
           "first kWh threshold");
    is_int(evb_rate_next_energy_change(&st, &C, KWH(5)), WH(12500),
           "strictly above e");
    ok(evb_rate_next_energy_change(&st, &C, WH(12500)) == INT64_MAX,
       "none left: INT64_MAX");
    is_int(evb_rate_energy_so_far(&st), 0, "no energy yet");
}


/*
 * DST: sessions priced through the meter (periods cut from readings)
 * against a reference that prices each minute on its own, at the price
 * its local wall clock (evb_tz_local) gives.  Bounds and transitions are
 * whole minutes, so that reference is exact.
 */

typedef struct {
    int64_t   price;                /* 10^-6 EUR/kWh */
    int       s, e;                 /* window in minutes; -1: none */
    unsigned  mask;                 /* day_of_week, bit 0 Monday; 0 any */
} dst_el_t;


static unsigned
dst_truth(const dst_el_t *el, const evb_tm_t *tm)
{
    int       sod;
    unsigned  v;

    sod = tm->hour * 60 + tm->minute;
    v = 0;

    if (el->s < 0
        || (el->s < el->e ? sod >= el->s && sod < el->e
                          : sod >= el->s || sod < el->e))
    {
        v |= 1;
    }

    if (el->mask == 0 || ((el->mask >> tm->wday) & 1)) {
        v |= 4;
    }

    return v;
}


static int64_t
dst_price(const dst_el_t *els, size_t n, evb_msec_t t)
{
    size_t    i;
    evb_tm_t  tm;

    evb_tz_local(C.tz, t / 1000, &tm);

    for (i = 0; i < n; i++) {
        if (dst_truth(&els[i], &tm) == 5) {
            return els[i].price;
        }
    }

    return 0;
}


static void
dst_collect(void *data, const evb_period_t *p, evb_msec_t end)
{
    size_t  *n = data;

    (*n)++;
}


/*
 * A session from start with a reading every step ms, each adding wh Wh,
 * nr of them; returns the exact total (10^-6 EUR) from the meter and
 * checks it against the reference and the spans warning.
 */
static void
dst_session(const char *zone, const char *elements, const dst_el_t *els,
    size_t nels, const char *start_s, int64_t step, int64_t wh, int nr,
    const char *name)
{
    int                i;
    char               json[1024];
    size_t             nper;
    int64_t            want, m, per_min;
    evb_msec_t         start, t;
    evb_meter_t        mt;
    evb_reading_t      r;
    evb_problem_e      rc;
    evb_rate_result_t  live, fin;
    evb_str_t          none = { NULL, 0 };

    snprintf(json, sizeof(json), HEAD "\"elements\":[%s]}", elements);

    if (load(zone, json) != 0) {
        ok(0, "%s: fixture", name);
        return;
    }

    start = ts(start_s);
    nper = 0;
    rc = evb_meter_init(&mt, &C, start, 0, none);

    for (i = 1; rc == EVB_OK && i <= nr; i++) {
        memset(&r, 0, sizeof(r));
        r.seq = (uint64_t) i;
        r.timestamp = start + i * step;
        r.energy_wh = wh * i;
        r.state = EVB_READING_CHARGING;
        rc = evb_meter_reading(&mt, &C, &r, dst_collect, &nper);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_cost(&mt, &C, &live);
    }

    if (rc == EVB_OK) {
        rc = evb_meter_finish(&mt, &C, start + nr * step, wh * nr,
                              dst_collect, &nper, &fin);
    }

    if (rc != EVB_OK) {
        ok(0, "%s: rated (%d)", name, (int) rc);
        return;
    }

    /* Wh per minute is whole in every case below: 10^-9 kWh exact */
    per_min = wh * 1000000 / (step / MS_MIN);
    want = 0;

    for (t = start; t < start + nr * step; t += MS_MIN) {
        m = dst_price(els, nels, t) * per_min;   /* 10^-15 EUR */
        want += m;
    }

    want /= 1000000000;

    is_int(fin.total_cost.excl, want, "%s: total as priced minute by minute",
           name);
    is_int(live.total_cost.excl, want, "%s: live cost the same", name);
    is_int(fin.warnings & EVB_WARN_SPANS_PRICE_CHANGE, 0,
           "%s: no period spans a change (%zu periods)", name, nper);
}


static void
test_dst(void)
{
    int                k;
    char               name[96];
    evb_msec_t         s, t;
    evb_period_t       p;
    evb_rate_state_t   st;
    evb_rate_result_t  res;
    evb_str_t          none = { NULL, 0 };

    static const char  ber[] =
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.20,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"22:00\","
        "\"end_time\":\"02:30\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.40,"
        "\"step_size\":1}]}";
    static const dst_el_t  ber_el[] = {
        { 200000, 22 * 60, 150, 0 }, { 400000, -1, -1, 0 }
    };

    /* spring: 02:30 is skipped; a window opening at it opens at the jump */
    static const char  spring[] =
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.20,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"02:30\","
        "\"end_time\":\"05:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.40,"
        "\"step_size\":1}]}";
    static const dst_el_t  spring_el[] = {
        { 200000, 150, 300, 0 }, { 400000, -1, -1, 0 }
    };

    /* New York: 01:00-01:30 twice on 2026-11-01, a Sunday-only window
     * and a window that closes at the jump back */
    static const char  ny[] =
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.10,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"01:00\","
        "\"end_time\":\"01:30\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"01:45\","
        "\"end_time\":\"02:30\",\"day_of_week\":[\"SUNDAY\"]}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.50,"
        "\"step_size\":1}]}";
    static const dst_el_t  ny_el[] = {
        { 100000, 60, 90, 0 }, { 300000, 105, 150, 1u << 6 },
        { 500000, -1, -1, 0 }
    };

    /* Chatham: +13:45 to +12:45 at 03:45 local; 03:00-03:30 twice, and
     * 03:40-04:00 ends at the jump back */
    static const char  cha[] =
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.10,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"03:00\","
        "\"end_time\":\"03:30\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
        "\"step_size\":1}],\"restrictions\":{\"start_time\":\"03:40\","
        "\"end_time\":\"04:00\"}},"
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.50,"
        "\"step_size\":1}]}";
    static const dst_el_t  cha_el[] = {
        { 100000, 180, 210, 0 }, { 300000, 220, 240, 0 },
        { 500000, -1, -1, 0 }
    };

    /* the case from outside testing: 10 kWh every 30 min from 00:00Z */
    if (load("Europe/Berlin", HEAD "\"elements\":[" "{\"price_components\":"
             "[{\"type\":\"ENERGY\",\"price\":0.20,\"step_size\":1}],"
             "\"restrictions\":{\"start_time\":\"22:00\","
             "\"end_time\":\"02:30\"}},{\"price_components\":"
             "[{\"type\":\"ENERGY\",\"price\":0.40,\"step_size\":1}]}]}")
        == 0)
    {
        evb_meter_t    mt;
        evb_reading_t  r;
        size_t         nper;

        s = ts("2026-10-25T00:00:00Z");
        nper = 0;
        evb_meter_init(&mt, &C, s, 0, none);

        for (k = 1; k <= 4; k++) {
            memset(&r, 0, sizeof(r));
            r.seq = (uint64_t) k;
            r.timestamp = s + k * 30 * MS_MIN;
            r.energy_wh = 10000 * k;
            r.state = EVB_READING_CHARGING;
            evb_meter_reading(&mt, &C, &r, dst_collect, &nper);
        }

        evb_meter_cost(&mt, &C, &res);
        is_int(res.total_cost.excl, 12000000,
               "Berlin autumn: 01:00-01:30Z (02:00-02:30 CET) at 0.20: "
               "12.00");
        is_int(res.rounded_cost.excl, 12000000, "Berlin autumn: rounded");

        /* cuts at 00:30Z, 01:00Z (the jump back) and 01:30Z */
        evb_rate_init(&st, &C, s, none, 0);
        t = evb_rate_next_time_change(&st, &C, s, s + 86400000LL);
        is_int(t, ts("2026-10-25T00:30:00Z"), "02:30 CEST");
        t = evb_rate_next_time_change(&st, &C, t, s + 86400000LL);
        is_int(t, ts("2026-10-25T01:00:00Z"),
               "the jump back into the window");
        t = evb_rate_next_time_change(&st, &C, t, s + 86400000LL);
        is_int(t, ts("2026-10-25T01:30:00Z"), "02:30 CET, the second one");
        t = evb_rate_next_time_change(&st, &C, t, s + 86400000LL);
        is_int(t, ts("2026-10-25T21:00:00Z"), "then 22:00 CET");

        /* one period across the jump: the dry run's warning */
        memset(&p, 0, sizeof(p));
        p.start = ts("2026-10-25T00:30:00Z");
        p.energy = KWH(20);
        p.time = 3600000000LL;
        evb_rate_init(&st, &C, s, none, 0);
        evb_rate_add(&st, &C, &p, ts("2026-10-25T01:30:00Z"), NULL);
        evb_rate_result(&st, &C, &res, NULL);
        ok(res.warnings & EVB_WARN_SPANS_PRICE_CHANGE,
           "a period over the jump back warns");
    }

    for (k = 0; k < 3; k++) {
        static const int64_t  step[] = { 30 * MS_MIN, 120 * MS_MIN,
                                         25 * 60 * MS_MIN };
        static const int64_t  wh[] = { 6000, 12000, 15000 };
        static const int      nr[] = { 12, 6, 3 };

        snprintf(name, sizeof(name), "Berlin autumn, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("Europe/Berlin", ber, ber_el, 2,
                    k < 2 ? "2026-10-24T21:00:00Z" : "2026-10-23T21:00:00Z",
                    step[k], wh[k], nr[k], name);

        snprintf(name, sizeof(name), "Berlin spring, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("Europe/Berlin", spring, spring_el, 2,
                    k < 2 ? "2026-03-28T22:00:00Z" : "2026-03-27T22:00:00Z",
                    step[k], wh[k], nr[k], name);

        snprintf(name, sizeof(name), "New York autumn, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("America/New_York", ny, ny_el, 3,
                    k < 2 ? "2026-11-01T03:00:00Z" : "2026-10-31T03:00:00Z",
                    step[k], wh[k], nr[k], name);

        snprintf(name, sizeof(name), "New York spring, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("America/New_York", spring, spring_el, 2,
                    k < 2 ? "2026-03-08T04:00:00Z" : "2026-03-07T04:00:00Z",
                    step[k], wh[k], nr[k], name);

        snprintf(name, sizeof(name), "Chatham autumn, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("Pacific/Chatham", cha, cha_el, 3,
                    k < 2 ? "2026-04-04T11:00:00Z" : "2026-04-03T11:00:00Z",
                    step[k], wh[k], nr[k], name);

        snprintf(name, sizeof(name), "Chatham spring, every %lld min",
                 (long long) (step[k] / MS_MIN));
        dst_session("Pacific/Chatham", cha, cha_el, 3,
                    k < 2 ? "2026-09-26T11:00:00Z" : "2026-09-25T11:00:00Z",
                    step[k], wh[k], nr[k], name);
    }
}


/*
 * next_time_change against its definition: from t0 on every quarter
 * hour around a change, the first minute at which some element's window
 * or weekday differs from the minute before, by evb_tz_local.
 */
static void
test_next_change_scan(const char *zone, const char *elements,
    const dst_el_t *els, size_t nels, const char *from, int hours)
{
    int               bad, n;
    char              json[1024];
    size_t            i;
    unsigned          a, b;
    evb_tm_t          tm0, tm1;
    evb_msec_t        s, t0, m, want, got, limit;
    evb_rate_state_t  st;
    evb_str_t         none = { NULL, 0 };

    snprintf(json, sizeof(json), HEAD "\"elements\":[%s]}", elements);

    if (load(zone, json) != 0) {
        ok(0, "%s: scan fixture", zone);
        return;
    }

    s = ts(from);
    evb_rate_init(&st, &C, s, none, 0);
    bad = 0;
    n = 0;

    for (t0 = s; t0 < s + (int64_t) hours * 60 * MS_MIN;
         t0 += 15 * MS_MIN)
    {
        limit = t0 + 2 * 86400000LL;
        want = limit;

        for (m = t0 + MS_MIN; m < limit; m += MS_MIN) {
            evb_tz_local(C.tz, (m - MS_MIN) / 1000, &tm0);
            evb_tz_local(C.tz, m / 1000, &tm1);

            for (i = 0; i < nels; i++) {
                a = dst_truth(&els[i], &tm0);
                b = dst_truth(&els[i], &tm1);

                if (a != b) {
                    break;
                }
            }

            if (i < nels) {
                want = m;
                break;
            }
        }

        got = evb_rate_next_time_change(&st, &C, t0, limit);
        n++;

        if (got != want) {
            if (bad++ < 3) {
                printf("# %s from %lld: got %lld, want %lld\n", zone,
                       (long long) t0, (long long) got, (long long) want);
            }
        }
    }

    ok(!bad, "%s from %s: next_time_change is the first change (%d "
       "starts)", zone, from, n);
}


/* Rate periods and return the bill line by line too. */
static evb_problem_e
rate_d(evb_msec_t start, const evb_period_t *p, size_t n, evb_msec_t end,
    evb_rate_result_t *res, evb_bill_detail_t *d)
{
    size_t            i;
    evb_str_t         none = { NULL, 0 };
    evb_problem_e     rc;
    evb_rate_state_t  st;

    rc = evb_rate_init(&st, &C, start, none, 0);

    for (i = 0; rc == EVB_OK && i < n; i++) {
        rc = evb_rate_add(&st, &C, &p[i], i + 1 < n ? p[i + 1].start : end,
                          NULL);
    }

    if (rc == EVB_OK) {
        rc = evb_rate_result_detail(&st, &C, res, NULL, d);
    }

    return rc;
}


/* The rounded dimensions add up to the rounded total (no clamp). */
static int
adds_up(const evb_rate_result_t *r)
{
    int64_t  e, i;

    e = r->rounded_energy_cost.excl + r->rounded_time_cost.excl
        + r->rounded_parking_cost.excl + r->rounded_fixed_cost.excl
        + r->rounded_reservation_cost.excl;
    i = (r->rounded_energy_cost.has_incl ? r->rounded_energy_cost.incl
         : r->rounded_energy_cost.excl)
        + (r->rounded_time_cost.has_incl ? r->rounded_time_cost.incl
           : r->rounded_time_cost.excl)
        + (r->rounded_parking_cost.has_incl ? r->rounded_parking_cost.incl
           : r->rounded_parking_cost.excl)
        + (r->rounded_fixed_cost.has_incl ? r->rounded_fixed_cost.incl
           : r->rounded_fixed_cost.excl)
        + (r->rounded_reservation_cost.has_incl
           ? r->rounded_reservation_cost.incl
           : r->rounded_reservation_cost.excl);

    return e == r->rounded_cost.excl
           && (!r->rounded_cost.has_incl || i == r->rounded_cost.incl);
}


static void
test_lines(void)
{
    evb_msec_t          s;
    evb_period_t        p[3];
    evb_bill_detail_t   d;
    evb_rate_result_t   res, res2;
    evb_rate_state_t    st;
    evb_str_t           none = { NULL, 0 };

    s = ts("2024-01-15T10:00:00Z");

    /* 3 kWh x 0.335 = 1.005 and a 0.505 FLAT, 19 %: each line rounds */
    load("UTC", HEAD "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.335,\"vat\":19,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.505,\"vat\":19,"
         "\"step_size\":0}]}]}");
    p[0] = per(s, KWH(3), 0, 0);
    is_int(rate_d(s, p, 1, s + MS_MIN, &res, &d), EVB_OK, "lines rate");
    is_int(res.total_cost.excl, 1510000, "exact total unchanged 1.51");
    is_int(res.rounded_energy_cost.excl, 1010000, "energy line 1.005 -> 1.01");
    is_int(res.rounded_fixed_cost.excl, 510000, "FLAT line 0.505 -> 0.51");
    is_int(res.rounded_cost.excl, 1520000,
           "net total is the sum of rounded lines (1.52, not 1.51)");
    is_int(res.rounded_cost.incl, 1810000,
           "VAT once on 1.52: 0.2888 -> 0.29, incl 1.81");
    is_int(res.rounded_energy_cost.incl, 1200000,
           "energy incl: 1.01 + its share 0.19 of the VAT");
    is_int(res.rounded_fixed_cost.incl, 610000,
           "FLAT incl: 0.51 + 0.10 (the largest remainder)");
    ok(adds_up(&res), "rounded dimensions add up to the rounded total");
    is_int(d.nlines, 2, "two lines");
    is_int(d.nvat, 1, "one VAT rate");
    is_int(d.vat[0].taxable, 1520000, "taxable 1.52");
    is_int(d.vat[0].amount, 290000, "VAT 0.29");

    /* two VAT rates; two energy lines at 19 % share one VAT amount */
    load("UTC", HEAD "\"elements\":["
         "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.333,"
         "\"vat\":19,\"step_size\":1}],\"restrictions\":{\"max_kwh\":1}},"
         "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3331,"
         "\"vat\":19,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.335,\"vat\":7,"
         "\"step_size\":0}]}]}");
    p[0] = per(s, KWH(1), 0, 0);
    p[1] = per(s + 10 * MS_MIN, KWH(1), 0, 0);
    is_int(rate_d(s, p, 2, s + 20 * MS_MIN, &res, &d), EVB_OK,
           "two rates rate");
    is_int(d.nlines, 3, "three lines: two energy prices and the FLAT");
    is_int(res.rounded_energy_cost.excl, 660000, "energy 0.33 + 0.33");
    is_int(d.nvat, 2, "two VAT rates");
    ok(d.vat[0].has_vat && d.vat[0].vat == 19000000
       && d.vat[1].vat == 7000000, "rates highest first");
    is_int(d.vat[0].amount, 130000,
           "19 %% once on 0.66: 0.1254 -> 0.13 (per line: 0.12)");
    is_int(d.vat[1].amount, 20000, "7 %% on 0.34: 0.0238 -> 0.02");
    is_int(res.rounded_cost.incl, 1150000, "incl 1.00 + 0.13 + 0.02");
    is_int(res.rounded_energy_cost.incl, 790000, "energy incl 0.66 + 0.13");
    ok(adds_up(&res), "two rates add up");

    /* min_price: the net adjustment spread over the rates */
    load("UTC", HEAD "\"min_price\":{\"excl_vat\":1.00},"
         "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.333,\"vat\":19,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.335,\"vat\":7,"
         "\"step_size\":0}]}]}");
    p[0] = per(s, KWH(1), 0, 0);
    rate_d(s, p, 1, s + MS_MIN, &res, &d);
    is_int(res.rounded_cost.excl, 1000000, "min_price raises the net to 1.00");
    is_int(d.vat[0].adjustment, 160000,
           "0.33 spread 33:34: 19 %% gets 0.16");
    is_int(d.vat[1].adjustment, 170000,
           "7 %% gets 0.17: the remainder cent to the largest remainder");
    is_int(d.vat[0].amount, 90000, "19 %% of 0.49 -> 0.09");
    is_int(d.vat[1].amount, 40000, "7 %% of 0.51 -> 0.04");
    is_int(res.rounded_cost.incl, 1130000, "incl 1.13");
    is_int(res.rounded_energy_cost.excl, 330000,
           "dimensions stay unclamped");

    /* equal remainders: the cent goes to the highest rate */
    load("UTC", HEAD "\"min_price\":{\"excl_vat\":0.61},"
         "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.30,\"vat\":7,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.30,\"vat\":19,"
         "\"step_size\":0}]}]}");
    rate_d(s, p, 1, s + MS_MIN, &res, &d);
    ok(d.vat[0].vat == 19000000 && d.vat[0].adjustment == 10000
       && d.vat[1].adjustment == 0, "a tie goes to the highest rate");

    /* max_price: a negative adjustment, spread the same way */
    load("UTC", HEAD "\"max_price\":{\"excl_vat\":0.50},"
         "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.333,\"vat\":19,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.335,\"vat\":7,"
         "\"step_size\":0}]}]}");
    rate_d(s, p, 1, s + MS_MIN, &res, &d);
    ok(d.vat[0].adjustment == -80000 && d.vat[1].adjustment == -90000
       && res.rounded_cost.excl == 500000, "max_price: -0.08 and -0.09");
    is_int(res.rounded_cost.incl, 500000 + 50000 + 20000,
           "incl 0.50 + 19 %% of 0.25 + 7 %% of 0.25");

    /* an incl. bound: the difference is tax, spread over the VAT */
    load("UTC", HEAD "\"max_price\":{\"excl_vat\":10,\"incl_vat\":11},"
         "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":10,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":3,\"vat\":20,\"step_size\":0}]}]}");
    p[0] = per(s, KWH(40), 0, 0);
    rate_d(s, p, 1, s + MS_MIN, &res, &d);
    is_int(res.rounded_cost.excl, 10000000, "net capped at 10.00");
    is_int(res.rounded_cost.incl, 11000000, "incl capped at 11.00");
    is_int(d.vat[0].amount + d.vat[1].amount, 1000000,
           "the rates' VAT now sums to 1.00");

    /* nothing priced under a min_price: no rate carries it, no VAT */
    load("UTC", HEAD "\"min_price\":{\"excl_vat\":2},"
         "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":19,"
         "\"step_size\":1}]}]}");
    is_int(rate_d(s, p, 0, s, &res, &d), EVB_OK, "empty session rates");
    ok(res.rounded_cost.excl == 2000000 && d.nvat == 1 && !d.vat[0].has_vat
       && d.vat[0].adjustment == 2000000,
       "an empty session's minimum sits on a line without VAT");

    /* tax_included: the line's net is gross / (1 + vat) rounded, VAT
     * once on the net sum */
    load("UTC", HEAD "\"tax_included\":\"YES\",\"elements\":["
         "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
         "\"vat\":19,\"step_size\":1}]}]}");
    p[0] = per(s, KWH(10), 0, 0);
    rate_d(s, p, 1, s + MS_MIN, &res, &d);
    ok(res.rounded_cost.excl == 2520000 && res.rounded_cost.incl == 3000000,
       "tax_included: 3.00 gross is 2.52 net + 0.48 VAT");
    ok(d.nlines == 1 && d.lines[0].tax_included, "a gross-priced line");

    load("UTC", HEAD "\"tax_included\":\"YES\",\"elements\":["
         "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.10,"
         "\"vat\":19,\"step_size\":1},{\"type\":\"TIME\",\"price\":0.10,"
         "\"vat\":19,\"step_size\":1},{\"type\":\"FLAT\",\"price\":0.10,"
         "\"vat\":19,\"step_size\":0}]}]}");
    p[0] = per(s, KWH(1), MIN(60), 0);
    rate_d(s, p, 1, s + 60 * MS_MIN, &res, &d);
    is_int(res.total_cost.incl, 300000, "exact gross 0.30");
    is_int(res.rounded_cost.excl, 240000, "three nets 0.084 -> 0.08");
    is_int(res.rounded_cost.incl, 290000,
           "incl 0.24 + 0.05 = 0.29: not the gross 0.30");
    ok(adds_up(&res), "gross lines add up too");

    /* a total at a midpoint: 7.795 live, 7.794999 re-rated */
    load("UTC", HEAD "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.3795,\"step_size\":1},"
         "{\"type\":\"TIME\",\"price\":4,\"step_size\":0}]}]}");
    p[0] = per(s, KWH(10), MIN(60), 0);
    rate(s, p, 1, s + 60 * MS_MIN, &res);
    p[0].time = 3599999100LL;
    rate(s, p, 1, s + 60 * MS_MIN, &res2);
    ok(res.total_cost.excl == 7795000 && res2.total_cost.excl == 7794999,
       "exact totals 7.795 and 7.794999");
    ok(res.rounded_cost.excl == 7800000 && res2.rounded_cost.excl == 7800000,
       "both round to 7.80: 3.80 + 4.00 line by line");

    /* half_even on lines and on VAT */
    load("UTC", HEAD "\"elements\":[{\"price_components\":["
         "{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":10,\"step_size\":1},"
         "{\"type\":\"FLAT\",\"price\":0.13,\"vat\":10,"
         "\"step_size\":0}]}]}");
    p[0] = per(s, WH(500), 0, 0);
    rate(s, p, 1, s + MS_MIN, &res);
    ok(res.rounded_cost.excl == 260000 && res.rounded_cost.incl == 290000,
       "half_up: 0.125 -> 0.13, + 0.13, VAT 0.026 -> 0.03");
    C.policy.rounding = EVB_ROUND_HALF_EVEN;
    rate(s, p, 1, s + MS_MIN, &res);
    ok(res.rounded_cost.excl == 250000 && res.rounded_cost.incl == 270000,
       "half_even: 0.125 -> 0.12, + 0.13, VAT 0.025 -> 0.02");
    C.policy.rounding = EVB_ROUND_HALF_UP;

    /* a state of the previous layout is refused, not misread */
    evb_rate_init(&st, &C, s, none, 0);
    memcpy(st.bytes, "\x31\x52\x42\x45", 4);        /* "EBR1" */
    is_int(evb_rate_result(&st, &C, &res, NULL), EVB_P_INTERNAL,
           "an old-layout state is refused");
}


/* A session open across an upgrade: its stored state is refused with a
 * detail that says so; the stop rates it from its readings. */
static void
test_old_state(void)
{
    char             detail[192], *buf;
    evb_str_t        meter, cost, m2;
    evb_bill_t       b;
    evb_session_t    s;
    evb_reading_t    r;
    evb_bill_conf_t  conf;
    static const char  tariff[] = HEAD "\"elements\":[{\"price_components\":"
        "[{\"type\":\"ENERGY\",\"price\":0.335,\"vat\":19,\"step_size\":1},"
        "{\"type\":\"FLAT\",\"price\":0.505,\"vat\":19,\"step_size\":0}]}]}";

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    memset(&b, 0, sizeof(b));
    b.tariff_id.data = "t";
    b.tariff_id.len = 1;
    b.tariff_version = 1;
    b.tariff_json.data = tariff;
    b.tariff_json.len = sizeof(tariff) - 1;
    b.time_zone.data = "UTC";
    b.time_zone.len = 3;
    b.conf = &conf;

    memset(&s, 0, sizeof(s));
    s.started_at = ts("2026-11-25T10:00:00Z");
    s.meter_start_wh = 1000;

    memset(&r, 0, sizeof(r));
    r.seq = 1;
    r.timestamp = s.started_at + 30 * MS_MIN;
    r.energy_wh = 4000;

    if (evb_bill_start(A, &b, &s, &meter, &cost, detail, sizeof(detail))
        != EVB_OK)
    {
        ok(0, "bill start: %s", detail);
        return;
    }

    buf = evb_arena_alloc(A, meter.len);

    if (buf == NULL) {
        ok(0, "arena");
        return;
    }

    memcpy(buf, meter.data, meter.len);
    m2.data = buf;
    m2.len = meter.len;

    ok(evb_bill_readings(A, &b, &meter, &r, 1, &cost, NULL, detail,
                         sizeof(detail)) == EVB_OK
       && strstr(cost.data, "\"rounded\":{\"total_cost\":{\"excl_vat\":1.52,"
                            "\"incl_vat\":1.81}") != NULL,
       "a current state rates: rounded 1.52/1.81");

    memcpy(buf, "\x31\x52\x42\x45", 4);             /* "EBR1" */
    detail[0] = '\0';
    is_int(evb_bill_readings(A, &b, &m2, &r, 1, &cost, NULL, detail,
                             sizeof(detail)), EVB_P_INTERNAL,
           "an old-layout stored state is refused");
    ok(strstr(detail, "earlier evbill build") != NULL,
       "and cost_error says why: %s", detail);
}


int
main(void)
{
    A = evb_arena_create(65536);

    if (A == NULL) {
        return 1;
    }

    test_time_restrictions();
    test_other_restrictions();
    test_reservation();
    test_step_size();
    test_min_max_vat();
    test_incremental();
    test_next_change();
    test_dst();

    {
        static const char  two[] =
            "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.1,"
            "\"step_size\":1}],\"restrictions\":{\"start_time\":\"01:00\","
            "\"end_time\":\"02:30\"}},"
            "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3,"
            "\"step_size\":1}],\"restrictions\":{\"start_time\":\"02:15\","
            "\"end_time\":\"03:00\",\"day_of_week\":[\"SUNDAY\"]}},"
            "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.5,"
            "\"step_size\":1}],\"restrictions\":{\"start_time\":\"03:40\","
            "\"end_time\":\"04:00\"}}";
        static const dst_el_t  two_el[] = {
            { 100000, 60, 150, 0 }, { 300000, 135, 180, 1u << 6 },
            { 500000, 220, 240, 0 }
        };

        test_next_change_scan("Europe/Berlin", two, two_el, 3,
                              "2026-10-24T20:00:00Z", 12);
        test_next_change_scan("Europe/Berlin", two, two_el, 3,
                              "2026-03-28T20:00:00Z", 12);
        test_next_change_scan("America/New_York", two, two_el, 3,
                              "2026-11-01T02:00:00Z", 12);
        test_next_change_scan("America/New_York", two, two_el, 3,
                              "2026-03-08T02:00:00Z", 12);
        test_next_change_scan("Pacific/Chatham", two, two_el, 3,
                              "2026-04-04T09:00:00Z", 12);
        test_next_change_scan("Pacific/Chatham", two, two_el, 3,
                              "2026-09-26T09:00:00Z", 12);
        test_next_change_scan("Australia/Lord_Howe", two, two_el, 3,
                              "2026-04-04T10:00:00Z", 12);
    }
    test_lines();
    test_old_state();

    evb_arena_destroy(A);
    tap_plan(tap_n);
    return tap_done();
}
