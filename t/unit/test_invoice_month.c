/*
 * Monthly invoices in src/core (issue 10): periods and the month of an
 * instant in the seller's zone, a session's pending record (round trip,
 * every truncation refused), the month's invoice (lines as the sessions
 * had them, late marks, min/max per rate, VAT once per rate, which can
 * differ from the sum of per-session VAT), the run record and the
 * request body.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "../../src/core/evb_invoice_month.h"


static evb_str_t
S(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);
    return r;
}


static const char  seller[] =
    "{\"name\":\"S GmbH\",\"address\":{\"street\":\"A 1\",\"city\":\"B\","
    "\"postal_code\":\"1\",\"country\":\"DE\"},\"vat_id\":\"DE1\","
    "\"email\":\"a@b\",\"payment_terms_days\":30,"
    "\"time_zone\":\"Europe/Berlin\"}";


static void
test_periods(const evb_invoice_conf_t *ic)
{
    char  m[8];

    ok(evb_month_period_ok(S("2026-11")), "2026-11 is a period");
    ok(!evb_month_period_ok(S("2026-13")), "2026-13 is not");
    ok(!evb_month_period_ok(S("2026-00")), "2026-00 is not");
    ok(!evb_month_period_ok(S("2026-1")), "2026-1 is not");
    ok(!evb_month_period_ok(S("2026/11")), "2026/11 is not");
    ok(!evb_month_period_ok(S("1969-12")), "1969-12 is not");

    /* 2026-10-31T23:30Z is 00:30 on 1 November in Berlin (CET) */
    evb_month_of(ic->tz, 1793489400000LL, m);
    is_str(m, 7, "2026-11", "31 Oct 23:30 UTC: November in Berlin");
    evb_month_of(ic->tz, 1793489400000LL - 3600000, m);
    is_str(m, 7, "2026-10", "31 Oct 22:30 UTC: still October");
}


/* a session's rounded bill: energy at 19 %, a flat fee at 7 % */
static void
bill(evb_bill_detail_t *d, evb_rate_result_t *res, int64_t energy,
    int64_t flat, int64_t adj19)
{
    memset(d, 0, sizeof(evb_bill_detail_t));
    memset(res, 0, sizeof(evb_rate_result_t));
    memcpy(res->currency, "EUR", 4);
    res->exponent = 2;

    d->nlines = flat ? 2 : 1;
    d->lines[0].dim = EVB_DIM_ENERGY;
    d->lines[0].has_vat = 1;
    d->lines[0].vat = 19000000;
    d->lines[0].price = 300000;
    d->lines[0].quantity = 1000000000;
    d->lines[0].amount = energy;
    d->lines[1].dim = EVB_DIM_FLAT;
    d->lines[1].has_vat = 1;
    d->lines[1].vat = 7000000;
    d->lines[1].tax_included = 1;
    d->lines[1].price = 1070000;
    d->lines[1].quantity = 1;
    d->lines[1].amount = flat;

    d->nvat = flat ? 2 : 1;
    d->vat[0].has_vat = 1;
    d->vat[0].vat = 19000000;
    d->vat[0].adjustment = adj19;
    d->vat[1].has_vat = 1;
    d->vat[1].vat = 7000000;
}


