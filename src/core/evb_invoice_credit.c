/*
 * Credit notes (see evb_invoice_make.h): what a request credits, the
 * credit note document, and the invoice's status view.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_json.h"
#include "evb_money.h"
#include "evb_pan.h"
#include "evb_invoice_make.h"


#define EVB_CREDIT_LINES_MAX  1000


evb_problem_e
evb_credit_parse(evb_arena_t *a, const char *json, size_t len,
    evb_credit_req_t *req, char *detail, size_t dlen)
{
    size_t        i, j;
    int64_t       n;
    evb_json_t   *root, *v, *arr;
    const char   *name;

    memset(req, 0, sizeof(evb_credit_req_t));

    if (evb_json_parse(a, json, len, 8, &root, detail, dlen) != EVB_JSON_OK) {
        return EVB_P_MALFORMED_JSON;
    }

    if (root->type != EVB_JSON_OBJECT) {
        snprintf(detail, dlen, "the body must be a JSON object");
        return EVB_P_INVALID_TYPE;
    }

    for (i = 0; i < root->u.obj.n; i++) {
        name = root->u.obj.members[i].key.data;

        if (strcmp(name, "reason") != 0 && strcmp(name, "lines") != 0) {
            snprintf(detail, dlen, "unknown field \"%.64s\": a credit takes "
                     "\"reason\" and \"lines\"", name);
            return EVB_P_INVALID_VALUE;
        }
    }

    v = evb_json_get(root, "reason");

    if (v == NULL) {
        snprintf(detail, dlen, "\"reason\" is missing");
        return EVB_P_MISSING_FIELD;
    }

    if (v->type != EVB_JSON_STRING) {
        snprintf(detail, dlen, "\"reason\" must be a string");
        return EVB_P_INVALID_TYPE;
    }

    if (v->u.str.len == 0 || v->u.str.len > EVB_CREDIT_REASON_MAX) {
        snprintf(detail, dlen, "\"reason\" must be 1 to %d characters",
                 EVB_CREDIT_REASON_MAX);
        return EVB_P_INVALID_VALUE;
    }

    for (i = 0; i < v->u.str.len; i++) {
        if ((unsigned char) v->u.str.data[i] < 0x20
            || v->u.str.data[i] == 0x7f)
        {
            break;
        }
    }

    if (i < v->u.str.len || !evb_xml_text_ok(v->u.str.data, v->u.str.len)) {
        snprintf(detail, dlen, "\"reason\" must not hold control characters "
                 "or characters XML 1.0 forbids (U+FFFE, U+FFFF)");
        return EVB_P_INVALID_VALUE;
    }

    /* free text printed on the credit note: never a card number, and
     * the detail does not echo it */
    if (evb_pan_in(v->u.str)) {
        snprintf(detail, dlen, "\"reason\" %s", EVB_PAN_REFUSED);
        return EVB_P_CARD_DATA;
    }

    req->reason = v->u.str;

    arr = evb_json_get(root, "lines");

    if (arr == NULL) {
        return EVB_OK;
    }

    if (arr->type != EVB_JSON_ARRAY) {
        snprintf(detail, dlen, "\"lines\" must be an array of line ids");
        return EVB_P_INVALID_TYPE;
    }

    if (arr->u.arr.n == 0 || arr->u.arr.n > EVB_CREDIT_LINES_MAX) {
        snprintf(detail, dlen, "\"lines\" must list 1 to %d line ids "
                 "(leave it out to credit the whole invoice)",
                 EVB_CREDIT_LINES_MAX);
        return EVB_P_INVALID_VALUE;
    }

    req->lines = evb_arena_alloc(a, sizeof(uint32_t) * arr->u.arr.n);
    if (req->lines == NULL) {
        snprintf(detail, dlen, "out of memory");
        return EVB_P_INTERNAL;
    }

    for (i = 0; i < arr->u.arr.n; i++) {
        v = arr->u.arr.items[i];

        if (v->type != EVB_JSON_NUMBER) {
            snprintf(detail, dlen, "\"lines\" must hold integers");
            return EVB_P_INVALID_TYPE;
        }

        if (evb_json_int64(v, &n) != EVB_NUM_OK || n < 1 || n > 100000) {
            snprintf(detail, dlen, "\"lines\" holds line ids from 1");
            return EVB_P_INVALID_VALUE;
        }

        for (j = 0; j < i; j++) {
            if (req->lines[j] == (uint32_t) n) {
                snprintf(detail, dlen, "\"lines\" lists line %lld twice",
                         (long long) n);
                return EVB_P_INVALID_VALUE;
            }
        }

        req->lines[i] = (uint32_t) n;
    }

    req->nlines = arr->u.arr.n;

    return EVB_OK;
}


