/*
 * An invoice or credit note as a UBL 2.1 Invoice or CreditNote under
 * EN 16931 (CustomizationID urn:cen.eu:en16931:2017), checked by the
 * UBL 2.1 schema and CEN's validation rules (t/160-ubl.t).  Element
 * order is the schema's (a CreditNote has no DueDate, and its lines are
 * CreditNoteLine with CreditedQuantity).  docs/invoicing.md, "EN 16931
 * decisions", says where each part of a charging session goes.
 */

#include <string.h>

#include "evb_invoice_fmt.h"


typedef struct {
    evb_buf_t               *b;
    const evb_invoice_t     *inv;
    int                      cn;         /* a CreditNote */
    int                      de;
} evb_ubl_t;


static void
evb_ubl_el(evb_ubl_t *u, const char *name, evb_str_t s)
{
    if (s.len == 0) {
        return;
    }

    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, name);
    evb_buf_appends(u->b, ">");
    evb_inv_escape_str(u->b, s);
    evb_buf_appends(u->b, "</");
    evb_buf_appends(u->b, name);
    evb_buf_appends(u->b, ">");
}


static void
evb_ubl_els(evb_ubl_t *u, const char *name, const char *s)
{
    evb_str_t  v;

    v.data = s;
    v.len = strlen(s);
    evb_ubl_el(u, name, v);
}


static void
evb_ubl_amount(evb_ubl_t *u, const char *name, int64_t v)
{
    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, name);
    evb_buf_appends(u->b, " currencyID=\"");
    evb_inv_escape(u->b, u->inv->currency, strnlen(u->inv->currency, 3));
    evb_buf_appends(u->b, "\">");
    evb_inv_amount(u->b, u->inv, v, EVB_NUM_XML);
    evb_buf_appends(u->b, "</");
    evb_buf_appends(u->b, name);
    evb_buf_appends(u->b, ">");
}


static void
evb_ubl_date(evb_buf_t *b, const evb_tm_t *tm)
{
    char  s[16];
    int   y;

    y = tm->year < 0 ? 0 : tm->year % 10000;
    s[0] = (char) ('0' + y / 1000);
    s[1] = (char) ('0' + y / 100 % 10);
    s[2] = (char) ('0' + y / 10 % 10);
    s[3] = (char) ('0' + y % 10);
    s[4] = '-';
    s[5] = (char) ('0' + tm->month / 10);
    s[6] = (char) ('0' + tm->month % 10);
    s[7] = '-';
    s[8] = (char) ('0' + tm->day / 10);
    s[9] = (char) ('0' + tm->day % 10);

    evb_buf_append(b, s, 10);
}


static void
evb_ubl_time(evb_buf_t *b, const evb_tm_t *tm)
{
    char  s[8];

    s[0] = (char) ('0' + tm->hour / 10);
    s[1] = (char) ('0' + tm->hour % 10);
    s[2] = ':';
    s[3] = (char) ('0' + tm->minute / 10);
    s[4] = (char) ('0' + tm->minute % 10);

    evb_buf_append(b, s, 5);
}


static int
evb_ubl_has_session(const evb_invoice_t *inv)
{
    return inv->session.session_id.len > 0 && inv->session.start > 0;
}


static void
evb_ubl_tax_scheme(evb_ubl_t *u)
{
    evb_buf_appends(u->b, "<cac:TaxScheme><cbc:ID>VAT</cbc:ID>"
                    "</cac:TaxScheme>");
}


/* ID and Percent of a VAT category (BT-151/152, BT-95/96, BT-118/119),
 * with the exemption reason where the rules want it (BT-120). */
static void
evb_ubl_category(evb_ubl_t *u, const char *el, char cat, int64_t vat,
    int reason)
{
    char  id[2];

    id[0] = cat == 'S' || cat == 'Z' || cat == 'E' ? cat : 'S';
    id[1] = '\0';

    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, "><cbc:ID>");
    evb_buf_appends(u->b, id);
    evb_buf_appends(u->b, "</cbc:ID><cbc:Percent>");
    evb_inv_number(u->b, id[0] == 'S' ? vat : 0, 6, 0, EVB_NUM_XML);
    evb_buf_appends(u->b, "</cbc:Percent>");

    if (reason && id[0] == 'E') {
        evb_ubl_el(u, "cbc:TaxExemptionReason", evb_inv_exemption(u->inv));
    }

    evb_ubl_tax_scheme(u);
    evb_buf_appends(u->b, "</");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, ">");
}


