/*
 * Monthly invoices (billing runs): see evb_invoice_month.h.  The billing
 * rule of evb_rate_round.c applied to all the lines of a month: each
 * session's rounded lines as they are (they equal its CDR's), summed per
 * VAT category and rate, its min/max adjustments per rate as allowances
 * and charges, and VAT once per rate on the taxable sum.  So the VAT can
 * differ by a few cents from the sum of the sessions' CDR VAT, which
 * rounded per session.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_json.h"
#include "evb_money.h"
#include "evb_invoice_month.h"
#include "evb_bytes.h"


void
evb_month_of(const evb_tz_t *tz, evb_msec_t t, char out[8])
{
    int       y;
    evb_tm_t  tm;

    evb_tz_local(tz, t / 1000 - (t % 1000 < 0), &tm);

    y = tm.year < 0 ? 0 : tm.year % 10000;
    out[0] = (char) ('0' + y / 1000);
    out[1] = (char) ('0' + y / 100 % 10);
    out[2] = (char) ('0' + y / 10 % 10);
    out[3] = (char) ('0' + y % 10);
    out[4] = '-';
    out[5] = (char) ('0' + tm.month / 10);
    out[6] = (char) ('0' + tm.month % 10);
    out[7] = '\0';
}


int
evb_month_period_ok(evb_str_t p)
{
    int     y, m;
    size_t  i;

    if (p.len != 7 || p.data[4] != '-') {
        return 0;
    }

    for (i = 0; i < 7; i++) {
        if (i != 4 && (p.data[i] < '0' || p.data[i] > '9')) {
            return 0;
        }
    }

    y = (p.data[0] - '0') * 1000 + (p.data[1] - '0') * 100
        + (p.data[2] - '0') * 10 + (p.data[3] - '0');
    m = (p.data[5] - '0') * 10 + (p.data[6] - '0');

    return y >= 1970 && m >= 1 && m <= 12;
}


int
evb_month_item_make(evb_arena_t *a, evb_str_t charger_id,
    evb_str_t session_id, evb_str_t cdr_id, const char period[8],
    evb_msec_t end, const evb_rate_result_t *res, const evb_bill_detail_t *d,
    evb_month_item_t *item)
{
    size_t            i;
    char             *p;
    evb_doc_vat_t    *v;
    evb_doc_line_t   *l;

    memset(item, 0, sizeof(evb_month_item_t));

    p = evb_arena_alloc(a, charger_id.len + 1 + session_id.len + 1);
    item->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t)
                                     * (d->nlines ? d->nlines : 1));
    item->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t)
                                   * (d->nvat ? d->nvat : 1));
    item->cdr_id.data = evb_arena_strdup(a, cdr_id.data, cdr_id.len);

    if (p == NULL || item->lines == NULL || item->vat == NULL
        || item->cdr_id.data == NULL)
    {
        return -1;
    }

    memcpy(p, charger_id.data, charger_id.len);
    p[charger_id.len] = '/';
    memcpy(p + charger_id.len + 1, session_id.data, session_id.len);
    item->session.data = p;
    item->session.len = charger_id.len + 1 + session_id.len;
    item->cdr_id.len = cdr_id.len;

    memcpy(item->period, period, 8);
    item->end = end;
    memcpy(item->currency, res->currency, 4);
    item->currency[3] = '\0';
    item->exponent = res->exponent;

    for (i = 0; i < d->nlines; i++) {
        l = &item->lines[i];
        evb_invoice_line_from_bill(&d->lines[i], l);
        l->session = item->session;
    }

    item->nlines = d->nlines;

    for (i = 0; i < d->nvat; i++) {
        v = &item->vat[i];
        memset(v, 0, sizeof(evb_doc_vat_t));
        v->vat_category = evb_vat_category(d->vat[i].has_vat,
                                                 d->vat[i].vat);
        v->vat = d->vat[i].has_vat ? d->vat[i].vat : 0;
        v->allowance = d->vat[i].adjustment < 0 ? -d->vat[i].adjustment : 0;
        v->charge = d->vat[i].adjustment > 0 ? d->vat[i].adjustment : 0;
    }

    item->nvat = d->nvat;

    return 0;
}


/* the records */

