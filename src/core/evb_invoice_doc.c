/*
 * The invoice of a stopped session, built from the billing rule's
 * rounded bill (evb_rate_round.c), who is invoiced, and the record
 * encoding of the immutable document (see evb_invoice_make.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_json.h"
#include "evb_money.h"
#include "evb_invoice_make.h"
#include "evb_bytes.h"


static int
evb_str_eq(evb_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}


static evb_str_t
evb_dup(evb_arena_t *a, const char *s, size_t len, int *oom)
{
    evb_str_t  r;

    r.len = len;
    r.data = evb_arena_strdup(a, s, len);

    if (r.data == NULL) {
        r.data = "";
        r.len = 0;
        *oom = 1;
    }

    return r;
}


evb_str_t
evb_invoice_ad_hoc_name(evb_str_t language)
{
    evb_str_t  de = evb_str_lit("Ad-hoc-Kunde");
    evb_str_t  en = evb_str_lit("Ad hoc customer");

    return evb_str_eq(language, "de") ? de : en;
}


int
evb_invoice_buyer(const evb_invoice_conf_t *conf, const evb_session_t *s,
    const evb_invoice_customer_t *customer, evb_str_t location_country,
    evb_invoice_buyer_t *buyer, const char **why)
{
    evb_str_t  en = evb_str_lit("en");

    memset(buyer, 0, sizeof(evb_invoice_buyer_t));

    if (customer != NULL) {
        if (!customer->per_session) {
            *why = "the customer is invoiced monthly";
            return 0;
        }

        buyer->party = customer->party;
        buyer->customer_id = customer->customer_id;
        buyer->language = customer->language.len ? customer->language : en;
        buyer->payment_terms_days = customer->has_terms
                                    ? customer->payment_terms_days
                                    : conf->payment_terms_days;
        return 1;
    }

    if (s->token_type != EVB_TOKEN_AD_HOC_USER) {
        *why = "the token is not one of the operator's customers: the "
               "issuing eMSP bills its driver";
        return 0;
    }

    if (location_country.len != 2) {
        *why = "the location's country has no ISO 3166-1 alpha-2 code";
        return 0;
    }

    buyer->ad_hoc = 1;
    buyer->language = en;
    buyer->party.name = evb_invoice_ad_hoc_name(en);
    buyer->party.address.country = location_country;
    buyer->payment_terms_days = conf->payment_terms_days;

    return 1;
}


void
evb_invoice_date(const evb_tz_t *tz, evb_msec_t t, int days, char out[11],
    int *year)
{
    int        y, m, d;
    evb_tm_t   tm;

    evb_tz_local(tz, t / 1000 - (t % 1000 < 0), &tm);
    evb_civil_from_days(tm.days + days, &y, &m, &d);

    /* years 0..9999: EN 16931 dates have four digits */
    y = y < 0 ? 0 : y % 10000;
    out[0] = (char) ('0' + y / 1000);
    out[1] = (char) ('0' + y / 100 % 10);
    out[2] = (char) ('0' + y / 10 % 10);
    out[3] = (char) ('0' + y % 10);
    out[4] = '-';
    out[5] = (char) ('0' + m / 10);
    out[6] = (char) ('0' + m % 10);
    out[7] = '-';
    out[8] = (char) ('0' + d / 10);
    out[9] = (char) ('0' + d % 10);
    out[10] = '\0';

    if (year) {
        *year = tm.year;
    }
}


const char *
evb_invoice_refusal(const evb_rate_result_t *res)
{
    int64_t  total;

    if (res->exponent > 2 || res->exponent < 0) {
        return "the currency has more than 2 decimals, which EN 16931 "
               "cannot invoice: CDR only";
    }

    total = res->rounded_cost.has_incl ? res->rounded_cost.incl
                                       : res->rounded_cost.excl;

    if (total <= 0) {
        return "the session's total is zero: no invoice";
    }

    return NULL;
}