static int
evb_u32_cmp(const void *a, const void *b)
{
    uint32_t  x = *(const uint32_t *) a, y = *(const uint32_t *) b;

    return x < y ? -1 : x > y;
}


void
evb_credit_canonical(evb_buf_t *b, const evb_credit_req_t *req)
{
    size_t     i;
    uint32_t  *sorted;

    /* the same request, whatever the order of its lines */
    if (req->lines == NULL) {
        evb_buf_appends(b, "*");

    } else {
        sorted = malloc(sizeof(uint32_t) * req->nlines);
        if (sorted == NULL) {
            b->oom = 1;
            return;
        }

        memcpy(sorted, req->lines, sizeof(uint32_t) * req->nlines);
        qsort(sorted, req->nlines, sizeof(uint32_t), evb_u32_cmp);

        for (i = 0; i < req->nlines; i++) {
            evb_buf_append_u64(b, sorted[i]);
            evb_buf_appends(b, ",");
        }

        free(sorted);
    }

    evb_buf_appends(b, "\n");
    evb_buf_append(b, req->reason.data, req->reason.len);
}


static int
evb_line_credited(const evb_invoice_t *prev, size_t nprev, uint32_t id)
{
    size_t  i, j;

    for (i = 0; i < nprev; i++) {
        for (j = 0; j < prev[i].nlines; j++) {
            if (prev[i].lines[j].id == id) {
                return 1;
            }
        }
    }

    return 0;
}


static int
evb_vat_same(const evb_doc_vat_t *v, char cat, int64_t vat)
{
    return v->vat_category == cat && v->vat == vat;
}


