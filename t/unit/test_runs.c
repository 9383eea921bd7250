/*
 * Billing runs in src/ops and lmdb/ (issue 10), against a real store:
 * pending sessions of two monthly customers, one with more pending
 * sessions than an op reads (invoiced in two parts, the cursor staying
 * on it), sessions of a later month and of a month not yet run left
 * pending, chunks, a done run answered again without writing, a month
 * not ended refused, and the invoice numbers gapless.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "../../src/ops/evb_ops.h"
#include "../../lmdb/evb_store_invoice.h"
#include "../../lmdb/evb_store_runs.h"


/* 2026-12-06T05:00:00Z */
#define NOW  1796533200000LL
/* 2026-11-10T10:00:00Z, 2026-10-10T10:00:00Z, 2026-12-02T10:00:00Z */
#define NOV  1794304800000LL
#define OCT  1791626400000LL
#define DEC  1796205600000LL

#define MANY  10001


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


/* the seed: customers A and B, pending sessions as their closes left
 * them */
typedef struct {
    evb_wop_t            w;
    evb_arena_t         *arena;
    const evb_invoice_conf_t  *ic;
} seed_t;


static int
seed_item(seed_t *o, evb_wtxn_t *tx, const char *cust, uint64_t sid,
    evb_msec_t end)
{
    int                 rc;
    char                name[32], m[8];
    evb_buf_t           b;
    evb_str_t           rec;
    evb_rate_result_t   res;
    evb_bill_detail_t   d;
    evb_month_item_t    item;

    memset(&res, 0, sizeof(res));
    memcpy(res.currency, "EUR", 4);
    res.exponent = 2;
    memset(&d, 0, sizeof(d));
    d.nlines = 1;
    d.lines[0].dim = EVB_DIM_ENERGY;
    d.lines[0].has_vat = 1;
    d.lines[0].vat = 19000000;
    d.lines[0].price = 300000;
    d.lines[0].quantity = 100000000;
    d.lines[0].amount = 30000;
    d.nvat = 1;
    d.vat[0].has_vat = 1;
    d.vat[0].vat = 19000000;

    snprintf(name, sizeof(name), "s%llu", (unsigned long long) sid);
    evb_month_of(o->ic->tz, end, m);

    if (evb_month_item_make(o->arena, S("CP"), S(name), S("CDR"), m, end,
                            &res, &d, &item)
        != 0)
    {
        return 12;
    }

    evb_buf_init(&b);
    evb_month_item_encode(&b, &item);
    rec.data = b.data;
    rec.len = b.len;
    rc = b.oom ? 12 : evb_tx_pending_put(tx, S(cust), end, sid, rec);
    evb_buf_free(&b);

    return rc;
}


static evb_problem_e
seed_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int             rc;
    uint64_t        i;
    seed_t         *o = (seed_t *) w;

    rc = 0;

    for (i = 1; rc == 0 && i <= MANY; i++) {
        rc = seed_item(o, tx, "A", i, NOV + (evb_msec_t) i * 1000);
    }

    if (rc == 0) {
        rc = seed_item(o, tx, "B", 20001, NOV);
    }

    if (rc == 0) {
        rc = seed_item(o, tx, "B", 20002, NOV + 1000);
    }

    if (rc == 0) {
        rc = seed_item(o, tx, "B", 20003, OCT);    /* October: not run */
    }

    if (rc == 0) {
        rc = seed_item(o, tx, "B", 20004, DEC);    /* a later month */
    }

    return rc ? EVB_P_INTERNAL : EVB_OK;
}


static evb_problem_e
apply(evb_store_t *st, evb_wop_t *w)
{
    char           err[256];
    evb_problem_e  p;

    p = evb_store_apply(st, &w, 1, err, sizeof(err));

    return p != EVB_OK ? p : w->problem;
}


static void
customer(evb_store_t *st, evb_arena_t *a, const char *id)
{
    evb_customer_t          c;
    evb_op_put_customer_t   o;

    memset(&c, 0, sizeof(c));
    c.customer_id = S(id);
    c.buyer.name = S("Fleet");
    c.buyer.address.country = S("DE");
    c.buyer.email = S("f@x");
    c.invoicing = EVB_INVOICING_MONTHLY;
    c.payment_terms_days = EVB_TERMS_UNSET;
    c.language = S("en");

    evb_op_put_customer_init(&o, NOW, a);
    o.customer = &c;
    is_int(apply(st, &o.op.w), EVB_OK, "customer %s", id);
}


static evb_problem_e
run(evb_store_t *st, evb_arena_t *a, const evb_invoice_conf_t *ic,
    const char *period, size_t limit, evb_msec_t now,
    evb_op_billing_run_t *o)
{
    evb_op_billing_run_init(o, now, a);
    o->conf = ic;
    o->period = S(period);
    o->limit = limit;

    return apply(st, &o->op.w);
}


static uint64_t
txn_id(evb_store_t *st)
{
    evb_store_stat_t  s;

    return evb_store_stat(st, &s) == EVB_OK ? s.txn_id : 0;
}