static void
test_items(evb_arena_t *a, evb_month_item_t *items)
{
    size_t              i, k;
    evb_buf_t           b;
    evb_rate_result_t   res;
    evb_bill_detail_t   d;
    evb_month_item_t    back;

    /* three sessions of 0.03 net at 19 %: 0.01 VAT each, 0.02 together;
     * the last with a flat fee, one with a min (charge), one with a max
     * (allowance) */
    bill(&d, &res, 30000, 0, 0);
    ok(evb_month_item_make(a, S("CP-1"), S("s1"), S("CDR1"), "2026-11",
                           1000, &res, &d, &items[0]) == 0, "item 1");
    bill(&d, &res, 30000, 0, 200000);
    ok(evb_month_item_make(a, S("CP-1"), S("s2"), S("CDR2"), "2026-11",
                           2000, &res, &d, &items[1]) == 0, "item 2 (min)");
    bill(&d, &res, 30000, 1000000, -100000);
    ok(evb_month_item_make(a, S("CP-2"), S("s3"), S("CDR3"), "2026-10",
                           3000, &res, &d, &items[2]) == 0, "item 3 (max)");

    is_str(items[2].session.data, items[2].session.len, "CP-2/s3",
           "the session's name");
    is_int(items[2].lines[1].price, 1000000, "a gross price made net");
    is_int(items[1].vat[0].charge, 200000, "a min: a charge");
    is_int(items[2].vat[0].allowance, 100000, "a max: an allowance");

    evb_buf_init(&b);
    evb_month_item_encode(&b, &items[2]);
    ok(!b.oom, "encoded");
    ok(evb_month_item_decode(a, b.data, b.len, &back) == 0, "decoded");
    ok(back.nlines == 2 && back.lines[1].amount == 1000000
       && back.lines[1].dim == EVB_DIM_FLAT && back.nvat == 2
       && back.vat[0].allowance == 100000 && back.end == 3000
       && memcmp(back.period, "2026-10", 8) == 0
       && memcmp(back.currency, "EUR", 4) == 0 && back.exponent == 2
       && back.cdr_id.len == 4
       && back.lines[0].session.len == 7,
       "the round trip keeps everything");

    for (i = 0, k = 0; i < b.len; i++) {
        k += evb_month_item_decode(a, b.data, i, &back) == -1;
    }

    is_int(k, b.len, "every truncation refused");
    evb_buf_free(&b);
}


static void
test_build(evb_arena_t *a, const evb_invoice_conf_t *ic,
    evb_month_item_t *items)
{
    char                  err[192];
    evb_buf_t             b;
    unsigned char         late[3] = { 0, 0, 1 };
    evb_invoice_t         inv, back;
    evb_invoice_buyer_t   buyer;
    evb_month_item_t      other;

    memset(&buyer, 0, sizeof(buyer));
    buyer.party.name = S("Fleet AG");
    buyer.customer_id = S("M1");
    buyer.language = S("en");
    buyer.payment_terms_days = 14;

    ok(evb_month_build(a, ic, &buyer, S("INV-2026-000009"),
                       1796000000000LL, EVB_ROUND_HALF_UP, items, late, 3,
                       &inv, err, sizeof(err)) == 0, "built: %s", err);
    is_int(inv.nlines, 4, "every session's lines");
    ok(inv.lines[0].id == 1 && inv.lines[3].id == 4, "numbered 1..4");
    ok(!inv.lines[0].late && !inv.lines[1].late && inv.lines[2].late
       && inv.lines[3].late, "the late session's lines marked");
    is_str(inv.lines[3].session.data, inv.lines[3].session.len, "CP-2/s3",
           "each line names its session");
    is_int(inv.session.session_id.len, 0, "no session at document level");
    is_int(inv.nvat, 2, "two rates");
    ok(inv.vat[0].vat == 19000000 && inv.vat[1].vat == 7000000,
       "highest rate first");
    is_int(inv.vat[0].lines, 90000, "19 %%: the lines' sum");
    is_int(inv.vat[0].charge, 200000, "19 %%: the min as a charge");
    is_int(inv.vat[0].allowance, 100000, "19 %%: the max as an allowance");
    is_int(inv.vat[0].taxable, 190000, "19 %%: taxable");
    /* 0.19 * 19 % = 0.0361: 0.04, once */
    is_int(inv.vat[0].amount, 40000, "19 %%: VAT once on the sum");
    /* 1.00 * 7 % = 0.07 */
    is_int(inv.vat[1].amount, 70000, "7 %%: VAT");
    is_int(inv.tax_exclusive, 1190000, "net: lines - allowance + charge");
    is_int(inv.payable, 1190000 + 110000, "payable");

    /* without the min/max, three 0.03 at 19 %: 0.02 once against 0.03
     * as three sessions rounded it */
    items[1].vat[0].charge = 0;
    items[2].vat[0].allowance = 0;
    ok(evb_month_build(a, ic, &buyer, S("INV-2026-000010"), 1796000000000LL,
                       EVB_ROUND_HALF_UP, items, NULL, 3, &inv, err,
                       sizeof(err)) == 0, "built again");
    is_int(inv.vat[0].amount, 20000, "VAT of the month: 0.02, where the "
           "sessions' CDRs had 0.01 each");
    ok(!inv.lines[3].late, "no late marks without them");

    evb_buf_init(&b);
    inv.lines[0].late = 1;
    evb_invoice_encode(&b, &inv);
    ok(!b.oom && evb_invoice_decode(a, b.data, b.len, &back) == 0
       && back.lines[0].late && !back.lines[1].late
       && back.lines[0].session.len == 7,
       "the invoice record keeps late and session");
    evb_buf_free(&b);

    other = items[0];
    memcpy(other.currency, "CHF", 4);
    items[1] = other;
    ok(evb_month_build(a, ic, &buyer, S("INV-2026-000011"), 1796000000000LL,
                       EVB_ROUND_HALF_UP, items, NULL, 2, &inv, err,
                       sizeof(err)) == -1, "two currencies refused: %s",
       err);
}


