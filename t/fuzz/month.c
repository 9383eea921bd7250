/*
 * Monthly invoices (src/core/evb_invoice_month.c): the first byte picks
 * the parser.  0: a session's pending record (evb_month_item_decode);
 * one that decodes encodes back to the same bytes, and the month's
 * invoice built from it (twice, the second late) renders as JSON and UBL
 * with totals that add up.  1: a run record, which encodes back to the
 * same bytes and renders (without its numbers, stored apart).  2: a POST billing-runs body.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_invoice_month.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t               limit;
    evb_buf_t            b, again;
    evb_str_t            period;
    evb_arena_t         *a;
    evb_invoice_t        inv;
    evb_month_run_t      run;
    evb_month_item_t     items[2];
    evb_invoice_conf_t   ic;
    evb_invoice_buyer_t  buyer;
    unsigned char        late[2] = { 0, 1 };
    char                 err[512];

    if (size < 1) {
        return 0;
    }

    a = evb_arena_create(8192);
    evb_fuzz_check(a != NULL);

    switch (data[0] % 3) {

    case 0:
        if (evb_month_item_decode(a, (const char *) data + 1, size - 1,
                                  &items[0])
            != 0)
        {
            break;
        }

        evb_buf_init(&again);
        evb_month_item_encode(&again, &items[0]);
        evb_fuzz_check(!again.oom && again.len == size - 1
                       && memcmp(again.data, data + 1, size - 1) == 0);
        evb_buf_free(&again);

        memset(&ic, 0, sizeof(ic));
        ic.tz = evb_tz_get("UTC", err, sizeof(err));
        evb_fuzz_check(ic.tz != NULL);
        ic.seller.name = (evb_str_t) evb_str_lit("S");
        memset(&buyer, 0, sizeof(buyer));
        buyer.party.name = (evb_str_t) evb_str_lit("B");
        buyer.language = (evb_str_t) evb_str_lit("de");
        items[1] = items[0];

        if (evb_month_build(a, &ic, &buyer, (evb_str_t) evb_str_lit("I-1"),
                            1796000000000LL, EVB_ROUND_HALF_UP, items, late,
                            2, &inv, err, sizeof(err))
            == 0)
        {
            evb_fuzz_check(inv.nlines == 2 * items[0].nlines
                           && inv.tax_inclusive
                              == inv.tax_exclusive + inv.tax_total);
            evb_buf_init(&b);
            evb_invoice_render_json(&b, &inv, NULL);
            evb_invoice_render_ubl(&b, &inv);
            evb_buf_free(&b);
        }
        break;

    case 1:
        if (evb_month_run_decode(a, (const char *) data + 1, size - 1, &run)
            == 0)
        {
            evb_buf_init(&again);
            evb_month_run_encode(&again, &run);
            evb_fuzz_check(!again.oom && again.len == size - 1
                           && memcmp(again.data, data + 1, size - 1) == 0);
            evb_buf_free(&again);
            run.n = 0;              /* the numbers are entries of their own */
            evb_buf_init(&b);
            evb_month_run_render(&b, (evb_str_t) evb_str_lit("2026-11"),
                                 &run, 1);
            evb_buf_free(&b);
        }
        break;

    default:
        if (evb_month_run_parse(a, (const char *) data + 1, size - 1,
                                &period, &limit, err, sizeof(err))
            == EVB_OK)
        {
            evb_fuzz_check(period.len == 7 && limit >= 1
                           && limit <= EVB_RUN_LIMIT_MAX);
        }
        break;
    }

    evb_arena_destroy(a);

    return 0;
}