void
evb_month_item_encode(evb_buf_t *b, const evb_month_item_t *item)
{
    size_t                 i;
    unsigned char          c;
    const evb_doc_line_t  *l;
    const evb_doc_vat_t   *v;

    c = EVB_MONTH_ITEM_V1;
    evb_buf_append(b, &c, 1);
    evb_be_put_str(b, item->session);
    evb_be_put_str(b, item->cdr_id);
    evb_buf_append(b, item->period, 7);
    evb_be_put_i64(b, item->end);
    evb_buf_append(b, item->currency, 3);
    evb_be_put_u32(b, (uint32_t) item->exponent);

    evb_be_put_u32(b, (uint32_t) item->nlines);

    for (i = 0; i < item->nlines; i++) {
        l = &item->lines[i];
        evb_be_put_u32(b, (uint32_t) l->dim | (l->reservation ? 0x100 : 0));
        evb_buf_append(b, &l->vat_category, 1);
        evb_be_put_i64(b, l->vat);
        evb_be_put_i64(b, l->quantity);
        evb_be_put_i64(b, l->price);
        evb_be_put_i64(b, l->amount);
    }

    evb_be_put_u32(b, (uint32_t) item->nvat);

    for (i = 0; i < item->nvat; i++) {
        v = &item->vat[i];
        evb_buf_append(b, &v->vat_category, 1);
        evb_be_put_i64(b, v->vat);
        evb_be_put_i64(b, v->allowance);
        evb_be_put_i64(b, v->charge);
    }
}


int
evb_month_item_decode(evb_arena_t *a, const char *data, size_t len,
    evb_month_item_t *item)
{
    size_t                i;
    uint32_t              x;
    evb_be_reader_t            d;
    evb_doc_line_t       *l;
    evb_doc_vat_t        *v;
    const unsigned char  *p;

    memset(item, 0, sizeof(evb_month_item_t));

    evb_be_reader_init(&d, a, data, len);

    p = evb_be_take(&d, 1);
    if (p == NULL || p[0] != EVB_MONTH_ITEM_V1) {
        return -1;
    }

    item->session = evb_be_str(&d);
    item->cdr_id = evb_be_str(&d);

    p = evb_be_take(&d, 7);
    if (p == NULL) {
        return -1;
    }

    memcpy(item->period, p, 7);
    item->period[7] = '\0';
    item->end = evb_be_i64(&d);

    p = evb_be_take(&d, 3);
    if (p == NULL) {
        return -1;
    }

    memcpy(item->currency, p, 3);
    item->currency[3] = '\0';
    item->exponent = (int) evb_be_u32(&d);

    x = evb_be_u32(&d);

    /* each line takes 37 bytes: a bound before allocating */
    if (d.bad || x > d.left / 37 || item->exponent < 0
        || item->exponent > 2)
    {
        return -1;
    }

    item->nlines = x;
    item->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t) * (x ? x : 1));
    if (item->lines == NULL) {
        return -1;
    }

    for (i = 0; i < item->nlines; i++) {
        l = &item->lines[i];
        memset(l, 0, sizeof(evb_doc_line_t));
        x = evb_be_u32(&d);
        l->dim = (evb_dim_e) (x & 0xff);
        l->reservation = (x & 0x100) ? 1 : 0;
        p = evb_be_take(&d, 1);
        l->vat_category = p ? (char) p[0] : 'S';
        l->vat = evb_be_i64(&d);
        l->quantity = evb_be_i64(&d);
        l->price = evb_be_i64(&d);
        l->amount = evb_be_i64(&d);
        l->session = item->session;

        if ((x & 0xff) >= EVB_DIM_COUNT || (x & ~0x1ffU) != 0
            || !evb_vat_category_ok(l->vat_category))
        {
            return -1;
        }
    }

    x = evb_be_u32(&d);

    if (d.bad || x > d.left / 25) {
        return -1;
    }

    item->nvat = x;
    item->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t) * (x ? x : 1));
    if (item->vat == NULL) {
        return -1;
    }

    for (i = 0; i < item->nvat; i++) {
        v = &item->vat[i];
        memset(v, 0, sizeof(evb_doc_vat_t));
        p = evb_be_take(&d, 1);
        v->vat_category = p ? (char) p[0] : 'S';
        v->vat = evb_be_i64(&d);
        v->allowance = evb_be_i64(&d);
        v->charge = evb_be_i64(&d);

        if (!evb_vat_category_ok(v->vat_category)) {
            return -1;
        }
    }

    return (d.bad || d.left != 0) ? -1 : 0;
}


