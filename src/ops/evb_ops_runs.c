/*
 * evbill ops: monthly invoices (billing runs, issue 10).
 *
 * Semantics decided here (docs/invoicing.md, "Monthly invoices (billing
 * runs)"):
 *   - At the close of a monthly customer's rated session with a total
 *     above zero, the transaction that stores its CDR also stores what
 *     its month's invoice needs (its rounded lines) under the customer
 *     and its end; the session says which run it waits for.
 *   - POST billing-runs {"period"}: a month that has not ended in the
 *     seller's zone is refused.  Customers are taken in id order after
 *     the run's cursor, at most limit per op (one write transaction); a
 *     customer gets one invoice per currency of its sessions that ended
 *     in the month, plus its late sessions: those of an earlier month
 *     that stopped after that month's run had passed the customer.  The
 *     run record keeps the cursor and the numbers; done, it answers them
 *     again and writes nothing.
 *   - CDRs are not rewritten: OCPI CDRs are final once sent, and a
 *     monthly customer's was sent at the close.  The session's link
 *     names its invoice, and the invoice's lines name the session.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_ops.h"
#include "../core/evb_invoice_month.h"
#include "../../lmdb/evb_store_invoice.h"
#include "../../lmdb/evb_store_runs.h"


/* pending sessions read per op (one customer's at most, then the op
 * stops after the customer that reached it): bounds an op's work under
 * the write lock whatever the limit */
#define EVB_RUN_SESSIONS_MAX  10000
/* currencies on one customer's invoices of a month */
#define EVB_RUN_CURRENCIES_MAX  8


