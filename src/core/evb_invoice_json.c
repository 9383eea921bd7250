/*
 * The JSON form of an invoice or credit note (docs/invoicing.md): the
 * document as stored, amounts as decimals at the currency's minor unit,
 * and beside it the status view (what changes after issue).
 */

#include <string.h>

#include "evb_money.h"
#include "evb_invoice.h"


static void
evb_ij_key(evb_buf_t *b, const char *name, int first)
{
    if (!first) {
        evb_buf_appends(b, ",");
    }

    evb_buf_appends(b, "\"");
    evb_buf_appends(b, name);
    evb_buf_appends(b, "\":");
}


static void
evb_ij_str(evb_buf_t *b, const char *name, evb_str_t s, int first)
{
    evb_ij_key(b, name, first);
    evb_buf_append_json_str(b, s.data, s.len);
}


/* a text member left out when empty */
static void
evb_ij_opt(evb_buf_t *b, const char *name, evb_str_t s)
{
    if (s.len) {
        evb_ij_str(b, name, s, 0);
    }
}


static void
evb_ij_money(evb_buf_t *b, const char *name, int64_t v, int exponent)
{
    evb_ij_key(b, name, 0);
    evb_buf_append_decimal(b, v, 6, (unsigned) exponent);
}


static void
evb_ij_address(evb_buf_t *b, const char *name, const evb_address_t *a)
{
    /* the ad hoc buyer has a country only */
    evb_ij_key(b, name, 0);
    evb_buf_appends(b, "{");
    evb_ij_str(b, "country", a->country, 1);
    evb_ij_opt(b, "street", a->street);
    evb_ij_opt(b, "city", a->city);
    evb_ij_opt(b, "postal_code", a->postal_code);
    evb_buf_appends(b, "}");
}


static void
evb_ij_party(evb_buf_t *b, const char *name, const evb_party_t *p)
{
    evb_ij_key(b, name, 0);
    evb_buf_appends(b, "{");
    evb_ij_str(b, "name", p->name, 1);
    evb_ij_address(b, "address", &p->address);
    evb_ij_opt(b, "vat_id", p->vat_id);
    evb_ij_opt(b, "registration", p->registration);
    evb_ij_opt(b, "iban", p->iban);
    evb_ij_opt(b, "bic", p->bic);
    evb_ij_opt(b, "email", p->email);
    evb_ij_opt(b, "phone", p->phone);
    evb_ij_opt(b, "vat_exemption_reason", p->vat_exemption_reason);
    evb_buf_appends(b, "}");
}


static const char *
evb_ij_dim(evb_dim_e d)
{
    switch (d) {
    case EVB_DIM_ENERGY:
        return "ENERGY";
    case EVB_DIM_FLAT:
        return "FLAT";
    case EVB_DIM_PARKING_TIME:
        return "PARKING_TIME";
    default:
        return "TIME";
    }
}


/* the billed quantity in its unit: kWh and hours at 9 decimals (hours
 * half up, as the CDR prints them), a count */
static void
evb_ij_quantity(evb_buf_t *b, const evb_doc_line_t *l)
{
    int64_t  v;

    evb_ij_key(b, "quantity", 0);

    switch (l->dim) {

    case EVB_DIM_ENERGY:
        evb_buf_append_decimal(b, l->quantity, 9, 0);
        evb_ij_str(b, "unit", (evb_str_t) evb_str_lit("kWh"), 0);
        break;

    case EVB_DIM_FLAT:
        evb_buf_append_i64(b, l->quantity);
        evb_ij_str(b, "unit", (evb_str_t) evb_str_lit("each"), 0);
        break;

    default:
        if (evb_div_round((evb_i128_t) l->quantity * 10, 36,
                          EVB_ROUND_HALF_UP, &v)
            != 0)
        {
            v = 0;
        }

        evb_buf_append_decimal(b, v, 9, 0);
        evb_ij_str(b, "unit", (evb_str_t) evb_str_lit("h"), 0);
        break;
    }
}