static void
evb_ubl_address(evb_ubl_t *u, const char *el, const evb_address_t *a,
    evb_str_t country)
{
    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, ">");
    evb_ubl_el(u, "cbc:StreetName", a->street);
    evb_ubl_el(u, "cbc:CityName", a->city);
    evb_ubl_el(u, "cbc:PostalZone", a->postal_code);
    evb_buf_appends(u->b, "<cac:Country>");
    evb_ubl_el(u, "cbc:IdentificationCode", country);
    evb_buf_appends(u->b, "</cac:Country></");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, ">");
}


/* BG-4 seller, BG-7 buyer */
static void
evb_ubl_party(evb_ubl_t *u, const char *el, const evb_party_t *p,
    evb_str_t name, evb_str_t country, int buyer)
{
    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, "><cac:Party>");

    /* BT-34/49 electronic address: the e-mail (EAS code EM) */
    if (p->email.len) {
        evb_buf_appends(u->b, "<cbc:EndpointID schemeID=\"EM\">");
        evb_inv_escape_str(u->b, p->email);
        evb_buf_appends(u->b, "</cbc:EndpointID>");
    }

    if (buyer && u->inv->customer_id.len && !u->inv->buyer_ad_hoc) {
        /* BT-46 buyer identifier: the operator's customer id */
        evb_buf_appends(u->b, "<cac:PartyIdentification>");
        evb_ubl_el(u, "cbc:ID", u->inv->customer_id);
        evb_buf_appends(u->b, "</cac:PartyIdentification>");
    }

    evb_buf_appends(u->b, "<cac:PartyName>");
    evb_ubl_el(u, "cbc:Name", name);
    evb_buf_appends(u->b, "</cac:PartyName>");

    evb_ubl_address(u, "cac:PostalAddress", &p->address, country);

    if (p->vat_id.len) {
        evb_buf_appends(u->b, "<cac:PartyTaxScheme>");
        evb_ubl_el(u, "cbc:CompanyID", p->vat_id);
        evb_ubl_tax_scheme(u);
        evb_buf_appends(u->b, "</cac:PartyTaxScheme>");
    }

    evb_buf_appends(u->b, "<cac:PartyLegalEntity>");
    evb_ubl_el(u, "cbc:RegistrationName", name);
    evb_ubl_el(u, "cbc:CompanyID", p->registration);
    evb_buf_appends(u->b, "</cac:PartyLegalEntity>");

    if (p->phone.len || p->email.len) {
        evb_buf_appends(u->b, "<cac:Contact>");
        evb_ubl_el(u, "cbc:Telephone", p->phone);
        evb_ubl_el(u, "cbc:ElectronicMail", p->email);
        evb_buf_appends(u->b, "</cac:Contact>");
    }

    evb_buf_appends(u->b, "</cac:Party></");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, ">\n");
}