void
evb_invoice_line_from_bill(const evb_bill_line_t *bl, evb_doc_line_t *l)
{
    int64_t  net;

    memset(l, 0, sizeof(evb_doc_line_t));

    l->dim = bl->dim;
    l->reservation = bl->reservation;
    l->vat_category = evb_vat_category(bl->has_vat, bl->vat);
    l->vat = bl->has_vat ? bl->vat : 0;
    l->quantity = bl->quantity;
    l->amount = bl->amount;

    /* EN 16931 prices are net: a gross price loses its VAT here, exact to
     * 10^-6 (the amount is the billing rule's) */
    net = bl->price;
    if (bl->tax_included && bl->has_vat && bl->vat > 0) {
        if (evb_div_round((evb_i128_t) bl->price * 100000000,
                          100000000 + (evb_i128_t) bl->vat,
                          EVB_ROUND_HALF_UP, &net)
            != 0)
        {
            net = bl->price;
        }
    }

    l->price = net;
}


/* a string member of a charger doc object, copied; "" when absent */
static evb_str_t
evb_doc_member(evb_arena_t *a, const evb_json_t *obj, const char *name,
    int *oom)
{
    evb_str_t    r = evb_str_lit("");
    evb_json_t  *v;

    v = (obj && obj->type == EVB_JSON_OBJECT) ? evb_json_get(obj, name)
                                              : NULL;

    if (v && v->type == EVB_JSON_STRING) {
        r = evb_dup(a, v->u.str.data, v->u.str.len, oom);
    }

    return r;
}


int
evb_invoice_build(evb_arena_t *a, const evb_invoice_src_t *src,
    evb_invoice_t *inv, char *err, size_t errlen)
{
    int                       oom, year;
    size_t                    i;
    evb_str_t                 alpha3;
    evb_json_t               *doc, *loc;
    evb_doc_line_t           *l;
    evb_doc_vat_t            *v;
    const evb_bill_vat_t     *bv;
    const evb_invoice_conf_t *conf = src->conf;
    const evb_bill_detail_t  *d = src->detail;
    char                      date[11], num[16];
    const char               *cc;

    memset(inv, 0, sizeof(evb_invoice_t));
    oom = 0;

    inv->kind = EVB_DOC_INVOICE;
    inv->number = evb_dup(a, src->number.data, src->number.len, &oom);
    inv->issued_at = src->issued_at;

    evb_invoice_date(conf->tz, src->issued_at, 0, date, &year);
    inv->issue_date = evb_dup(a, date, 10, &oom);
    evb_invoice_date(conf->tz, src->issued_at,
                     (int) src->buyer->payment_terms_days, date, NULL);
    inv->due_date = evb_dup(a, date, 10, &oom);
    inv->payment_terms_days = src->buyer->payment_terms_days;

    inv->language = src->buyer->language;
    memcpy(inv->currency, src->result->currency, 4);
    inv->exponent = src->result->exponent;

    inv->seller = conf->seller;
    inv->buyer = src->buyer->party;
    inv->buyer_ad_hoc = src->buyer->ad_hoc;
    inv->customer_id = src->buyer->customer_id;

    /* the session, with its location as the charger doc has it */
    inv->session.charger_id = src->session->charger_id;
    inv->session.session_id = src->session->session_id;
    inv->session.cdr_id = src->cdr_id;
    inv->session.time_zone = src->time_zone;
    inv->session.start = src->session->started_at;
    inv->session.end = src->session->stopped_at;
    inv->session.energy = src->result->total_energy;

    if (evb_json_parse(a, src->charger_doc.data, src->charger_doc.len, 8,
                       &doc, NULL, 0)
        != EVB_JSON_OK)
    {
        snprintf(err, errlen, "the charger record could not be read");
        return -1;
    }

    loc = evb_json_get(doc, "location");
    inv->session.location_name = evb_doc_member(a, loc, "name", &oom);
    inv->session.location_address.street = evb_doc_member(a, loc, "address",
                                                          &oom);
    inv->session.location_address.city = evb_doc_member(a, loc, "city",
                                                        &oom);
    inv->session.location_address.postal_code =
                                 evb_doc_member(a, loc, "postal_code", &oom);
    alpha3 = evb_doc_member(a, loc, "country", &oom);

    cc = evb_country_alpha2(alpha3);

    if (cc != NULL) {
        inv->session.location_address.country = evb_dup(a, cc, 2, &oom);
    }

    inv->session.evse_uid = evb_doc_member(a, doc, "evse_uid", &oom);

    /* a document is XML too: text that XML 1.0 forbids makes none (the
     * charger API refuses it; records of older builds may hold it) */
    if (!evb_xml_text_ok(inv->session.location_name.data,
                         inv->session.location_name.len)
        || !evb_xml_text_ok(inv->session.location_address.street.data,
                            inv->session.location_address.street.len)
        || !evb_xml_text_ok(inv->session.location_address.city.data,
                            inv->session.location_address.city.len)
        || !evb_xml_text_ok(inv->session.location_address.postal_code.data,
                            inv->session.location_address.postal_code.len)
        || !evb_xml_text_ok(inv->session.evse_uid.data,
                            inv->session.evse_uid.len)
        || !evb_xml_text_ok(src->session->session_id.data,
                            src->session->session_id.len))
    {
        snprintf(err, errlen, "the session's location holds characters "
                 "that XML 1.0 forbids: no invoice");
        return -1;
    }
    snprintf(num, sizeof(num), "%u", (unsigned) src->session->connector_id);
    inv->session.connector = evb_dup(a, num, strlen(num), &oom);

    /* one line per billed dimension and price, as the billing rule
     * rounded it */
    inv->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t)
                                    * (d->nlines ? d->nlines : 1));
    inv->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t)
                                  * (d->nvat ? d->nvat : 1));
    if (inv->lines == NULL || inv->vat == NULL || oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }

    for (i = 0; i < d->nlines; i++) {
        l = &inv->lines[inv->nlines];
        evb_invoice_line_from_bill(&d->lines[i], l);
        l->id = (uint32_t) (inv->nlines + 1);
        inv->line_total += l->amount;
        inv->nlines++;
    }

    for (i = 0; i < d->nvat; i++) {
        bv = &d->vat[i];
        v = &inv->vat[inv->nvat];
        memset(v, 0, sizeof(evb_doc_vat_t));

        v->vat_category = evb_vat_category(bv->has_vat, bv->vat);
        v->vat = bv->has_vat ? bv->vat : 0;
        v->lines = bv->lines;
        v->allowance = bv->adjustment < 0 ? -bv->adjustment : 0;
        v->charge = bv->adjustment > 0 ? bv->adjustment : 0;
        v->taxable = bv->taxable;
        v->amount = bv->amount;

        inv->allowance_total += v->allowance;
        inv->charge_total += v->charge;
        inv->tax_total += v->amount;
        inv->nvat++;
    }

    inv->tax_exclusive = inv->line_total - inv->allowance_total
                         + inv->charge_total;
    inv->tax_inclusive = inv->tax_exclusive + inv->tax_total;
    inv->prepaid = 0;
    inv->payable = inv->tax_inclusive;

    (void) year;

    return 0;
}