evb_problem_e
evb_credit_build(evb_arena_t *a, const evb_invoice_conf_t *conf,
    const evb_invoice_t *inv, const evb_invoice_t *prev, size_t nprev,
    const evb_credit_req_t *req, evb_str_t number, evb_msec_t issued_at,
    evb_invoice_t *cn, char *detail, size_t dlen)
{
    int              final;
    size_t           i, j, k, ncredited;
    int64_t          vat, left;
    unsigned char   *take;
    evb_doc_vat_t   *v;
    const evb_doc_vat_t  *iv;
    char             date[11];

    if (inv->kind != EVB_DOC_INVOICE) {
        snprintf(detail, dlen, "only an invoice can be credited");
        return EVB_P_INVALID_VALUE;
    }

    take = evb_arena_alloc(a, inv->nlines + 1);
    if (take == NULL) {
        snprintf(detail, dlen, "out of memory");
        return EVB_P_INTERNAL;
    }

    memset(take, 0, inv->nlines + 1);
    ncredited = 0;

    for (i = 0; i < inv->nlines; i++) {
        if (evb_line_credited(prev, nprev, inv->lines[i].id)) {
            ncredited++;
            take[i] = 2;                 /* credited before */
        }
    }

    if (req->lines == NULL) {
        for (i = 0; i < inv->nlines; i++) {
            if (take[i] == 0) {
                take[i] = 1;
            }
        }

    } else {
        for (k = 0; k < req->nlines; k++) {
            for (i = 0; i < inv->nlines; i++) {
                if (inv->lines[i].id == req->lines[k]) {
                    break;
                }
            }

            if (i == inv->nlines) {
                snprintf(detail, dlen, "invoice %.*s has no line %u (its "
                         "lines are 1 to %u)", (int) inv->number.len,
                         inv->number.data, (unsigned) req->lines[k],
                         (unsigned) inv->nlines);
                return EVB_P_UNKNOWN_LINE;
            }

            if (take[i] == 2) {
                snprintf(detail, dlen, "line %u of invoice %.*s is credited "
                         "already", (unsigned) req->lines[k],
                         (int) inv->number.len, inv->number.data);
                return EVB_P_CREDIT_EXCEEDED;
            }

            take[i] = 1;
        }
    }

    memset(cn, 0, sizeof(evb_invoice_t));

    cn->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t)
                                   * (inv->nlines + 1));
    cn->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t) * (inv->nvat + 1));
    if (cn->lines == NULL || cn->vat == NULL) {
        snprintf(detail, dlen, "out of memory");
        return EVB_P_INTERNAL;
    }

    for (i = 0; i < inv->nlines; i++) {
        if (take[i] == 1) {
            cn->lines[cn->nlines++] = inv->lines[i];
        }
    }

    if (cn->nlines == 0) {
        snprintf(detail, dlen, "invoice %.*s is credited in full already",
                 (int) inv->number.len, inv->number.data);
        return EVB_P_CREDIT_EXCEEDED;
    }

    /* the credit note that leaves nothing to credit takes the rest */
    final = (ncredited + cn->nlines == inv->nlines);

    cn->kind = EVB_DOC_CREDIT_NOTE;
    cn->number = number;
    cn->issued_at = issued_at;
    evb_invoice_date(conf->tz, issued_at, 0, date, NULL);
    cn->issue_date.data = evb_arena_strdup(a, date, 10);
    cn->issue_date.len = 10;
    if (cn->issue_date.data == NULL) {
        snprintf(detail, dlen, "out of memory");
        return EVB_P_INTERNAL;
    }

    cn->due_date = cn->issue_date;
    cn->language = inv->language;
    memcpy(cn->currency, inv->currency, 4);
    cn->exponent = inv->exponent;
    cn->seller = inv->seller;
    cn->buyer = inv->buyer;
    cn->buyer_ad_hoc = inv->buyer_ad_hoc;
    cn->customer_id = inv->customer_id;
    cn->session = inv->session;
    cn->invoice_number = inv->number;
    cn->invoice_issue_date = inv->issue_date;
    cn->reason = req->reason;

    for (k = 0; k < inv->nvat; k++) {
        iv = &inv->vat[k];
        v = &cn->vat[cn->nvat];
        memset(v, 0, sizeof(evb_doc_vat_t));
        v->vat_category = iv->vat_category;
        v->vat = iv->vat;

        for (j = 0; j < cn->nlines; j++) {
            if (cn->lines[j].vat_category == iv->vat_category
                && cn->lines[j].vat == iv->vat)
            {
                v->lines += cn->lines[j].amount;
            }
        }

        /* what the earlier credit notes took of this rate's VAT */
        left = iv->amount;

        for (i = 0; i < nprev; i++) {
            for (j = 0; j < prev[i].nvat; j++) {
                if (evb_vat_same(&prev[i].vat[j], iv->vat_category,
                                 iv->vat))
                {
                    left -= prev[i].vat[j].amount;
                }
            }
        }

        if (final) {
            v->allowance = iv->allowance;
            v->charge = iv->charge;
            v->taxable = v->lines - v->allowance + v->charge;
            vat = left;

        } else {
            v->taxable = v->lines;

            if (evb_div_round((evb_i128_t) v->taxable * iv->vat, 100000000,
                              conf->rounding, &vat)
                != 0
                || evb_round_micro(vat, cn->exponent, conf->rounding, &vat)
                   != 0)
            {
                snprintf(detail, dlen, "the VAT could not be computed");
                return EVB_P_INTERNAL;
            }

            if (vat > left) {
                vat = left;
            }
        }

        v->amount = vat < 0 ? 0 : vat;

        if (v->lines == 0 && v->allowance == 0 && v->charge == 0
            && v->amount == 0)
        {
            continue;
        }

        cn->line_total += v->lines;
        cn->allowance_total += v->allowance;
        cn->charge_total += v->charge;
        cn->tax_total += v->amount;
        cn->nvat++;
    }

    cn->tax_exclusive = cn->line_total - cn->allowance_total
                        + cn->charge_total;
    cn->tax_inclusive = cn->tax_exclusive + cn->tax_total;
    cn->payable = cn->tax_inclusive;

    return EVB_OK;
}


void
evb_invoice_status(const evb_invoice_t *inv, const evb_invoice_t *cns,
    size_t ncns, evb_invoice_status_t *st, evb_str_t *numbers)
{
    size_t  i;

    memset(st, 0, sizeof(evb_invoice_status_t));

    for (i = 0; i < ncns; i++) {
        st->credited += cns[i].payable;
        numbers[i] = cns[i].number;
    }

    st->ncredit_notes = ncns;
    st->credit_notes = numbers;
    st->state = (ncns && st->credited >= inv->payable) ? EVB_PAY_CREDITED
                                                       : EVB_PAY_DUE;
}
