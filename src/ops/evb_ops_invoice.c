/*
 * evbill ops: invoices and credit notes.
 *
 * Semantics decided here (docs/invoicing.md):
 *   - A session closed by a stop or the idle sweep gets its invoice in
 *     the transaction that stores its CDR: the number comes from the
 *     series' counter in that transaction, so a number exists with its
 *     invoice or not at all (no gap, no duplicate, whatever the workers,
 *     crashes and restarts).  The invoice part runs in a nested
 *     transaction: when the document cannot be made, the counter is left
 *     as it was and the session says why it has no invoice.
 *   - No invoice (said in the session): no buyer (evb_invoice_buyer), a
 *     total of zero, a currency with more than 2 decimals.  An unrated
 *     session has no CDR and no invoice (its cost_error says why).
 *   - Credit notes: see evb_invoice_credit.c for what is credited; here
 *     the credit_id makes a retry answer the same credit note.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_ops.h"
#include "../core/evb_json.h"
#include "../core/evb_money.h"
#include "../../lmdb/evb_store_invoice.h"


/* evb_inv_make: a number taken already (not an LMDB code) */
#define EVB_RC_CORRUPT_INV  (-30601)


static evb_str_t
evb_inv_strdup(evb_arena_t *a, const char *s)
{
    evb_str_t  r;

    r.len = strlen(s);
    r.data = evb_arena_strdup(a, s, r.len);
    if (r.data == NULL) {
        r.len = 0;
    }

    return r;
}


/* the location's country as EN 16931 wants it (alpha-2) */
static evb_str_t
evb_inv_location_country(evb_arena_t *a, const evb_charger_t *c)
{
    evb_str_t    r = evb_str_lit("");
    evb_json_t  *doc, *loc, *v;
    const char  *cc;

    if (evb_json_parse(a, c->doc.data, c->doc.len, 8, &doc, NULL, 0)
        != EVB_JSON_OK)
    {
        return r;
    }

    loc = evb_json_get(doc, "location");
    v = (loc && loc->type == EVB_JSON_OBJECT) ? evb_json_get(loc, "country")
                                              : NULL;

    cc = (v && v->type == EVB_JSON_STRING) ? evb_country_alpha2(v->u.str)
                                           : NULL;

    if (cc != NULL) {
        r.data = evb_arena_strdup(a, cc, 2);
        r.len = r.data ? 2 : 0;
    }

    return r;
}