/* the group of (category, rate) in inv->vat, added if absent */
static evb_doc_vat_t *
evb_month_group(evb_invoice_t *inv, char category, int64_t vat)
{
    size_t          k;
    evb_doc_vat_t  *v;

    for (k = 0; k < inv->nvat; k++) {
        if (inv->vat[k].vat_category == category && inv->vat[k].vat == vat) {
            return &inv->vat[k];
        }
    }

    v = &inv->vat[inv->nvat++];
    memset(v, 0, sizeof(evb_doc_vat_t));
    v->vat_category = category;
    v->vat = vat;

    return v;
}


/* rates highest first, Z after them, E last (the per-session order) */
static int
evb_month_vat_cmp(const void *x, const void *y)
{
    const evb_doc_vat_t  *a = x, *b = y;
    int64_t               ka, kb;

    ka = a->vat_category == 'E' ? -1 : a->vat;
    kb = b->vat_category == 'E' ? -1 : b->vat;

    return ka < kb ? 1 : ka > kb ? -1 : 0;
}


#define EVB_ADD(x, y)  __builtin_add_overflow((x), (y), &(x))

int
evb_month_build(evb_arena_t *a, const evb_invoice_conf_t *conf,
    const evb_invoice_buyer_t *buyer, evb_str_t number, evb_msec_t issued_at,
    evb_rounding_e mode, const evb_month_item_t *items,
    const unsigned char *late, size_t n, evb_invoice_t *inv, char *err,
    size_t errlen)
{
    int              k, year;
    size_t           i, j, nl, nv;
    int64_t          f, minor, vat;
    evb_doc_vat_t   *v;
    evb_doc_line_t  *l;
    char             date[11];

    memset(inv, 0, sizeof(evb_invoice_t));

    if (n == 0 || items[0].exponent < 0 || items[0].exponent > 2) {
        snprintf(err, errlen, "nothing to invoice");
        return -1;
    }

    nl = 0;
    nv = 0;

    for (i = 0; i < n; i++) {
        if (memcmp(items[i].currency, items[0].currency, 3) != 0
            || items[i].exponent != items[0].exponent)
        {
            snprintf(err, errlen, "sessions in several currencies");
            return -1;
        }

        nl += items[i].nlines;
        nv += items[i].nvat + items[i].nlines;
    }

    inv->kind = EVB_DOC_INVOICE;
    inv->number.data = evb_arena_strdup(a, number.data, number.len);
    inv->number.len = number.len;
    inv->issued_at = issued_at;

    evb_invoice_date(conf->tz, issued_at, 0, date, &year);
    inv->issue_date.data = evb_arena_strdup(a, date, 10);
    inv->issue_date.len = 10;
    evb_invoice_date(conf->tz, issued_at, (int) buyer->payment_terms_days,
                     date, NULL);
    inv->due_date.data = evb_arena_strdup(a, date, 10);
    inv->due_date.len = 10;
    inv->payment_terms_days = buyer->payment_terms_days;

    inv->language = buyer->language;
    memcpy(inv->currency, items[0].currency, 4);
    inv->currency[3] = '\0';
    inv->exponent = items[0].exponent;

    inv->seller = conf->seller;
    inv->buyer = buyer->party;
    inv->buyer_ad_hoc = buyer->ad_hoc;
    inv->customer_id = buyer->customer_id;

    inv->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t) * (nl ? nl : 1));
    inv->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t) * (nv ? nv : 1));

    if (inv->number.data == NULL || inv->issue_date.data == NULL
        || inv->due_date.data == NULL || inv->lines == NULL
        || inv->vat == NULL)
    {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    f = 1;

    for (k = inv->exponent; k < 6; k++) {
        f *= 10;
    }

    /* the sessions' lines as they are, numbered in order */
    for (i = 0; i < n; i++) {
        for (j = 0; j < items[i].nlines; j++) {
            l = &inv->lines[inv->nlines];
            *l = items[i].lines[j];
            l->id = (uint32_t) (inv->nlines + 1);
            l->late = (late && late[i]) ? 1 : 0;
            inv->nlines++;

            v = evb_month_group(inv, l->vat_category, l->vat);

            if (EVB_ADD(v->lines, l->amount)
                || EVB_ADD(inv->line_total, l->amount))
            {
                goto overflow;
            }
        }

        /* each session's min/max, per rate */
        for (j = 0; j < items[i].nvat; j++) {
            if (items[i].vat[j].allowance == 0
                && items[i].vat[j].charge == 0)
            {
                continue;
            }

            v = evb_month_group(inv, items[i].vat[j].vat_category,
                                items[i].vat[j].vat);

            if (EVB_ADD(v->allowance, items[i].vat[j].allowance)
                || EVB_ADD(v->charge, items[i].vat[j].charge))
            {
                goto overflow;
            }
        }
    }

    qsort(inv->vat, inv->nvat, sizeof(evb_doc_vat_t), evb_month_vat_cmp);

    /* VAT once per rate, on the rate's taxable sum in minor units */
    for (i = 0; i < inv->nvat; i++) {
        v = &inv->vat[i];
        v->amount = 0;

        if (__builtin_sub_overflow(v->lines, v->allowance, &v->taxable)
            || EVB_ADD(v->taxable, v->charge))
        {
            goto overflow;
        }

        if (v->vat_category == 'S') {
            minor = v->taxable / f;

            if (evb_div_round((evb_i128_t) minor * v->vat, 100000000, mode,
                              &vat)
                != 0
                || __builtin_mul_overflow(vat, f, &v->amount))
            {
                goto overflow;
            }
        }

        if (EVB_ADD(inv->allowance_total, v->allowance)
            || EVB_ADD(inv->charge_total, v->charge)
            || EVB_ADD(inv->tax_total, v->amount))
        {
            goto overflow;
        }
    }

    if (__builtin_sub_overflow(inv->line_total, inv->allowance_total,
                               &inv->tax_exclusive)
        || EVB_ADD(inv->tax_exclusive, inv->charge_total)
        || __builtin_add_overflow(inv->tax_exclusive, inv->tax_total,
                                  &inv->tax_inclusive))
    {
        goto overflow;
    }

    inv->prepaid = 0;
    inv->payable = inv->tax_inclusive;

    if (inv->payable <= 0) {
        snprintf(err, errlen, "the sessions' total is zero: no invoice");
        return -1;
    }

    (void) year;

    return 0;

overflow:

    snprintf(err, errlen, "the month's amounts overflow");
    return -1;
}