/* BT-22: the charging session in words (and a credit note's reason) */
static void
evb_ubl_note(evb_ubl_t *u)
{
    evb_tm_t                  tm;
    const char               *zone;
    const evb_invoice_t      *inv = u->inv;
    const evb_doc_session_t  *s = &inv->session;

    if (!evb_ubl_has_session(inv) && inv->reason.len == 0) {
        return;
    }

    /* one note: the CEN rules allow a second only with a subject code */
    evb_buf_appends(u->b, "<cbc:Note>");

    if (inv->reason.len) {
        evb_inv_escape_str(u->b, inv->reason);

        if (evb_ubl_has_session(inv)) {
            evb_buf_appends(u->b, " \xe2\x80\x94 ");
        }
    }

    if (evb_ubl_has_session(inv)) {
        evb_buf_appends(u->b, u->de ? "Ladevorgang " : "Charging session ");
        evb_inv_escape_str(u->b, s->session_id);
        evb_buf_appends(u->b, u->de ? " an Ladestation " : " at charger ");
        evb_inv_escape_str(u->b, s->charger_id);

        if (s->evse_uid.len) {
            evb_buf_appends(u->b, ", EVSE ");
            evb_inv_escape_str(u->b, s->evse_uid);
        }

        if (s->connector.len) {
            evb_buf_appends(u->b, u->de ? ", Anschluss " : ", connector ");
            evb_inv_escape_str(u->b, s->connector);
        }

        if (s->location_name.len) {
            evb_buf_appends(u->b, ", ");
            evb_inv_escape_str(u->b, s->location_name);
        }

        zone = evb_inv_local(inv, s->start, &tm);
        evb_buf_appends(u->b, ": ");
        evb_ubl_date(u->b, &tm);
        evb_buf_appends(u->b, " ");
        evb_ubl_time(u->b, &tm);

        if (s->end >= s->start) {
            (void) evb_inv_local(inv, s->end, &tm);
            evb_buf_appends(u->b, u->de ? " bis " : " to ");
            evb_ubl_date(u->b, &tm);
            evb_buf_appends(u->b, " ");
            evb_ubl_time(u->b, &tm);
        }

        evb_buf_appends(u->b, " (");
        evb_inv_escape(u->b, zone, strlen(zone));
        evb_buf_appends(u->b, "), ");
        evb_inv_number(u->b, s->energy, 9, 3, EVB_NUM_XML);
        evb_buf_appends(u->b, " kWh");

        if (s->cdr_id.len) {
            evb_buf_appends(u->b, ", CDR ");
            evb_inv_escape_str(u->b, s->cdr_id);
        }
    }

    evb_buf_appends(u->b, "</cbc:Note>\n");
}


/* BG-14 invoicing period: the session's local dates */
static void
evb_ubl_period(evb_ubl_t *u)
{
    evb_tm_t                  tm;
    const evb_doc_session_t  *s = &u->inv->session;

    if (!evb_ubl_has_session(u->inv) || s->end < s->start) {
        return;
    }

    evb_buf_appends(u->b, "<cac:InvoicePeriod><cbc:StartDate>");
    (void) evb_inv_local(u->inv, s->start, &tm);
    evb_ubl_date(u->b, &tm);
    evb_buf_appends(u->b, "</cbc:StartDate><cbc:EndDate>");
    (void) evb_inv_local(u->inv, s->end, &tm);
    evb_ubl_date(u->b, &tm);
    evb_buf_appends(u->b, "</cbc:EndDate></cac:InvoicePeriod>\n");
}


/* BG-3 preceding invoice (a credit note) and BT-122 the CDR */
static void
evb_ubl_references(evb_ubl_t *u)
{
    const evb_invoice_t  *inv = u->inv;

    if (inv->invoice_number.len) {
        evb_buf_appends(u->b, "<cac:BillingReference>"
                        "<cac:InvoiceDocumentReference>");
        evb_ubl_el(u, "cbc:ID", inv->invoice_number);
        evb_ubl_el(u, "cbc:IssueDate", inv->invoice_issue_date);
        evb_buf_appends(u->b, "</cac:InvoiceDocumentReference>"
                        "</cac:BillingReference>\n");
    }

    if (inv->session.cdr_id.len) {
        evb_buf_appends(u->b, "<cac:AdditionalDocumentReference>");
        evb_ubl_el(u, "cbc:ID", inv->session.cdr_id);
        evb_ubl_els(u, "cbc:DocumentDescription",
                    u->de ? "OCPI-Ladedatensatz (CDR)"
                          : "OCPI charge detail record (CDR)");
        evb_buf_appends(u->b, "</cac:AdditionalDocumentReference>\n");
    }
}


/* BG-13 delivery: when and where the energy was delivered (BT-72, the
 * EVSE as BT-71, the location's address as BG-15) */