int
main(void)
{
    char                   dir[] = "/tmp/evb_runs_XXXXXX", err[1024],
                           cmd[128];
    size_t                 ncredits;
    uint64_t               tx;
    evb_str_t              rec, *credits;
    evb_store_t           *st;
    evb_arena_t           *a;
    evb_invoice_t          inv;
    evb_invoice_conf_t     ic;
    evb_op_billing_run_t   o;
    seed_t                 seed;

    a = evb_arena_create(1 << 20);
    if (a == NULL || mkdtemp(dir) == NULL) {
        printf("Bail out! setup\n");
        return 1;
    }

    memset(&ic, 0, sizeof(ic));
    ic.rounding = EVB_ROUND_HALF_UP;
    ic.invoice_format = S("INV-%Y-%6N");
    ic.credit_format = S("CN-%Y-%6N");

    if (evb_seller_parse(a, seller, sizeof(seller) - 1, &ic, err,
                         sizeof(err))
        != 0
        || evb_store_open(&st, dir, 256 << 20, 16, err, sizeof(err)) != 0)
    {
        printf("Bail out! %s\n", err);
        return 1;
    }

    customer(st, a, "A");
    customer(st, a, "B");

    memset(&seed, 0, sizeof(seed));
    seed.w.run = seed_run;
    seed.arena = a;
    seed.ic = &ic;
    is_int(apply(st, &seed.w), EVB_OK, "%d pending sessions of A, 4 of B",
           MANY);

    /* December is not over in Berlin on the 6th */
    tx = txn_id(st);
    is_int(run(st, a, &ic, "2026-12", 10, NOW, &o), EVB_P_PERIOD_NOT_ENDED,
           "2026-12: period-not-ended");
    ok(txn_id(st) == tx, "... nothing written");
    /* 2026-11-30T22:30:00Z is still November in Berlin, 23:30Z is
     * December: November is over */
    is_int(run(st, a, &ic, "2026-11", 10, 1796077800000LL, &o),
           EVB_P_PERIOD_NOT_ENDED, "2026-11 at 23:30 in Berlin: not ended");
    is_int(run(st, a, &ic, "2026-11", 10, 1796081400000LL, &o), EVB_OK,
           "2026-11 once it is December in Berlin");
    ok(!o.run.done, "... not done: A has more than an op reads");
    is_int(o.made, 1, "... A's first 10000 sessions on one invoice");
    is_int(o.run.cursor.len, 0, "... the cursor stays before A");

    if (o.run.n == 1
        && evb_store_get_invoice(st, a, 0, o.run.numbers[0], &rec, &credits,
                                 &ncredits, 0) == EVB_OK
        && evb_invoice_decode(a, rec.data, rec.len, &inv) == 0)
    {
        is_int(inv.nlines, 10000, "%.*s: 10000 lines",
               (int) o.run.numbers[0].len, o.run.numbers[0].data);
        /* 10000 * 0.03 = 300.00 at 19 %: 57.00 once, not 10000 * 0.01 */
        is_int(inv.tax_total, 57000000, "VAT once: 57.00");
    } else {
        ok(0, "the first invoice reads back");
        ok(0, "...");
    }

    is_int(run(st, a, &ic, "2026-11", 10, NOW, &o), EVB_OK, "call 2");
    ok(o.run.done, "... done");
    is_int(o.made, 2, "... A's last session, B's two of November");
    is_int(o.run.n, 3, "... three invoices in the run");
    ok(o.run.n == 3
       && memcmp(o.run.numbers[2].data, "INV-2026-000003", 15) == 0,
       "numbers 1..3, gapless");

    tx = txn_id(st);
    is_int(run(st, a, &ic, "2026-11", 10, NOW, &o), EVB_OK, "call 3");
    ok(o.run.done && o.made == 0 && o.run.n == 3, "the same answer");
    ok(txn_id(st) == tx, "... nothing written");

    /* the read side: the record and its numbers, one entry each */
    {
        size_t            nn;
        evb_str_t        *nums;
        evb_month_run_t   hdr;

        ok(evb_store_get_run(st, a, S("2026-11"), &rec, &nums, &nn)
           == EVB_OK && evb_month_run_decode(a, rec.data, rec.len, &hdr) == 0
           && hdr.done && hdr.n == 3 && nn == 3
           && memcmp(nums[0].data, "INV-2026-000001", 15) == 0
           && memcmp(nums[2].data, "INV-2026-000003", 15) == 0,
           "GET: the run and its three numbers in order");
        ok(evb_store_get_run(st, a, S("2026-09"), &rec, &nums, &nn)
           == EVB_P_UNKNOWN_RUN, "GET: a month never run");
    }

    /* B's October session waited for October's run, its December one
     * stays */
    is_int(run(st, a, &ic, "2026-10", 10, NOW, &o), EVB_OK, "run 2026-10");
    ok(o.run.done && o.made == 1, "... B's October session");

    evb_store_close(st);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0) {
        printf("# could not remove %s\n", dir);
    }

    printf("1..%d\n", tap_n);
    evb_arena_destroy(a);

    return tap_done();
}