#undef EVB_ADD


/* a run's record */

void
evb_month_run_encode(evb_buf_t *b, const evb_month_run_t *run)
{
    unsigned char  c;

    c = EVB_MONTH_RUN_V1;
    evb_buf_append(b, &c, 1);
    c = run->done ? 1 : 0;
    evb_buf_append(b, &c, 1);
    evb_be_put_str(b, run->cursor);
    evb_be_put_i64(b, run->started);
    evb_be_put_i64(b, run->updated);
    evb_be_put_u32(b, (uint32_t) run->n);
}


int
evb_month_run_decode(evb_arena_t *a, const char *data, size_t len,
    evb_month_run_t *run)
{
    evb_be_reader_t            d;
    const unsigned char  *p;

    memset(run, 0, sizeof(evb_month_run_t));

    evb_be_reader_init(&d, a, data, len);

    p = evb_be_take(&d, 2);
    if (p == NULL || p[0] != EVB_MONTH_RUN_V1 || p[1] > 1) {
        return -1;
    }

    run->done = p[1];
    run->cursor = evb_be_str(&d);
    run->started = evb_be_i64(&d);
    run->updated = evb_be_i64(&d);
    run->n = evb_be_u32(&d);

    return (d.bad || d.left != 0) ? -1 : 0;
}