/* the record */

static void
evb_enc_party(evb_buf_t *b, const evb_party_t *p)
{
    evb_be_put_str(b, p->name);
    evb_be_put_str(b, p->address.street);
    evb_be_put_str(b, p->address.city);
    evb_be_put_str(b, p->address.postal_code);
    evb_be_put_str(b, p->address.country);
    evb_be_put_str(b, p->vat_id);
    evb_be_put_str(b, p->registration);
    evb_be_put_str(b, p->iban);
    evb_be_put_str(b, p->bic);
    evb_be_put_str(b, p->email);
    evb_be_put_str(b, p->phone);
    evb_be_put_str(b, p->vat_exemption_reason);
}


void
evb_invoice_encode(evb_buf_t *b, const evb_invoice_t *inv)
{
    size_t                 i;
    unsigned char          c;
    const evb_doc_line_t  *l;
    const evb_doc_vat_t   *v;

    c = EVB_INVOICE_RECORD_V1;
    evb_buf_append(b, &c, 1);
    c = (unsigned char) inv->kind;
    evb_buf_append(b, &c, 1);

    evb_be_put_str(b, inv->number);
    evb_be_put_str(b, inv->issue_date);
    evb_be_put_str(b, inv->due_date);
    evb_be_put_i64(b, inv->issued_at);
    evb_be_put_str(b, inv->language);
    evb_buf_append(b, inv->currency, 3);
    evb_be_put_u32(b, (uint32_t) inv->exponent);

    evb_enc_party(b, &inv->seller);
    evb_enc_party(b, &inv->buyer);
    evb_be_put_u32(b, inv->buyer_ad_hoc);
    evb_be_put_str(b, inv->customer_id);
    evb_be_put_u32(b, inv->payment_terms_days);

    evb_be_put_str(b, inv->session.charger_id);
    evb_be_put_str(b, inv->session.session_id);
    evb_be_put_str(b, inv->session.cdr_id);
    evb_be_put_str(b, inv->session.location_name);
    evb_be_put_str(b, inv->session.location_address.street);
    evb_be_put_str(b, inv->session.location_address.city);
    evb_be_put_str(b, inv->session.location_address.postal_code);
    evb_be_put_str(b, inv->session.location_address.country);
    evb_be_put_str(b, inv->session.evse_uid);
    evb_be_put_str(b, inv->session.connector);
    evb_be_put_str(b, inv->session.time_zone);
    evb_be_put_i64(b, inv->session.start);
    evb_be_put_i64(b, inv->session.end);
    evb_be_put_i64(b, inv->session.energy);

    evb_be_put_u32(b, (uint32_t) inv->nlines);

    for (i = 0; i < inv->nlines; i++) {
        l = &inv->lines[i];
        evb_be_put_u32(b, l->id);
        evb_be_put_u32(b, (uint32_t) l->dim | (l->reservation ? 0x100 : 0)
                       | (l->late ? 0x200 : 0));
        evb_buf_append(b, &l->vat_category, 1);
        evb_be_put_i64(b, l->vat);
        evb_be_put_i64(b, l->quantity);
        evb_be_put_i64(b, l->price);
        evb_be_put_i64(b, l->amount);
        evb_be_put_str(b, l->session);
    }

    evb_be_put_u32(b, (uint32_t) inv->nvat);

    for (i = 0; i < inv->nvat; i++) {
        v = &inv->vat[i];
        evb_buf_append(b, &v->vat_category, 1);
        evb_be_put_i64(b, v->vat);
        evb_be_put_i64(b, v->lines);
        evb_be_put_i64(b, v->allowance);
        evb_be_put_i64(b, v->charge);
        evb_be_put_i64(b, v->taxable);
        evb_be_put_i64(b, v->amount);
    }

    evb_be_put_i64(b, inv->line_total);
    evb_be_put_i64(b, inv->allowance_total);
    evb_be_put_i64(b, inv->charge_total);
    evb_be_put_i64(b, inv->tax_exclusive);
    evb_be_put_i64(b, inv->tax_total);
    evb_be_put_i64(b, inv->tax_inclusive);
    evb_be_put_i64(b, inv->prepaid);
    evb_be_put_i64(b, inv->payable);

    evb_be_put_str(b, inv->invoice_number);
    evb_be_put_str(b, inv->invoice_issue_date);
    evb_be_put_str(b, inv->reason);
}


