/*
 * OCPI tariff parsing: exact scales, 2.3.0 fields, and a specific problem
 * with a JSON Pointer for each kind of bad tariff.
 */

#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_core.h"
#include "../../src/core/evb_json.h"
#include "../../src/core/evb_tariff.h"
#include "../../src/core/evb_tz.h"


static evb_arena_t         *A;
static evb_tariff_error_t   errs[EVB_TARIFF_ERRORS_MAX];
static size_t               nerrs;


static evb_problem_e
parse(const char *json, evb_tariff_t *t)
{
    char         err[128];
    evb_json_t  *root;

    if (evb_json_parse(A, json, strlen(json), 32, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        printf("# bad test JSON: %s\n", err);
        return EVB_P_MALFORMED_JSON;
    }

    return evb_tariff_parse(A, root, t, errs, &nerrs);
}


/* A tariff around one element body; the head is valid. */
#define HEAD  "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"t1\"," \
              "\"currency\":\"EUR\",\"last_updated\":\"2024-01-01T00:00:00Z\","

static void
bad(const char *json, evb_problem_e want, const char *pointer,
    const char *name)
{
    evb_tariff_t   t;
    evb_problem_e  p;
    size_t         i;
    int            found;

    p = parse(json, &t);
    is_int(p, want, "%s: problem %s", name, evb_problem_info(want)->name);

    found = 0;

    for (i = 0; i < nerrs; i++) {
        if (strcmp(errs[i].pointer, pointer) == 0 && errs[i].problem == want)
        {
            found = 1;
        }
    }

    ok(found, "%s: error at %s", name, pointer);

    if (!found) {
        for (i = 0; i < nerrs; i++) {
            printf("#   have %s: %s\n", errs[i].pointer, errs[i].detail);
        }
    }
}


int
main(void)
{
    evb_tariff_t               t;
    const evb_restrictions_t  *r;
    evb_msec_t                 ms;

    A = evb_arena_create(65536);

    if (A == NULL) {
        return 1;
    }

    /* a complete 2.2.1 tariff */
    is_int(parse(HEAD
        "\"min_price\":{\"excl_vat\":0.5,\"incl_vat\":0.55},"
        "\"start_date_time\":\"2024-01-01T00:00:00Z\","
        "\"end_date_time\":\"2025-01-01T00:00:00Z\","
        "\"elements\":[{\"price_components\":["
        "{\"type\":\"ENERGY\",\"price\":0.2531,\"vat\":21,\"step_size\":500},"
        "{\"type\":\"FLAT\",\"price\":1,\"step_size\":0}],"
        "\"restrictions\":{\"start_time\":\"17:00\",\"end_time\":\"06:30\","
        "\"start_date\":\"2024-03-01\",\"end_date\":\"2024-04-01\","
        "\"min_kwh\":0.5,\"max_kwh\":20.125,\"min_current\":6,"
        "\"max_current\":32.5,\"min_power\":3.7,\"max_power\":22,"
        "\"min_duration\":1800,\"max_duration\":7200,"
        "\"day_of_week\":[\"MONDAY\",\"SUNDAY\"],"
        "\"reservation\":\"RESERVATION_EXPIRES\"}},"
        "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":2,"
        "\"vat\":0,\"step_size\":60},{\"type\":\"TIME\",\"price\":1.5,"
        "\"step_size\":1}]}]}", &t), EVB_OK, "valid 2.2.1 tariff parses");

    is_str(t.id.data, t.id.len, "t1", "id");
    is_str(t.currency, strlen(t.currency), "EUR", "currency");
    is_int(t.exponent, 2, "EUR has 2 decimals");
    is_int(t.nelements, 2, "two elements");
    is_int(t.elements[0].ncomponents, 2, "two components");
    is_int(t.elements[0].components[0].type, EVB_DIM_ENERGY, "ENERGY");
    is_int(t.elements[0].components[0].price, 253100, "price in 10^-6");
    ok(t.elements[0].components[0].has_vat, "vat present");
    is_int(t.elements[0].components[0].vat, 21000000, "vat in 10^-6 %%");
    is_int(t.elements[0].components[0].step_size, 500, "step_size in Wh");
    ok(!t.elements[0].components[1].has_vat, "absent vat is not 0 %%");
    ok(t.elements[1].components[0].has_vat
       && t.elements[1].components[0].vat == 0, "vat 0 is present, 0 %%");
    is_int(t.elements[1].components[1].type, EVB_DIM_TIME, "TIME");
    ok(t.has_min_price && t.min_price.has_excl && t.min_price.has_incl
       && t.min_price.excl == 500000 && t.min_price.incl == 550000,
       "min_price excl/incl");
    ok(!t.has_max_price, "no max_price");

    r = &t.elements[0].r;
    ok(t.elements[0].has_restrictions && !t.elements[1].has_restrictions,
       "restrictions flagged");
    ok(r->has_start_time && r->start_time == 17 * 60, "start_time minutes");
    ok(r->has_end_time && r->end_time == 6 * 60 + 30, "end_time minutes");
    ok(r->has_start_date && r->start_date == evb_days_from_civil(2024, 3, 1),
       "start_date days");
    ok(r->has_end_date && r->end_date == evb_days_from_civil(2024, 4, 1),
       "end_date days");
    ok(r->has_min_kwh && r->min_kwh == 500000000LL, "min_kwh 10^-9 kWh");
    ok(r->has_max_kwh && r->max_kwh == 20125000000LL, "max_kwh");
    ok(r->min_current == 6000000 && r->max_current == 32500000, "current");
    ok(r->min_power == 3700000 && r->max_power == 22000000, "power");
    ok(r->min_duration == 1800000000LL && r->max_duration == 7200000000LL,
       "durations in us");
    is_int(r->day_mask, 0x41, "MONDAY and SUNDAY bits");
    is_int(r->reservation, EVB_RESERVATION_EXPIRES, "reservation");

    evb_time_parse_rfc3339("2024-01-01T00:00:00Z", 20, &ms);
    ok(evb_tariff_active(&t, ms), "active at start_date_time (inclusive)");
    ok(!evb_tariff_active(&t, ms - 1), "not active before it");
    evb_time_parse_rfc3339("2025-01-01T00:00:00Z", 20, &ms);
    ok(!evb_tariff_active(&t, ms), "not active at end_date_time");
    ok(evb_tariff_active(&t, ms - 1), "active just before it");

    /* 2.3.0: tax_included and PriceLimit */
    is_int(parse(HEAD "\"tax_included\":\"YES\","
        "\"max_price\":{\"before_taxes\":10,\"after_taxes\":12.1},"
        "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.3,\"vat\":21,\"step_size\":1}]}]}", &t), EVB_OK,
        "2.3.0 tariff parses");
    is_int(t.tax_included, 1, "tax_included YES");
    ok(t.has_max_price && t.max_price.excl == 10000000
       && t.max_price.incl == 12100000, "before_taxes / after_taxes");

    is_int(parse("{\"country_code\":\"JP\",\"party_id\":\"EVB\","
        "\"id\":\"t1\",\"currency\":\"JPY\","
        "\"last_updated\":\"2024-01-01T00:00:00Z\",\"elements\":"
        "[{\"price_components\":[{\"type\":\"ENERGY\",\"price\":45,"
        "\"step_size\":1}]}]}", &t), EVB_OK, "JPY tariff parses");
    is_int(t.exponent, 0, "JPY has no minor unit");

    /* the bad ones, each with its own problem type */
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"KWH\","
        "\"price\":1,\"step_size\":1}]}]}", EVB_P_TARIFF_DIMENSION,
        "/elements/0/price_components/0/type", "unknown dimension");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":-0.1,\"step_size\":1}]}]}", EVB_P_TARIFF_NEGATIVE,
        "/elements/0/price_components/0/price", "negative price");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"vat\":-20,\"step_size\":1}]}]}",
        EVB_P_TARIFF_NEGATIVE, "/elements/0/price_components/0/vat",
        "negative vat");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1}]}]}", EVB_P_TARIFF_MISSING,
        "/elements/0/price_components/0/step_size", "missing step_size");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"start_time\":\"9:00\"}}]}", EVB_P_TARIFF_TIME_FORMAT,
        "/elements/0/restrictions/start_time", "time without two digits");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"end_time\":\"24:00\"}}]}", EVB_P_TARIFF_TIME_FORMAT,
        "/elements/0/restrictions/end_time", "time 24:00");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"start_date\":\"2024-02-30\"}}]}", EVB_P_TARIFF_TIME_FORMAT,
        "/elements/0/restrictions/start_date", "impossible date");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"start_date\":\"2024-03-02\",\"end_date\":\"2024-03-01\"}}]}",
        EVB_P_TARIFF_END_BEFORE, "/elements/0/restrictions/end_date",
        "end_date before start_date");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"min_kwh\":10,\"max_kwh\":5}}]}", EVB_P_TARIFF_END_BEFORE,
        "/elements/0/restrictions/max_kwh", "max_kwh below min_kwh");
    bad(HEAD "\"start_date_time\":\"2024-02-01T00:00:00Z\","
        "\"end_date_time\":\"2024-01-01T00:00:00Z\","
        "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}]}]}", EVB_P_TARIFF_END_BEFORE,
        "/end_date_time", "end_date_time before start_date_time");
    bad("{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"t1\","
        "\"currency\":\"EUX\",\"last_updated\":\"2024-01-01T00:00:00Z\","
        "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}]}]}", EVB_P_TARIFF_CURRENCY,
        "/currency", "unknown currency");
    bad("{\"party_id\":\"EVB\",\"id\":\"t1\",\"currency\":\"EUR\","
        "\"last_updated\":\"2024-01-01T00:00:00Z\","
        "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}]}]}", EVB_P_TARIFF_MISSING,
        "/country_code", "missing country_code");
    bad(HEAD "\"elements\":[]}", EVB_P_TARIFF_MISSING, "/elements",
        "no elements");
    bad(HEAD "\"elements\":[{\"price_components\":[]}]}",
        EVB_P_TARIFF_MISSING, "/elements/0/price_components",
        "element without components");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1,\"price_round\":{}}]}]}",
        EVB_P_TARIFF_INVALID, "/elements/0/price_components/0/price_round",
        "GIREVE extension");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1.5}]}]}", EVB_P_TARIFF_INVALID,
        "/elements/0/price_components/0/step_size", "fractional step_size");
    bad(HEAD "\"elements\":[{\"price_components\":[{\"type\":\"ENERGY\","
        "\"price\":0.1,\"step_size\":1}],\"restrictions\":"
        "{\"day_of_week\":[\"MON\"]}}]}", EVB_P_TARIFF_INVALID,
        "/elements/0/restrictions/day_of_week/0", "bad weekday");

    /* every fault is reported, not only the first */
    parse("{\"id\":\"t1\",\"currency\":\"EUR\",\"elements\":[{"
          "\"price_components\":[{\"type\":\"X\",\"price\":-1}]}]}", &t);
    is_int(nerrs, 6, "six faults listed (country_code, party_id, "
           "last_updated, type, price, step_size)");

    /* at most 48 billed lines (dimension, price, VAT) in a tariff */
    {
        int        i;
        char       big[8192];
        size_t     n;

        for (n = 0; n < 2; n++) {
            size_t  k;

            k = (size_t) snprintf(big, sizeof(big), "%s\"elements\":[",
                                  HEAD);

            for (i = 0; i < 48 + (int) n; i++) {
                /* every price twice: a repeated price is the same line */
                k += (size_t) snprintf(big + k, sizeof(big) - k,
                    "%s{\"price_components\":[{\"type\":\"ENERGY\","
                    "\"price\":0.%02d,\"step_size\":1},{\"type\":"
                    "\"ENERGY\",\"price\":0.%02d,\"step_size\":1}]}",
                    i ? "," : "", i + 1, i + 1);
            }

            snprintf(big + k, sizeof(big) - k, "]}");

            if (n == 0) {
                is_int(parse(big, &t), EVB_OK,
                       "48 distinct lines (96 components) are accepted");

            } else {
                bad(big, EVB_P_TARIFF_INVALID,
                    "/elements/48/price_components/0", "a 49th line");
            }
        }
    }

    evb_arena_destroy(A);
    tap_plan(tap_n);
    return tap_done();
}