evb_problem_e
evb_month_run_parse(evb_arena_t *a, const char *json, size_t len,
    evb_str_t *period, size_t *limit, char *detail, size_t dlen)
{
    size_t        i;
    int64_t       n;
    evb_json_t   *root, *v;
    const char   *name;

    *limit = EVB_RUN_LIMIT_DEFAULT;

    if (evb_json_parse(a, json, len, 8, &root, detail, dlen) != EVB_JSON_OK) {
        return EVB_P_MALFORMED_JSON;
    }

    if (root->type != EVB_JSON_OBJECT) {
        snprintf(detail, dlen, "the body must be a JSON object");
        return EVB_P_INVALID_TYPE;
    }

    for (i = 0; i < root->u.obj.n; i++) {
        name = root->u.obj.members[i].key.data;

        if (strcmp(name, "period") != 0 && strcmp(name, "limit") != 0) {
            snprintf(detail, dlen, "unknown field \"%.64s\": a billing run "
                     "takes \"period\" and \"limit\"", name);
            return EVB_P_INVALID_VALUE;
        }
    }

    v = evb_json_get(root, "period");

    if (v == NULL) {
        snprintf(detail, dlen, "\"period\" is missing");
        return EVB_P_MISSING_FIELD;
    }

    if (v->type != EVB_JSON_STRING) {
        snprintf(detail, dlen, "\"period\" must be a string \"YYYY-MM\"");
        return EVB_P_INVALID_TYPE;
    }

    if (!evb_month_period_ok(v->u.str)) {
        snprintf(detail, dlen, "\"period\" must be a month \"YYYY-MM\"");
        return EVB_P_INVALID_VALUE;
    }

    *period = v->u.str;

    v = evb_json_get(root, "limit");

    if (v == NULL) {
        return EVB_OK;
    }

    if (v->type != EVB_JSON_NUMBER) {
        snprintf(detail, dlen, "\"limit\" must be an integer");
        return EVB_P_INVALID_TYPE;
    }

    if (evb_json_int64(v, &n) != EVB_NUM_OK) {
        snprintf(detail, dlen, "\"limit\" must be an integer");
        return EVB_P_NOT_AN_INTEGER;
    }

    if (n < 1 || n > EVB_RUN_LIMIT_MAX) {
        snprintf(detail, dlen, "\"limit\" must be 1 to %d customers",
                 EVB_RUN_LIMIT_MAX);
        return EVB_P_OUT_OF_RANGE;
    }

    *limit = (size_t) n;

    return EVB_OK;
}


void
evb_month_run_render(evb_buf_t *b, evb_str_t period,
    const evb_month_run_t *run, long made)
{
    size_t  i;

    evb_buf_appends(b, "{\"period\":");
    evb_buf_append_json_str(b, period.data, period.len);
    evb_buf_appends(b, ",\"invoices\":[");

    for (i = 0; i < run->n; i++) {
        if (i) {
            evb_buf_appends(b, ",");
        }

        evb_buf_append_json_str(b, run->numbers[i].data, run->numbers[i].len);
    }

    evb_buf_appends(b, run->done ? "],\"done\":true" : "],\"done\":false");

    if (made >= 0) {
        evb_buf_appends(b, ",\"made\":");
        evb_buf_append_u64(b, (uint64_t) made);
    }

    evb_buf_appends(b, ",\"started\":");
    evb_buf_append_json_time(b, run->started);
    evb_buf_appends(b, ",\"updated\":");
    evb_buf_append_json_time(b, run->updated);
    evb_buf_appends(b, "}");
}