static void
evb_dec_party(evb_be_reader_t *d, evb_party_t *p)
{
    p->name = evb_be_str(d);
    p->address.street = evb_be_str(d);
    p->address.city = evb_be_str(d);
    p->address.postal_code = evb_be_str(d);
    p->address.country = evb_be_str(d);
    p->vat_id = evb_be_str(d);
    p->registration = evb_be_str(d);
    p->iban = evb_be_str(d);
    p->bic = evb_be_str(d);
    p->email = evb_be_str(d);
    p->phone = evb_be_str(d);
    p->vat_exemption_reason = evb_be_str(d);
}


int
evb_invoice_decode(evb_arena_t *a, const char *data, size_t len,
    evb_invoice_t *inv)
{
    size_t                i;
    uint32_t              x;
    evb_be_reader_t             d;
    evb_doc_line_t       *l;
    evb_doc_vat_t        *v;
    const unsigned char  *p;

    memset(inv, 0, sizeof(evb_invoice_t));

    evb_be_reader_init(&d, a, data, len);

    p = evb_be_take(&d, 2);
    if (p == NULL || p[0] != EVB_INVOICE_RECORD_V1 || p[1] > 1) {
        return -1;
    }

    inv->kind = p[1] ? EVB_DOC_CREDIT_NOTE : EVB_DOC_INVOICE;

    inv->number = evb_be_str(&d);
    inv->issue_date = evb_be_str(&d);
    inv->due_date = evb_be_str(&d);
    inv->issued_at = evb_be_i64(&d);
    inv->language = evb_be_str(&d);

    p = evb_be_take(&d, 3);
    if (p == NULL) {
        return -1;
    }

    memcpy(inv->currency, p, 3);
    inv->currency[3] = '\0';
    inv->exponent = (int) evb_be_u32(&d);

    evb_dec_party(&d, &inv->seller);
    evb_dec_party(&d, &inv->buyer);
    x = evb_be_u32(&d);
    if (x > 1) {
        return -1;
    }

    inv->buyer_ad_hoc = x;
    inv->customer_id = evb_be_str(&d);
    inv->payment_terms_days = evb_be_u32(&d);

    inv->session.charger_id = evb_be_str(&d);
    inv->session.session_id = evb_be_str(&d);
    inv->session.cdr_id = evb_be_str(&d);
    inv->session.location_name = evb_be_str(&d);
    inv->session.location_address.street = evb_be_str(&d);
    inv->session.location_address.city = evb_be_str(&d);
    inv->session.location_address.postal_code = evb_be_str(&d);
    inv->session.location_address.country = evb_be_str(&d);
    inv->session.evse_uid = evb_be_str(&d);
    inv->session.connector = evb_be_str(&d);
    inv->session.time_zone = evb_be_str(&d);
    inv->session.start = evb_be_i64(&d);
    inv->session.end = evb_be_i64(&d);
    inv->session.energy = evb_be_i64(&d);

    x = evb_be_u32(&d);

    /* each line takes at least 45 bytes: a bound before allocating */
    if (d.bad || x > d.left / 45) {
        return -1;
    }

    inv->nlines = x;
    inv->lines = evb_arena_alloc(a, sizeof(evb_doc_line_t) * (x ? x : 1));
    if (inv->lines == NULL) {
        return -1;
    }

    for (i = 0; i < inv->nlines; i++) {
        l = &inv->lines[i];
        memset(l, 0, sizeof(evb_doc_line_t));
        l->id = evb_be_u32(&d);
        x = evb_be_u32(&d);
        l->dim = (evb_dim_e) (x & 0xff);
        l->reservation = (x & 0x100) ? 1 : 0;
        l->late = (x & 0x200) ? 1 : 0;
        p = evb_be_take(&d, 1);
        l->vat_category = p ? (char) p[0] : 'S';
        l->vat = evb_be_i64(&d);
        l->quantity = evb_be_i64(&d);
        l->price = evb_be_i64(&d);
        l->amount = evb_be_i64(&d);
        l->session = evb_be_str(&d);

        /* one encoding per document: nothing else is read back */
        if ((x & 0xff) >= EVB_DIM_COUNT || (x & ~0x3ffU) != 0
            || !evb_vat_category_ok(l->vat_category))
        {
            return -1;
        }
    }

    x = evb_be_u32(&d);

    if (d.bad || x > d.left / 49) {
        return -1;
    }

    inv->nvat = x;
    inv->vat = evb_arena_alloc(a, sizeof(evb_doc_vat_t) * (x ? x : 1));
    if (inv->vat == NULL) {
        return -1;
    }

    for (i = 0; i < inv->nvat; i++) {
        v = &inv->vat[i];
        p = evb_be_take(&d, 1);
        v->vat_category = p ? (char) p[0] : 'S';
        v->vat = evb_be_i64(&d);
        v->lines = evb_be_i64(&d);
        v->allowance = evb_be_i64(&d);
        v->charge = evb_be_i64(&d);
        v->taxable = evb_be_i64(&d);
        v->amount = evb_be_i64(&d);

        if (!evb_vat_category_ok(v->vat_category)) {
            return -1;
        }
    }

    inv->line_total = evb_be_i64(&d);
    inv->allowance_total = evb_be_i64(&d);
    inv->charge_total = evb_be_i64(&d);
    inv->tax_exclusive = evb_be_i64(&d);
    inv->tax_total = evb_be_i64(&d);
    inv->tax_inclusive = evb_be_i64(&d);
    inv->prepaid = evb_be_i64(&d);
    inv->payable = evb_be_i64(&d);

    inv->invoice_number = evb_be_str(&d);
    inv->invoice_issue_date = evb_be_str(&d);
    inv->reason = evb_be_str(&d);

    return (d.bad || d.left != 0) ? -1 : 0;
}