static void
evb_ubl_delivery(evb_ubl_t *u)
{
    evb_tm_t                  tm;
    const evb_doc_session_t  *s = &u->inv->session;

    if (!evb_ubl_has_session(u->inv)) {
        return;
    }

    evb_buf_appends(u->b, "<cac:Delivery><cbc:ActualDeliveryDate>");
    (void) evb_inv_local(u->inv, s->end >= s->start ? s->end : s->start,
                         &tm);
    evb_ubl_date(u->b, &tm);
    evb_buf_appends(u->b, "</cbc:ActualDeliveryDate>");

    if (s->evse_uid.len || s->location_address.country.len) {
        evb_buf_appends(u->b, "<cac:DeliveryLocation>");
        evb_ubl_el(u, "cbc:ID", s->evse_uid);

        if (s->location_address.country.len) {
            evb_ubl_address(u, "cac:Address", &s->location_address,
                            s->location_address.country);
        }

        evb_buf_appends(u->b, "</cac:DeliveryLocation>");
    }

    if (s->location_name.len) {
        /* BT-70: the location is where the driver took delivery */
        evb_buf_appends(u->b, "<cac:DeliveryParty><cac:PartyName>");
        evb_ubl_el(u, "cbc:Name", s->location_name);
        evb_buf_appends(u->b, "</cac:PartyName></cac:DeliveryParty>");
    }

    evb_buf_appends(u->b, "</cac:Delivery>\n");
}


/* BG-16 payment instructions (an invoice to pay by transfer) and BT-20
 * payment terms */
static void
evb_ubl_payment(evb_ubl_t *u)
{
    const evb_invoice_t  *inv = u->inv;

    if (!u->cn && inv->seller.iban.len && inv->payable > 0) {
        /* 58: SEPA credit transfer, with the number as remittance */
        evb_buf_appends(u->b, "<cac:PaymentMeans>"
                        "<cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>");
        evb_ubl_el(u, "cbc:PaymentID", inv->number);
        evb_buf_appends(u->b, "<cac:PayeeFinancialAccount>");
        evb_ubl_el(u, "cbc:ID", inv->seller.iban);
        evb_ubl_el(u, "cbc:Name", inv->seller.name);

        if (inv->seller.bic.len) {
            evb_buf_appends(u->b, "<cac:FinancialInstitutionBranch>");
            evb_ubl_el(u, "cbc:ID", inv->seller.bic);
            evb_buf_appends(u->b, "</cac:FinancialInstitutionBranch>");
        }

        evb_buf_appends(u->b, "</cac:PayeeFinancialAccount>"
                        "</cac:PaymentMeans>\n");
    }

    if (inv->payable <= 0) {
        return;
    }

    evb_buf_appends(u->b, "<cac:PaymentTerms><cbc:Note>");

    if (u->cn) {
        /* later releases of the CEN rules want terms or a due date for
         * any positive amount due (BR-CO-25), a credit note's too */
        evb_buf_appends(u->b, u->de
                        ? "Der Betrag wird erstattet oder verrechnet."
                        : "The amount is refunded or set off.");
        evb_buf_appends(u->b, "</cbc:Note></cac:PaymentTerms>\n");
        return;
    }

    evb_inv_terms(u->b, inv);

    if (inv->due_date.len) {
        evb_buf_appends(u->b, u->de ? " bis " : ", by ");
        evb_inv_escape_str(u->b, inv->due_date);
    }

    evb_buf_appends(u->b, "</cbc:Note></cac:PaymentTerms>\n");
}


/* BG-20 and BG-21: the min/max price clamps, per VAT rate */
static void
evb_ubl_allowances(evb_ubl_t *u)
{
    size_t                i;
    int                   charge;
    int64_t               v;
    const evb_doc_vat_t  *t;

    for (i = 0; i < u->inv->nvat; i++) {
        t = &u->inv->vat[i];

        for (charge = 0; charge < 2; charge++) {
            v = charge ? t->charge : t->allowance;

            if (v <= 0) {
                continue;
            }

            evb_buf_appends(u->b, "<cac:AllowanceCharge><cbc:ChargeIndicator>");
            evb_buf_appends(u->b, charge ? "true" : "false");
            evb_buf_appends(u->b, "</cbc:ChargeIndicator>");

            if (charge) {
                evb_ubl_els(u, "cbc:AllowanceChargeReason",
                            u->de ? "Mindestpreis des Tarifs"
                                  : "Tariff minimum price");

            } else {
                evb_ubl_els(u, "cbc:AllowanceChargeReason",
                            u->de ? "H\xc3\xb6" "chstpreis des Tarifs"
                                  : "Tariff maximum price");
            }

            evb_ubl_amount(u, "cbc:Amount", v);
            evb_ubl_category(u, "cac:TaxCategory", t->vat_category, t->vat,
                             0);
            evb_buf_appends(u->b, "</cac:AllowanceCharge>\n");
        }
    }
}