void
evb_invoice_render_json(evb_buf_t *b, const evb_invoice_t *inv,
    const evb_invoice_status_t *status)
{
    size_t                 i;
    char                   cat[2];
    evb_str_t              s;
    const evb_doc_line_t  *l;
    const evb_doc_vat_t   *v;
    int                    e = inv->exponent;

    static const char  *states[] = { "due", "paid", "credited" };

    evb_buf_appends(b, "{");
    evb_ij_str(b, "type", inv->kind == EVB_DOC_INVOICE
                          ? (evb_str_t) evb_str_lit("invoice")
                          : (evb_str_t) evb_str_lit("credit_note"), 1);
    evb_ij_str(b, "number", inv->number, 0);
    evb_ij_str(b, "issue_date", inv->issue_date, 0);

    if (inv->kind == EVB_DOC_INVOICE) {
        evb_ij_str(b, "due_date", inv->due_date, 0);
        evb_ij_key(b, "payment_terms_days", 0);
        evb_buf_append_u64(b, inv->payment_terms_days);

    } else {
        evb_ij_str(b, "invoice_number", inv->invoice_number, 0);
        evb_ij_str(b, "invoice_issue_date", inv->invoice_issue_date, 0);
        evb_ij_str(b, "reason", inv->reason, 0);
    }

    evb_ij_key(b, "issued_at", 0);
    evb_buf_append_json_time(b, inv->issued_at);
    evb_ij_str(b, "language", inv->language, 0);
    s.data = inv->currency;
    s.len = strlen(inv->currency);
    evb_ij_str(b, "currency", s, 0);

    evb_ij_party(b, "seller", &inv->seller);
    evb_ij_party(b, "buyer", &inv->buyer);

    if (inv->buyer_ad_hoc) {
        evb_buf_appends(b, ",\"buyer_ad_hoc\":true");
    }

    evb_ij_opt(b, "customer_id", inv->customer_id);

    if (inv->session.session_id.len) {
        evb_ij_key(b, "session", 0);
        evb_buf_appends(b, "{");
        evb_ij_str(b, "charger_id", inv->session.charger_id, 1);
        evb_ij_str(b, "session_id", inv->session.session_id, 0);
        evb_ij_str(b, "cdr_id", inv->session.cdr_id, 0);
        evb_ij_key(b, "location", 0);
        evb_buf_appends(b, "{");
        evb_ij_str(b, "name", inv->session.location_name, 1);
        evb_ij_str(b, "street", inv->session.location_address.street, 0);
        evb_ij_str(b, "city", inv->session.location_address.city, 0);
        evb_ij_str(b, "postal_code",
                   inv->session.location_address.postal_code, 0);
        evb_ij_str(b, "country", inv->session.location_address.country, 0);
        evb_buf_appends(b, "}");
        evb_ij_str(b, "evse_uid", inv->session.evse_uid, 0);
        evb_ij_str(b, "connector_id", inv->session.connector, 0);
        evb_ij_str(b, "time_zone", inv->session.time_zone, 0);
        evb_ij_key(b, "start_date_time", 0);
        evb_buf_append_json_time(b, inv->session.start);
        evb_ij_key(b, "end_date_time", 0);
        evb_buf_append_json_time(b, inv->session.end);
        evb_ij_key(b, "energy", 0);
        evb_buf_append_decimal(b, inv->session.energy, 9, 0);
        evb_buf_appends(b, "}");
    }

    cat[1] = '\0';

    evb_ij_key(b, "lines", 0);
    evb_buf_appends(b, "[");

    for (i = 0; i < inv->nlines; i++) {
        l = &inv->lines[i];

        evb_buf_appends(b, i ? ",{" : "{");
        evb_ij_key(b, "id", 1);
        evb_buf_append_u64(b, l->id);
        evb_ij_str(b, "dimension",
                   (evb_str_t) { evb_ij_dim(l->dim),
                                 strlen(evb_ij_dim(l->dim)) }, 0);
        if (l->reservation) {
            evb_buf_appends(b, ",\"reservation\":true");
        }

        evb_ij_quantity(b, l);
        evb_ij_key(b, "unit_price", 0);
        evb_buf_append_decimal(b, l->price, 6, (unsigned) e);
        evb_ij_money(b, "net_amount", l->amount, e);
        cat[0] = l->vat_category;
        evb_ij_str(b, "vat_category", (evb_str_t) { cat, 1 }, 0);
        evb_ij_key(b, "vat_rate", 0);
        evb_buf_append_decimal(b, l->vat, 6, 0);
        evb_ij_opt(b, "session", l->session);

        if (l->late) {
            evb_buf_appends(b, ",\"late\":true");
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]");

    evb_ij_key(b, "vat", 0);
    evb_buf_appends(b, "[");

    for (i = 0; i < inv->nvat; i++) {
        v = &inv->vat[i];

        evb_buf_appends(b, i ? ",{" : "{");
        cat[0] = v->vat_category;
        evb_ij_str(b, "category", (evb_str_t) { cat, 1 }, 1);
        evb_ij_key(b, "rate", 0);
        evb_buf_append_decimal(b, v->vat, 6, 0);
        evb_ij_money(b, "lines", v->lines, e);
        evb_ij_money(b, "allowance", v->allowance, e);
        evb_ij_money(b, "charge", v->charge, e);
        evb_ij_money(b, "taxable", v->taxable, e);
        evb_ij_money(b, "amount", v->amount, e);

        if (v->vat_category == 'E') {
            evb_ij_str(b, "exemption_reason",
                       inv->seller.vat_exemption_reason.len
                       ? inv->seller.vat_exemption_reason
                       : (evb_str_t) evb_str_lit("Exempt from VAT"), 0);
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]");

    evb_ij_key(b, "totals", 0);
    evb_buf_appends(b, "{");
    evb_ij_key(b, "line_total", 1);
    evb_buf_append_decimal(b, inv->line_total, 6, (unsigned) e);
    evb_ij_money(b, "allowance_total", inv->allowance_total, e);
    evb_ij_money(b, "charge_total", inv->charge_total, e);
    evb_ij_money(b, "tax_exclusive", inv->tax_exclusive, e);
    evb_ij_money(b, "tax_total", inv->tax_total, e);
    evb_ij_money(b, "tax_inclusive", inv->tax_inclusive, e);
    evb_ij_money(b, "prepaid", inv->prepaid, e);
    evb_ij_money(b, "payable", inv->payable, e);
    evb_buf_appends(b, "}");

    if (status != NULL) {
        evb_ij_key(b, "status", 0);
        evb_buf_appends(b, "{");
        evb_ij_key(b, "state", 1);
        evb_buf_appends(b, "\"");
        evb_buf_appends(b, states[status->state <= EVB_PAY_CREDITED
                                  ? status->state : 0]);
        evb_buf_appends(b, "\"");
        evb_ij_money(b, "paid", status->paid, e);
        evb_ij_money(b, "credited", status->credited, e);
        evb_ij_key(b, "credit_notes", 0);
        evb_buf_appends(b, "[");

        for (i = 0; i < status->ncredit_notes; i++) {
            if (i) {
                evb_buf_appends(b, ",");
            }

            evb_buf_append_json_str(b, status->credit_notes[i].data,
                                    status->credit_notes[i].len);
        }

        evb_buf_appends(b, "]");

        if (status->paid_at) {
            evb_ij_key(b, "paid_at", 0);
            evb_buf_append_json_time(b, status->paid_at);
        }

        if (status->card_last4.len) {
            evb_ij_str(b, "card_brand", status->card_brand, 0);
            evb_ij_str(b, "card_last4", status->card_last4, 0);
        }

        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "}");
}