static evb_problem_e
evb_inv_none(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s,
    const char *why)
{
    int        rc;
    evb_str_t  w;

    w = evb_inv_strdup(op->arena, why);
    if (w.len == 0) {
        return evb_op_store_error(op, ENOMEM);
    }

    rc = evb_tx_session_invoice_put(tx, s->sid, 'N', w);

    /* no invoice, nothing to capture: an ad hoc hold is released */
    if (rc == 0) {
        rc = evb_pay_at_close(op, tx, s->sid, w, 0, NULL);
    }

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/* the CDR with "invoice_reference_id" before its closing brace */
static int
evb_inv_cdr_ref(evb_arena_t *a, evb_str_t cdr, evb_str_t number,
    evb_str_t *out)
{
    size_t     end;
    evb_buf_t  b;

    end = cdr.len;
    while (end > 0 && cdr.data[end - 1] != '}') {
        end--;
    }

    if (end == 0) {
        return -1;
    }

    evb_buf_init(&b);
    evb_buf_append(&b, cdr.data, end - 1);
    evb_buf_appends(&b, ",\"invoice_reference_id\":");
    evb_buf_append_json_str(&b, number.data, number.len);
    evb_buf_appends(&b, "}");

    if (b.oom) {
        evb_buf_free(&b);
        return -1;
    }

    out->data = evb_arena_strdup(a, b.data, b.len);
    out->len = b.len;
    evb_buf_free(&b);

    return out->data ? 0 : -1;
}


/*
 * The invoice itself, in tx (a transaction nested for it).  Returns 0,
 * a store error, or -1 with detail: no invoice, nothing written.
 */
static int
evb_inv_make(evb_op_t *op, evb_wtxn_t *tx, const evb_invoice_conf_t *ic,
    const evb_invoice_buyer_t *buyer, const evb_session_t *s,
    const evb_charger_t *c, evb_str_t cdr, const evb_bill_out_t *out,
    char *detail, size_t dlen)
{
    int                 rc, year;
    size_t              len;
    uint64_t            n;
    evb_buf_t           b;
    evb_str_t           number, rec, ref;
    evb_invoice_t       inv;
    evb_invoice_src_t   src;
    char                num[EVB_NUMBER_MAX + 1], date[11];

    evb_invoice_date(ic->tz, op->now, 0, date, &year);

    rc = evb_tx_inv_next(tx, 'I', evb_number_format_has_year(
                                      ic->invoice_format) ? (uint32_t) year
                                                          : 0, &n);
    if (rc != 0) {
        return rc;
    }

    len = evb_number_format(num, ic->invoice_format, year, ic->node_id, n);
    if (len == 0) {
        snprintf(detail, dlen, "invoice number %llu does not fit the "
                 "format in %d characters", (unsigned long long) n,
                 EVB_NUMBER_MAX);
        return -1;
    }

    number.data = num;
    number.len = len;

    memset(&src, 0, sizeof(evb_invoice_src_t));
    src.conf = ic;
    src.buyer = buyer;
    src.number = number;
    src.issued_at = op->now;
    src.session = s;
    src.charger_doc = c->doc;
    src.time_zone = c->time_zone;
    src.cdr_id.data = out->cdr_id;
    src.cdr_id.len = strlen(out->cdr_id);
    src.result = &out->result;
    src.detail = &out->detail;

    if (evb_invoice_build(op->arena, &src, &inv, detail, dlen) != 0) {
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

    rc = evb_tx_inv_put(tx, 0, inv.number, rec);
    evb_buf_free(&b);

    if (rc == EVB_ST_EXISTS) {
        /* the counter and the documents disagree: never reuse a number */
        snprintf(detail, dlen, "invoice number %s is taken already; the "
                 "store needs `evbill-store check`", num);
        return EVB_RC_CORRUPT_INV;
    }

    if (rc == 0) {
        rc = evb_tx_inv_index(tx, inv.issued_at, inv.customer_id,
                              inv.number);
    }

    if (rc == 0) {
        rc = evb_tx_session_invoice_put(tx, s->sid, 'I', inv.number);
    }

    /* an ad hoc payment's capture (or cancel) joins the outbox */
    if (rc == 0) {
        rc = evb_pay_at_close(op, tx, s->sid, inv.number, inv.payable,
                              inv.currency);
    }

    if (rc == 0) {
        rc = evb_inv_cdr_ref(op->arena, cdr, inv.number, &ref) == 0
             ? evb_tx_put_cdr(tx, s->sid, ref) : ENOMEM;
    }

    return rc;
}


/*
 * The customer the session took at its start (the token's, resolved
 * then): the buyer, whatever happened to the token since.  A customer
 * retired after the start is still the buyer of the sessions it started.
 * 0 with *found, or a store error.
 */
static int
evb_inv_customer(evb_op_t *op, evb_wtxn_t *tx,
    const evb_session_start_t *start, evb_invoice_customer_t *ic,
    int *found)
{
    int             rc;
    evb_customer_t  cu;

    *found = 0;

    if (start == NULL || start->customer_id.len == 0) {
        return 0;
    }

    rc = evb_tx_get_customer(tx, op->arena, start->customer_id, &cu);
    if (rc == EVB_ST_NOTFOUND) {
        return 0;                   /* a start record names none: no buyer */
    }

    if (rc != 0) {
        return rc;
    }

    memset(ic, 0, sizeof(evb_invoice_customer_t));
    ic->customer_id = cu.customer_id;
    ic->party = cu.buyer;
    ic->language = cu.language;
    ic->per_session = (cu.invoicing == EVB_INVOICING_PER_SESSION);
    ic->has_terms = (cu.payment_terms_days != EVB_TERMS_UNSET);
    ic->payment_terms_days = ic->has_terms ? cu.payment_terms_days : 0;

    *found = 1;

    return 0;
}


evb_problem_e
evb_invoice_at_close(evb_op_t *op, evb_wtxn_t *tx,
    const evb_bill_conf_t *conf, const evb_session_t *s,
    const evb_session_start_t *start, const evb_charger_t *c, evb_str_t cdr,
    const evb_bill_out_t *out)
{
    int                        rc, found;
    const char                *why;
    evb_wtxn_t                *child;
    evb_invoice_buyer_t        buyer;
    evb_invoice_customer_t     customer;
    const evb_invoice_conf_t  *ic;
    char                       detail[192];

    ic = conf ? conf->invoice : NULL;

    if (ic == NULL) {
        return EVB_OK;              /* no evbill_seller_file: CDRs only */
    }

    if (out == NULL || !out->set) {
        return evb_inv_none(op, tx, s, "the session's bill could not be "
                            "itemised: no invoice");
    }

    rc = evb_inv_customer(op, tx, start, &customer, &found);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (found && !customer.per_session) {
        /* the billing run invoices it (evb_ops_runs.c) */
        why = evb_invoice_refusal(&out->result);
        return why ? evb_inv_none(op, tx, s, why)
                   : evb_month_at_close(op, tx, ic, s, &customer, out);
    }

    if (!evb_invoice_buyer(ic, s, found ? &customer : NULL,
                           evb_inv_location_country(op->arena, c),
                           &buyer, &why))
    {
        return evb_inv_none(op, tx, s, why);
    }

    why = evb_invoice_refusal(&out->result);
    if (why != NULL) {
        return evb_inv_none(op, tx, s, why);
    }

    rc = evb_tx_nest(tx, &child);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    rc = evb_inv_make(op, child, ic, &buyer, s, c, cdr, out, detail,
                      sizeof(detail));

    if (rc == 0) {
        rc = evb_tx_commit(child);
        return rc ? evb_op_store_error(op, rc) : EVB_OK;
    }

    evb_tx_abort(child);

    if (rc == -1) {
        return evb_inv_none(op, tx, s, detail);
    }

    if (rc == EVB_RC_CORRUPT_INV) {
        return evb_refuse(op, EVB_P_INTERNAL, "%s", detail);
    }

    return evb_op_store_error(op, rc);
}


/* credit notes */

static const char  *evb_cdr_costs[] = {
    "total_cost", "total_fixed_cost", "total_energy_cost", "total_time_cost",
    "total_parking_cost", "total_reservation_cost", NULL
};


static int
evb_cdr_is_cost(const char *name)
{
    size_t  i;

    for (i = 0; evb_cdr_costs[i]; i++) {
        if (strcmp(evb_cdr_costs[i], name) == 0) {
            return 1;
        }
    }

    return 0;
}


/* a JSON number literal negated ("1.50" -> "-1.50", "-2" -> "2") */
static void
evb_cdr_negate(evb_buf_t *b, const evb_json_t *v)
{
    size_t  i;

    if (v->type != EVB_JSON_NUMBER) {
        evb_json_write(b, v);
        return;
    }

    if (v->u.str.len && v->u.str.data[0] == '-') {
        evb_buf_append(b, v->u.str.data + 1, v->u.str.len - 1);
        return;
    }

    for (i = 0; i < v->u.str.len; i++) {
        if (v->u.str.data[i] >= '1' && v->u.str.data[i] <= '9') {
            break;
        }

        if (v->u.str.data[i] == 'e' || v->u.str.data[i] == 'E') {
            i = v->u.str.len;
            break;
        }
    }

    if (i < v->u.str.len) {
        evb_buf_appends(b, "-");
    }

    evb_buf_append(b, v->u.str.data, v->u.str.len);
}


/* what is left of the invoice after its credit notes, per CDR cost */
typedef struct {
    int64_t              excl[6];
    int64_t              total_incl;
    int                  exponent;
} evb_cdr_left_t;


static void
evb_cdr_price(evb_buf_t *b, int64_t excl, int has_incl, int64_t incl,
    int exponent)
{
    evb_buf_appends(b, "{\"excl_vat\":");
    evb_buf_append_decimal(b, excl, 6, (unsigned) exponent);

    if (has_incl) {
        evb_buf_appends(b, ",\"incl_vat\":");
        evb_buf_append_decimal(b, incl, 6, (unsigned) exponent);
    }

    evb_buf_appends(b, "}");
}


/*
 * The credit CDR (negated costs, credit, credit_reference_id, the credit
 * note as invoice_reference_id) of cdr, or with left the corrected CDR:
 * the costs that remain, the invoice's reference kept.  id: the new id.
 */
static int
evb_cdr_rewrite(evb_arena_t *a, evb_str_t cdr, evb_str_t id,
    evb_msec_t now, const evb_cdr_left_t *left, evb_str_t ref,
    evb_str_t *out)
{
    size_t        i, k;
    evb_buf_t     b;
    evb_json_t   *root, *v, *x;
    const char   *name;

    if (evb_json_parse(a, cdr.data, cdr.len, 16, &root, NULL, 0)
        != EVB_JSON_OK
        || root->type != EVB_JSON_OBJECT)
    {
        return -1;
    }

    evb_buf_init(&b);
    evb_buf_appends(&b, "{");

    for (i = 0; i < root->u.obj.n; i++) {
        name = root->u.obj.members[i].key.data;
        v = root->u.obj.members[i].value;

        if (strcmp(name, "credit") == 0
            || strcmp(name, "credit_reference_id") == 0
            || strcmp(name, "last_updated") == 0
            || (left == NULL && strcmp(name, "invoice_reference_id") == 0))
        {
            continue;
        }

        if (b.len > 1) {
            evb_buf_appends(&b, ",");
        }

        evb_buf_append_json_str(&b, name, strlen(name));
        evb_buf_appends(&b, ":");

        if (strcmp(name, "id") == 0) {
            evb_buf_append_json_str(&b, id.data, id.len);
            continue;
        }

        if (!evb_cdr_is_cost(name) || v->type != EVB_JSON_OBJECT) {
            evb_json_write(&b, v);
            continue;
        }

        if (left != NULL) {
            for (k = 0; evb_cdr_costs[k]; k++) {
                if (strcmp(evb_cdr_costs[k], name) == 0) {
                    break;
                }
            }

            /* the total keeps its incl_vat; a dimension's share of the
             * VAT is not itemised on the invoice */
            evb_cdr_price(&b, left->excl[k],
                          k == 0 && evb_json_get(v, "incl_vat") != NULL,
                          left->total_incl, left->exponent);
            continue;
        }

        evb_buf_appends(&b, "{");

        for (k = 0; k < v->u.obj.n; k++) {
            x = v->u.obj.members[k].value;
            if (k) {
                evb_buf_appends(&b, ",");
            }

            evb_buf_append_json_str(&b, v->u.obj.members[k].key.data,
                                    v->u.obj.members[k].key.len);
            evb_buf_appends(&b, ":");
            evb_cdr_negate(&b, x);
        }

        evb_buf_appends(&b, "}");
    }

    if (left == NULL) {
        v = evb_json_get(root, "id");
        evb_buf_appends(&b, ",\"credit\":true,\"credit_reference_id\":");
        if (v && v->type == EVB_JSON_STRING) {
            evb_buf_append_json_str(&b, v->u.str.data, v->u.str.len);

        } else {
            evb_buf_appends(&b, "\"\"");
        }

        evb_buf_appends(&b, ",\"invoice_reference_id\":");
        evb_buf_append_json_str(&b, ref.data, ref.len);
    }

    evb_buf_appends(&b, ",\"last_updated\":");
    evb_buf_append_json_time(&b, now);
    evb_buf_appends(&b, "}");

    if (b.oom) {
        evb_buf_free(&b);
        return -1;
    }

    out->data = evb_arena_strdup(a, b.data, b.len);
    out->len = b.len;
    evb_buf_free(&b);

    return out->data ? 0 : -1;
}


/* the CDR a new credit credits: the last corrected one, else the
 * session's own */
static int
evb_credit_current_cdr(evb_op_t *op, evb_wtxn_t *tx, const evb_invoice_t *inv,
    const evb_invoice_t *prev, size_t nprev, evb_str_t *cdr)
{
    int             rc;
    size_t          i, last;
    evb_session_t   s;

    last = nprev;

    for (i = 0; i < nprev; i++) {
        if (last == nprev
            || prev[i].issued_at > prev[last].issued_at
            || (prev[i].issued_at == prev[last].issued_at
                && (prev[i].number.len > prev[last].number.len
                    || (prev[i].number.len == prev[last].number.len
                        && memcmp(prev[i].number.data, prev[last].number.data,
                                  prev[i].number.len) > 0))))
        {
            last = i;
        }
    }

    if (last < nprev) {
        rc = evb_tx_credit_cdr_get(tx, op->arena, prev[last].number, 'r',
                                   cdr);
        if (rc != EVB_ST_NOTFOUND) {
            return rc;
        }
    }

    rc = evb_tx_get_session(tx, op->arena, inv->session.charger_id,
                            inv->session.session_id, &s);
    if (rc != 0) {
        return rc;
    }

    return evb_tx_get_cdr(tx, op->arena, s.sid, cdr);
}


static void
evb_credit_left(const evb_invoice_t *inv, const evb_invoice_t *cns,
    size_t ncns, evb_cdr_left_t *left)
{
    size_t                 i, j, k;
    int                    slot;
    const evb_doc_line_t  *l;

    memset(left, 0, sizeof(evb_cdr_left_t));
    left->exponent = inv->exponent;
    left->excl[0] = inv->tax_exclusive;
    left->total_incl = inv->tax_inclusive;

    for (i = 0; i < ncns; i++) {
        left->excl[0] -= cns[i].tax_exclusive;
        left->total_incl -= cns[i].tax_inclusive;
    }

    for (j = 0; j < inv->nlines; j++) {
        l = &inv->lines[j];

        for (i = 0; i < ncns; i++) {
            for (k = 0; k < cns[i].nlines; k++) {
                if (cns[i].lines[k].id == l->id) {
                    goto credited;
                }
            }
        }

        /* evb_cdr_costs order */
        if (l->reservation) {
            slot = 5;

        } else if (l->dim == EVB_DIM_FLAT) {
            slot = 1;

        } else if (l->dim == EVB_DIM_ENERGY) {
            slot = 2;

        } else if (l->dim == EVB_DIM_TIME) {
            slot = 3;

        } else {
            slot = 4;
        }

        left->excl[slot] += l->amount;

    credited:

        continue;
    }
}


static void
evb_op_credit_clear(evb_wop_t *w)
{
    evb_op_credit_t  *o = (evb_op_credit_t *) w;

    o->created = 0;
    o->number.data = "";
    o->number.len = 0;
}


static evb_problem_e
evb_op_credit_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                        rc, year;
    size_t                     i, n, len;
    uint64_t                   k;
    evb_buf_t                  b, canon;
    evb_str_t                  rec, req, number, *recs, cdr, out, id;
    evb_invoice_t              inv, cn, *prev;
    evb_problem_e              p;
    evb_cdr_left_t             left;
    evb_op_credit_t           *o = (evb_op_credit_t *) w;
    evb_op_t                  *op = &o->op;
    const evb_invoice_conf_t  *ic = o->conf;
    char                       num[EVB_NUMBER_MAX + 1], date[11],
                               idbuf[64], detail[192];

    if (ic == NULL) {
        return evb_refuse(op, EVB_P_UNKNOWN_INVOICE, "no invoices are made "
                          "(no evbill_seller_file)");
    }

    rc = evb_tx_inv_get(tx, op->arena, 0, o->invoice_number, &rec);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_INVOICE, "no invoice with this "
                          "number");
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (evb_invoice_decode(op->arena, rec.data, rec.len, &inv) != 0) {
        return evb_refuse(op, EVB_P_INTERNAL, "the stored invoice does not "
                          "decode");
    }

    evb_buf_init(&canon);
    evb_credit_canonical(&canon, &o->req);
    if (canon.oom) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, ENOMEM);
    }

    /* a retry answers what the first request made */
    rc = evb_tx_credit_get(tx, op->arena, o->invoice_number, o->credit_id,
                           &req, &number);
    if (rc == 0) {
        if (req.len != canon.len
            || memcmp(req.data, canon.data, canon.len) != 0)
        {
            evb_buf_free(&canon);
            return evb_refuse(op, EVB_P_CREDIT_CONFLICT, "credit_id %.*s "
                              "made credit note %.*s with another request",
                              (int) o->credit_id.len, o->credit_id.data,
                              (int) number.len, number.data);
        }

        evb_buf_free(&canon);
        o->number = number;
        o->created = 0;
        return EVB_OK;
    }

    if (rc != EVB_ST_NOTFOUND) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, rc);
    }

    rc = evb_tx_credit_notes(tx, op->arena, o->invoice_number,
                             EVB_CREDITS_MAX, &recs, &n);
    if (rc == E2BIG || (rc == 0 && n >= EVB_CREDITS_MAX)) {
        evb_buf_free(&canon);
        return evb_refuse(op, EVB_P_CREDIT_EXCEEDED, "invoice %.*s has %d "
                          "credit notes, the most it may have",
                          (int) o->invoice_number.len,
                          o->invoice_number.data, EVB_CREDITS_MAX);
    }

    if (rc != 0) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, rc);
    }

    prev = evb_arena_alloc(op->arena, sizeof(evb_invoice_t) * (n + 1));
    if (prev == NULL) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, ENOMEM);
    }

    for (i = 0; i < n; i++) {
        if (evb_invoice_decode(op->arena, recs[i].data, recs[i].len,
                               &prev[i])
            != 0)
        {
            evb_buf_free(&canon);
            return evb_refuse(op, EVB_P_INTERNAL, "a stored credit note "
                              "does not decode");
        }
    }

    /* the number: refused credits roll the counter back with the op */
    evb_invoice_date(ic->tz, op->now, 0, date, &year);

    rc = evb_tx_inv_next(tx, 'C', evb_number_format_has_year(
                                      ic->credit_format) ? (uint32_t) year
                                                         : 0, &k);
    if (rc != 0) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, rc);
    }

    len = evb_number_format(num, ic->credit_format, year, ic->node_id, k);
    if (len == 0) {
        evb_buf_free(&canon);
        return evb_refuse(op, EVB_P_INTERNAL, "credit note number %llu does "
                          "not fit the format", (unsigned long long) k);
    }

    number.data = evb_arena_strdup(op->arena, num, len);
    number.len = len;
    if (number.data == NULL) {
        evb_buf_free(&canon);
        return evb_op_store_error(op, ENOMEM);
    }

    p = evb_credit_build(op->arena, ic, &inv, prev, n, &o->req, number,
                         op->now, &cn, detail, sizeof(detail));
    if (p != EVB_OK) {
        evb_buf_free(&canon);
        return evb_refuse(op, p, "%s", detail);
    }

    evb_buf_init(&b);
    evb_invoice_encode(&b, &cn);

    if (b.oom) {
        evb_buf_free(&b);
        evb_buf_free(&canon);
        return evb_op_store_error(op, ENOMEM);
    }

    rec.data = b.data;
    rec.len = b.len;
    req.data = canon.data;
    req.len = canon.len;

    rc = evb_tx_inv_put(tx, 1, number, rec);
    if (rc == EVB_ST_EXISTS) {
        evb_buf_free(&b);
        evb_buf_free(&canon);
        return evb_refuse(op, EVB_P_INTERNAL, "credit note number %s is "
                          "taken already; the store needs `evbill-store "
                          "check`", num);
    }

    if (rc == 0) {
        rc = evb_tx_credit_put(tx, o->invoice_number, o->credit_id, req,
                               number);
    }

    evb_buf_free(&b);
    evb_buf_free(&canon);

    /* OCPI credits a whole CDR: the credit CDR, and one for what is left */
    if (rc == 0) {
        rc = evb_credit_current_cdr(op, tx, &inv, prev, n, &cdr);
        if (rc == EVB_ST_NOTFOUND) {
            rc = 0;
            cdr.len = 0;
        }
    }

    if (rc == 0 && cdr.len) {
        snprintf(idbuf, sizeof(idbuf), "%.*sC%u",
                 (int) (inv.session.cdr_id.len > 36 ? 36
                        : inv.session.cdr_id.len),
                 inv.session.cdr_id.data, (unsigned) (n + 1));
        id.data = idbuf;
        id.len = strlen(idbuf);

        rc = evb_cdr_rewrite(op->arena, cdr, id, op->now, NULL, number,
                             &out) == 0
             ? evb_tx_put_credit_cdr(tx, number, 'c', out) : ENOMEM;

        prev[n] = cn;
        evb_credit_left(&inv, prev, n + 1, &left);

        if (rc == 0 && left.excl[0] + left.total_incl != 0) {
            snprintf(idbuf, sizeof(idbuf), "%.*sR%u",
                     (int) (inv.session.cdr_id.len > 36 ? 36
                            : inv.session.cdr_id.len),
                     inv.session.cdr_id.data, (unsigned) (n + 1));
            id.len = strlen(idbuf);

            rc = evb_cdr_rewrite(op->arena, cdr, id, op->now, &left, number,
                                 &out)
                 == 0 ? evb_tx_put_credit_cdr(tx, number, 'r', out)
                      : ENOMEM;
        }
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    o->number = number;
    o->created = 1;

    return EVB_OK;
}


void
evb_op_credit_init(evb_op_credit_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(evb_op_credit_t));
    evb_op_base_init(&o->op, EVB_OP_CREDIT, evb_op_credit_run,
                     evb_op_credit_clear, now, a);
}