/* BG-23 the VAT breakdown, BT-110 */
static void
evb_ubl_tax_total(evb_ubl_t *u)
{
    size_t                i;
    const evb_doc_vat_t  *t;

    evb_buf_appends(u->b, "<cac:TaxTotal>");
    evb_ubl_amount(u, "cbc:TaxAmount", u->inv->tax_total);

    for (i = 0; i < u->inv->nvat; i++) {
        t = &u->inv->vat[i];

        evb_buf_appends(u->b, "<cac:TaxSubtotal>");
        evb_ubl_amount(u, "cbc:TaxableAmount", t->taxable);
        evb_ubl_amount(u, "cbc:TaxAmount", t->amount);
        evb_ubl_category(u, "cac:TaxCategory", t->vat_category, t->vat, 1);
        evb_buf_appends(u->b, "</cac:TaxSubtotal>");
    }

    evb_buf_appends(u->b, "</cac:TaxTotal>\n");
}


/* BG-22 the document totals */
static void
evb_ubl_totals(evb_ubl_t *u)
{
    size_t                i;
    int                   allowances, charges;
    const evb_invoice_t  *inv = u->inv;

    allowances = inv->allowance_total != 0;
    charges = inv->charge_total != 0;

    for (i = 0; i < inv->nvat; i++) {
        allowances |= inv->vat[i].allowance > 0;
        charges |= inv->vat[i].charge > 0;
    }

    evb_buf_appends(u->b, "<cac:LegalMonetaryTotal>");
    evb_ubl_amount(u, "cbc:LineExtensionAmount", inv->line_total);
    evb_ubl_amount(u, "cbc:TaxExclusiveAmount", inv->tax_exclusive);
    evb_ubl_amount(u, "cbc:TaxInclusiveAmount", inv->tax_inclusive);

    if (allowances) {
        evb_ubl_amount(u, "cbc:AllowanceTotalAmount", inv->allowance_total);
    }

    if (charges) {
        evb_ubl_amount(u, "cbc:ChargeTotalAmount", inv->charge_total);
    }

    if (inv->prepaid != 0) {
        evb_ubl_amount(u, "cbc:PrepaidAmount", inv->prepaid);
    }

    evb_ubl_amount(u, "cbc:PayableAmount", inv->payable);
    evb_buf_appends(u->b, "</cac:LegalMonetaryTotal>\n");
}


/* BG-25 one line: quantity in KWH (10^-9 kWh), HUR (from us) or C62 */
static void
evb_ubl_line(evb_ubl_t *u, const evb_doc_line_t *l)
{
    const char  *el, *qel, *unit;
    int64_t      q;
    unsigned     scale;

    el = u->cn ? "cac:CreditNoteLine" : "cac:InvoiceLine";
    qel = u->cn ? "cbc:CreditedQuantity" : "cbc:InvoicedQuantity";

    switch (l->dim) {

    case EVB_DIM_ENERGY:
        unit = "KWH";
        q = l->quantity;
        scale = 9;
        break;

    case EVB_DIM_TIME:
    case EVB_DIM_PARKING_TIME:
        unit = "HUR";
        q = evb_inv_hours(l->quantity);
        scale = 6;
        break;

    default:
        unit = "C62";
        q = l->quantity;
        scale = 0;
        break;
    }

    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, "><cbc:ID>");
    evb_buf_append_u64(u->b, l->id);
    evb_buf_appends(u->b, "</cbc:ID>");

    if (l->session.len) {
        /* BT-127: the session of a line on a multi-session document */
        evb_buf_appends(u->b, "<cbc:Note>");
        evb_buf_appends(u->b, u->de ? "Ladevorgang " : "Charging session ");
        evb_inv_escape_str(u->b, l->session);

        if (l->late) {
            /* BT-127 is one note: the session stopped after its month's
             * billing run */
            evb_buf_appends(u->b, u->de ? " (nachgereicht)" : " (late)");
        }

        evb_buf_appends(u->b, "</cbc:Note>");
    }

    evb_buf_appends(u->b, "<");
    evb_buf_appends(u->b, qel);
    evb_buf_appends(u->b, " unitCode=\"");
    evb_buf_appends(u->b, unit);
    evb_buf_appends(u->b, "\">");
    evb_inv_number(u->b, q, scale, 0, EVB_NUM_XML);
    evb_buf_appends(u->b, "</");
    evb_buf_appends(u->b, qel);
    evb_buf_appends(u->b, ">");

    evb_ubl_amount(u, "cbc:LineExtensionAmount", l->amount);

    evb_buf_appends(u->b, "<cac:Item>");
    evb_ubl_els(u, "cbc:Name", evb_inv_line_name(u->inv, l));
    evb_ubl_category(u, "cac:ClassifiedTaxCategory", l->vat_category, l->vat,
                     0);
    evb_buf_appends(u->b, "</cac:Item><cac:Price>");

    /* BT-146: the net price per unit, exact (more decimals than the
     * currency's are allowed here) */
    evb_buf_appends(u->b, "<cbc:PriceAmount currencyID=\"");
    evb_inv_escape(u->b, u->inv->currency, strnlen(u->inv->currency, 3));
    evb_buf_appends(u->b, "\">");
    evb_inv_number(u->b, l->price, 6, 0, EVB_NUM_XML);
    evb_buf_appends(u->b, "</cbc:PriceAmount></cac:Price></");
    evb_buf_appends(u->b, el);
    evb_buf_appends(u->b, ">\n");
}