/* a run's record, or a new one; 0 or a store error (-1: undecodable) */
static int
evb_run_load(evb_op_t *op, evb_wtxn_t *tx, evb_str_t period,
    evb_month_run_t *run, int *found)
{
    int        rc;
    evb_str_t  rec;

    *found = 0;
    memset(run, 0, sizeof(evb_month_run_t));
    run->cursor.data = "";

    rc = evb_tx_run_get(tx, op->arena, period, &rec);
    if (rc == EVB_ST_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (evb_month_run_decode(op->arena, rec.data, rec.len, run) != 0) {
        return -1;
    }

    *found = 1;

    return 0;
}


/* has the run of period passed customer (done, or its cursor at or after
 * it)?  Then a session of that month for it is late. */
static int
evb_run_passed(evb_op_t *op, evb_wtxn_t *tx, evb_str_t period,
    evb_str_t customer_id, int *passed)
{
    int              rc, found, c;
    size_t           m;
    evb_month_run_t  run;

    *passed = 0;

    rc = evb_run_load(op, tx, period, &run, &found);
    if (rc != 0 || !found) {
        return rc;
    }

    if (run.done) {
        *passed = 1;
        return 0;
    }

    m = run.cursor.len < customer_id.len ? run.cursor.len : customer_id.len;
    c = memcmp(run.cursor.data, customer_id.data, m);

    *passed = c > 0 || (c == 0 && run.cursor.len >= customer_id.len);

    return 0;
}


evb_problem_e
evb_month_at_close(evb_op_t *op, evb_wtxn_t *tx,
    const evb_invoice_conf_t *ic, const evb_session_t *s,
    const evb_invoice_customer_t *customer, const evb_bill_out_t *out)
{
    int                rc, passed;
    evb_buf_t          b;
    evb_str_t          rec, cdr_id, period, why;
    evb_month_item_t   item;
    char               month[8], text[160];

    evb_month_of(ic->tz, s->stopped_at, month);

    period.data = month;
    period.len = 7;

    rc = evb_run_passed(op, tx, period, customer->customer_id, &passed);
    if (rc == -1) {
        return evb_refuse(op, EVB_P_INTERNAL, "the billing run record of "
                          "%s does not decode", month);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    cdr_id.data = out->cdr_id;
    cdr_id.len = strlen(out->cdr_id);

    if (evb_month_item_make(op->arena, s->charger_id, s->session_id, cdr_id,
                            month, s->stopped_at, &out->result, &out->detail,
                            &item)
        != 0)
    {
        return evb_op_store_error(op, ENOMEM);
    }

    evb_buf_init(&b);
    evb_month_item_encode(&b, &item);

    if (b.oom) {
        evb_buf_free(&b);
        return evb_op_store_error(op, ENOMEM);
    }

    rec.data = b.data;
    rec.len = b.len;

    rc = evb_tx_pending_put(tx, customer->customer_id, s->stopped_at, s->sid,
                            rec);
    evb_buf_free(&b);

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (passed) {
        snprintf(text, sizeof(text), "invoiced monthly: late for the run of "
                 "%s, pending the next month's run", month);

    } else {
        snprintf(text, sizeof(text), "invoiced monthly: pending run for %s",
                 month);
    }

    why.data = evb_arena_strdup(op->arena, text, strlen(text));
    why.len = strlen(text);

    if (why.data == NULL) {
        return evb_op_store_error(op, ENOMEM);
    }

    rc = evb_tx_session_invoice_put(tx, s->sid, 'N', why);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/* the buyer of a monthly invoice: the customer as it is now */
static int
evb_run_buyer(evb_op_t *op, evb_wtxn_t *tx, const evb_invoice_conf_t *ic,
    evb_str_t customer_id, evb_invoice_buyer_t *buyer, int *found)
{
    int             rc;
    evb_customer_t  cu;
    evb_str_t       en = evb_str_lit("en");

    *found = 0;

    rc = evb_tx_get_customer(tx, op->arena, customer_id, &cu);
    if (rc == EVB_ST_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    memset(buyer, 0, sizeof(evb_invoice_buyer_t));
    buyer->party = cu.buyer;
    buyer->customer_id = cu.customer_id;
    buyer->language = cu.language.len ? cu.language : en;
    buyer->payment_terms_days = cu.payment_terms_days != EVB_TERMS_UNSET
                                ? (unsigned) cu.payment_terms_days
                                : ic->payment_terms_days;
    *found = 1;

    return 0;
}


/* one invoice of items; its number into run; 0, a store error, or -1
 * with detail */
static int
evb_run_invoice(evb_op_t *op, evb_wtxn_t *tx, const evb_invoice_conf_t *ic,
    evb_str_t period, const evb_invoice_buyer_t *buyer,
    const evb_month_item_t *items,
    const unsigned char *late, const evb_pending_t *pend, size_t n,
    evb_month_run_t *run, char *detail, size_t dlen)
{
    int            rc, year;
    size_t         i, len;
    uint64_t       k;
    evb_buf_t      b;
    evb_str_t      number, rec;
    evb_invoice_t  inv;
    char           num[EVB_NUMBER_MAX + 1], date[11];

    evb_invoice_date(ic->tz, op->now, 0, date, &year);

    rc = evb_tx_inv_next(tx, 'I', evb_number_format_has_year(
                                      ic->invoice_format) ? (uint32_t) year
                                                          : 0, &k);
    if (rc != 0) {
        return rc;
    }

    len = evb_number_format(num, ic->invoice_format, year, ic->node_id, k);
    if (len == 0) {
        snprintf(detail, dlen, "invoice number %llu does not fit the "
                 "format in %d characters", (unsigned long long) k,
                 EVB_NUMBER_MAX);
        return -1;
    }

    number.data = evb_arena_strdup(op->arena, num, len);
    number.len = len;
    if (number.data == NULL) {
        return ENOMEM;
    }

    if (evb_month_build(op->arena, ic, buyer, number, op->now, ic->rounding,
                        items, late, n, &inv, detail, dlen)
        != 0)
    {
        return -1;
    }

    evb_buf_init(&b);
    evb_invoice_encode(&b, &inv);

    if (b.oom) {
        evb_buf_free(&b);
        return ENOMEM;
    }

    rec.data = b.data;
    rec.len = b.len;

    rc = evb_tx_inv_put(tx, 0, number, rec);
    evb_buf_free(&b);

    if (rc == EVB_ST_EXISTS) {
        snprintf(detail, dlen, "invoice number %s is taken already; the "
                 "store needs `evbill-store check`", num);
        return -2;
    }

    if (rc == 0) {
        rc = evb_tx_inv_index(tx, inv.issued_at, inv.customer_id, number);
    }

    for (i = 0; rc == 0 && i < n; i++) {
        rc = evb_tx_session_invoice_put(tx, pend[i].sid, 'I', number);
        if (rc == 0) {
            rc = evb_tx_pending_del(tx, pend[i].key);
        }
    }

    if (rc == 0) {
        rc = evb_tx_run_number_put(tx, period, (uint32_t) run->n, number);
    }

    if (rc != 0) {
        return rc;
    }

    run->numbers[run->n++] = number;

    return 0;
}


/*
 * A customer's invoices of the run: its sessions of the period and its
 * late ones, one invoice per currency.  *read: pending sessions read;
 * *more: it has more than EVB_RUN_SESSIONS_MAX, the first of them were
 * invoiced and the next op takes the customer again.  0, a store error,
 * -1 (a session record does not decode) or -2 (a number taken) with
 * detail.
 */
static int
evb_run_customer(evb_op_t *op, evb_wtxn_t *tx, const evb_invoice_conf_t *ic,
    evb_str_t period, evb_str_t customer_id, evb_month_run_t *run,
    size_t *cap, size_t *read, int *more, char *detail, size_t dlen)
{
    int                   rc, found, passed, cmp;
    size_t                i, j, n, m, nc, ncur;
    evb_str_t            *grown, p;
    evb_pending_t        *pend, *sel;
    evb_month_item_t     *items, *it;
    evb_invoice_buyer_t   buyer;
    unsigned char        *late, *lt;
    char                  cur[EVB_RUN_CURRENCIES_MAX][4];

    *more = 0;

    rc = evb_tx_pending_list(tx, op->arena, customer_id,
                             EVB_RUN_SESSIONS_MAX, &pend, &n);
    if (rc == E2BIG) {
        *more = 1;                  /* the first ones (in end order) now */
        rc = 0;
    }

    *read += n;

    if (rc != 0 || n == 0) {
        return rc;
    }

    rc = evb_run_buyer(op, tx, ic, customer_id, &buyer, &found);
    if (rc != 0 || !found) {
        return rc;                  /* no customer record: left pending */
    }

    items = evb_arena_alloc(op->arena, sizeof(evb_month_item_t) * n);
    late = evb_arena_alloc(op->arena, n);
    sel = evb_arena_alloc(op->arena, sizeof(evb_pending_t) * n);
    it = evb_arena_alloc(op->arena, sizeof(evb_month_item_t) * n);
    lt = evb_arena_alloc(op->arena, n);

    if (items == NULL || late == NULL || sel == NULL || it == NULL
        || lt == NULL)
    {
        return ENOMEM;
    }

    /* which of them this run invoices */
    m = 0;
    ncur = 0;

    for (i = 0; i < n; i++) {
        if (evb_month_item_decode(op->arena, pend[i].record.data,
                                  pend[i].record.len, &items[m])
            != 0)
        {
            snprintf(detail, dlen, "the pending record of session %llu "
                     "does not decode", (unsigned long long) pend[i].sid);
            return -1;
        }

        cmp = memcmp(items[m].period, period.data, 7);

        if (cmp > 0) {
            continue;               /* a later month's */
        }

        late[m] = 0;

        if (cmp < 0) {
            /* an earlier month's: late once that month's run passed the
             * customer; before that, its own run takes it */
            p.data = items[m].period;
            p.len = 7;

            rc = evb_run_passed(op, tx, p, customer_id, &passed);
            if (rc == -1) {
                snprintf(detail, dlen, "the billing run record of %s does "
                         "not decode", items[m].period);
                return -1;
            }

            if (rc != 0) {
                return rc;
            }

            if (!passed) {
                continue;
            }

            late[m] = 1;
        }

        for (j = 0; j < ncur; j++) {
            if (memcmp(cur[j], items[m].currency, 3) == 0) {
                break;
            }
        }

        if (j == ncur) {
            if (ncur == EVB_RUN_CURRENCIES_MAX) {
                continue;           /* left for a later run */
            }

            memcpy(cur[ncur++], items[m].currency, 4);
        }

        sel[m] = pend[i];
        m++;
    }

    if (run->n + ncur > *cap) {
        *cap = (run->n + ncur) * 2;
        grown = evb_arena_alloc(op->arena, sizeof(evb_str_t) * *cap);
        if (grown == NULL) {
            return ENOMEM;
        }

        if (run->n) {
            memcpy(grown, run->numbers, sizeof(evb_str_t) * run->n);
        }

        run->numbers = grown;
    }

    if (m == 0) {
        *more = 0;                  /* nothing of this run: move on */
    }

    /* one invoice per currency, sessions in end order */
    for (j = 0; j < ncur; j++) {
        nc = 0;

        for (i = 0; i < m; i++) {
            if (memcmp(items[i].currency, cur[j], 3) == 0) {
                it[nc] = items[i];
                lt[nc] = late[i];
                pend[nc] = sel[i];
                nc++;
            }
        }

        rc = evb_run_invoice(op, tx, ic, period, &buyer, it, lt, pend, nc,
                             run, detail, dlen);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static void
evb_op_billing_run_clear(evb_wop_t *w)
{
    evb_op_billing_run_t  *o = (evb_op_billing_run_t *) w;

    memset(&o->run, 0, sizeof(evb_month_run_t));
    o->run.cursor.data = "";
    o->made = 0;
}


static evb_problem_e
evb_op_billing_run_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                        rc, found, more;
    size_t                     customers, cap, before, read;
    evb_buf_t                  b;
    evb_str_t                  customer, rec, after;
    evb_op_billing_run_t      *o = (evb_op_billing_run_t *) w;
    evb_op_t                  *op = &o->op;
    const evb_invoice_conf_t  *ic = o->conf;
    char                       now[8], detail[192];

    if (ic == NULL) {
        return evb_refuse(op, EVB_P_UNKNOWN_INVOICE, "no invoices are made "
                          "(no evbill_seller_file)");
    }

    /* a month is billed once it is over where the seller is */
    evb_month_of(ic->tz, op->now, now);

    if (memcmp(o->period.data, now, 7) >= 0) {
        return evb_refuse(op, EVB_P_PERIOD_NOT_ENDED, "%.7s has not ended "
                          "in the seller's time zone (%.*s): it is %s",
                          o->period.data, (int) ic->time_zone.len,
                          ic->time_zone.data, now);
    }

    rc = evb_run_load(op, tx, o->period, &o->run, &found);
    if (rc == -1) {
        return evb_refuse(op, EVB_P_INTERNAL, "the billing run record does "
                          "not decode");
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (found && o->run.n) {
        rc = evb_tx_run_numbers(tx, op->arena, o->period, o->run.n,
                                &o->run.numbers);
        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }
    }

    if (o->run.done) {
        return EVB_OK;              /* answered again, nothing made */
    }

    if (!found) {
        o->run.started = op->now;
    }

    before = o->run.n;
    cap = o->run.n;
    after = o->run.cursor;
    read = 0;
    more = 0;

    for (customers = 0;
         customers < o->limit && read < EVB_RUN_SESSIONS_MAX && !more;
         customers++)
    {
        rc = evb_tx_pending_next_customer(tx, op->arena, after, &customer);
        if (rc == EVB_ST_NOTFOUND) {
            o->run.done = 1;
            break;
        }

        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        rc = evb_run_customer(op, tx, ic, o->period, customer, &o->run, &cap,
                              &read, &more, detail, sizeof(detail));
        if (rc == -1 || rc == -2) {
            return evb_refuse(op, EVB_P_INTERNAL, "%s", detail);
        }

        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        if (!more) {
            after = customer;
        }
    }

    if (!o->run.done) {
        /* say done now when no customer is left, not one call later */
        rc = evb_tx_pending_next_customer(tx, op->arena, after, &customer);
        if (rc == EVB_ST_NOTFOUND) {
            o->run.done = 1;

        } else if (rc != 0) {
            return evb_op_store_error(op, rc);
        }
    }

    o->run.cursor = after;
    o->run.updated = op->now;
    o->made = o->run.n - before;

    evb_buf_init(&b);
    evb_month_run_encode(&b, &o->run);

    if (b.oom) {
        evb_buf_free(&b);
        return evb_op_store_error(op, ENOMEM);
    }

    rec.data = b.data;
    rec.len = b.len;

    rc = evb_tx_run_put(tx, o->period, rec);
    evb_buf_free(&b);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


void
evb_op_billing_run_init(evb_op_billing_run_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(evb_op_billing_run_t));
    o->run.cursor.data = "";
    evb_op_base_init(&o->op, EVB_OP_BILLING_RUN, evb_op_billing_run_run,
                     evb_op_billing_run_clear, now, a);
}