static void
test_run(evb_arena_t *a)
{
    size_t           i, k, limit;
    evb_buf_t        b;
    evb_str_t        nums[2], period;
    evb_month_run_t  run, back;
    evb_problem_e    p;
    char             detail[256];

    memset(&run, 0, sizeof(run));
    nums[0] = S("INV-1");
    nums[1] = S("INV-2");
    run.cursor = S("M7");
    run.started = 5;
    run.updated = 6;
    run.numbers = nums;
    run.n = 2;

    evb_buf_init(&b);
    evb_month_run_encode(&b, &run);
    ok(evb_month_run_decode(a, b.data, b.len, &back) == 0 && !back.done
       && back.n == 2 && back.numbers == NULL && back.cursor.len == 2
       && back.started == 5 && back.updated == 6,
       "run record round trip (the numbers are entries of their own)");

    for (i = 0, k = 0; i < b.len; i++) {
        k += evb_month_run_decode(a, b.data, i, &back) == -1;
    }

    is_int(k, b.len, "every truncation refused");
    evb_buf_free(&b);

    evb_buf_init(&b);
    evb_month_run_render(&b, S("2026-11"), &run, 2);
    is_str(b.data, b.len, "{\"period\":\"2026-11\",\"invoices\":[\"INV-1\","
           "\"INV-2\"],\"done\":false,\"made\":2,\"started\":"
           "\"1970-01-01T00:00:00.005Z\",\"updated\":"
           "\"1970-01-01T00:00:00.006Z\"}", "the answer");
    evb_buf_free(&b);

    p = evb_month_run_parse(a, "{\"period\":\"2026-11\"}", 20, &period,
                            &limit, detail, sizeof(detail));
    ok(p == EVB_OK && period.len == 7 && limit == EVB_RUN_LIMIT_DEFAULT,
       "a body with a period: the default limit");
    p = evb_month_run_parse(a, "{\"period\":\"2026-11\",\"limit\":7}", 30,
                            &period, &limit, detail, sizeof(detail));
    ok(p == EVB_OK && limit == 7, "a limit");
    p = evb_month_run_parse(a, "{\"limit\":7}", 11, &period, &limit, detail,
                            sizeof(detail));
    is_int(p, EVB_P_MISSING_FIELD, "no period: %s", detail);
    p = evb_month_run_parse(a, "{\"period\":\"2026-11\",\"limit\":-1}", 31,
                            &period, &limit, detail, sizeof(detail));
    is_int(p, EVB_P_OUT_OF_RANGE, "limit -1: %s", detail);
}


int
main(void)
{
    char                 err[1024];
    evb_arena_t         *a;
    evb_month_item_t     items[3];
    evb_invoice_conf_t   ic;

    a = evb_arena_create(65536);
    if (a == NULL) {
        printf("Bail out! arena\n");
        return 1;
    }

    memset(&ic, 0, sizeof(ic));
    ic.rounding = EVB_ROUND_HALF_UP;

    if (evb_seller_parse(a, seller, sizeof(seller) - 1, &ic, err,
                         sizeof(err))
        != 0)
    {
        printf("Bail out! seller: %s\n", err);
        return 1;
    }

    test_periods(&ic);
    test_items(a, items);
    test_build(a, &ic, items);
    test_run(a);

    printf("1..%d\n", tap_n);
    evb_arena_destroy(a);

    return tap_done();
}