void
evb_invoice_render_ubl(evb_buf_t *b, const evb_invoice_t *inv)
{
    size_t       i;
    evb_ubl_t    u;
    evb_str_t    cur;
    evb_party_t  none;

    u.b = b;
    u.inv = inv;
    u.cn = inv->kind == EVB_DOC_CREDIT_NOTE;
    u.de = evb_inv_de(inv);

    cur.data = inv->currency;
    cur.len = strnlen(inv->currency, 3);

    evb_buf_appends(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    evb_buf_appends(b, u.cn
        ? "<CreditNote xmlns=\"urn:oasis:names:specification:ubl:schema:"
          "xsd:CreditNote-2\""
        : "<Invoice xmlns=\"urn:oasis:names:specification:ubl:schema:"
          "xsd:Invoice-2\"");
    evb_buf_appends(b,
        " xmlns:cac=\"urn:oasis:names:specification:ubl:schema:xsd:"
        "CommonAggregateComponents-2\""
        " xmlns:cbc=\"urn:oasis:names:specification:ubl:schema:xsd:"
        "CommonBasicComponents-2\">\n"
        "<cbc:CustomizationID>urn:cen.eu:en16931:2017"
        "</cbc:CustomizationID>\n");

    evb_ubl_el(&u, "cbc:ID", inv->number);
    evb_ubl_el(&u, "cbc:IssueDate", inv->issue_date);

    if (u.cn) {
        evb_buf_appends(b, "<cbc:CreditNoteTypeCode>381"
                        "</cbc:CreditNoteTypeCode>");

    } else {
        evb_ubl_el(&u, "cbc:DueDate", inv->due_date);
        evb_buf_appends(b, "<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>");
    }

    evb_buf_appends(b, "\n");

    evb_ubl_note(&u);
    evb_ubl_el(&u, "cbc:DocumentCurrencyCode", cur);
    evb_buf_appends(b, "\n");

    evb_ubl_period(&u);
    evb_ubl_references(&u);

    evb_ubl_party(&u, "cac:AccountingSupplierParty", &inv->seller,
                  inv->seller.name, inv->seller.address.country, 0);
    /* the ad hoc buyer has a name and a country, nothing else (a
     * record's other buyer fields, if any, are not shown) */
    memset(&none, 0, sizeof(none));
    evb_ubl_party(&u, "cac:AccountingCustomerParty",
                  inv->buyer_ad_hoc ? &none : &inv->buyer,
                  evb_inv_buyer_name(inv), evb_inv_buyer_country(inv), 1);

    evb_ubl_delivery(&u);
    evb_ubl_payment(&u);

    /* AllowanceCharge: after PaymentTerms in both documents (a
     * CreditNote puts the exchange rates first, which a document in
     * one currency does not have) */
    evb_ubl_allowances(&u);
    evb_ubl_tax_total(&u);
    evb_ubl_totals(&u);

    for (i = 0; i < inv->nlines; i++) {
        evb_ubl_line(&u, &inv->lines[i]);
    }

    evb_buf_appends(b, u.cn ? "</CreditNote>\n" : "</Invoice>\n");
}
