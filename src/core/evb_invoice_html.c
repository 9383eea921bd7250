/*
 * An invoice or credit note as one self-contained HTML5 page: inline
 * CSS, no scripts, no external assets; readable on a phone (viewport,
 * wrapping blocks, a table that scrolls sideways), printing on A4
 * (@page, print rules); labels, dates and numbers in the document's
 * language (English, German).  Every figure comes from the document:
 * nothing is added up here.
 */

#include <string.h>

#include "evb_invoice_fmt.h"


typedef struct {
    evb_buf_t               *b;
    const evb_invoice_t     *inv;
    int                      cn;
    int                      de;
    evb_num_style_e          num;
} evb_html_t;


/* label in English and German */
#define L(h, en_, de_)  ((h)->de ? (de_) : (en_))


static const char  *evb_html_month_en[12] = {
    "January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"
};

static const char  *evb_html_month_de[12] = {
    "Januar", "Februar", "M\xc3\xa4rz", "April", "Mai", "Juni", "Juli",
    "August", "September", "Oktober", "November", "Dezember"
};


static const char  evb_html_css[] =
    "@page{size:A4;margin:16mm 15mm 18mm}"
    "*{box-sizing:border-box}"
    "body{margin:0;padding:16px;color:#1b1b1b;background:#fff;"
    "font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "\"DejaVu Sans\",\"Liberation Sans\",Arial,sans-serif}"
    "main{max-width:820px;margin:0 auto}"
    "header{display:flex;flex-wrap:wrap;justify-content:space-between;"
    "gap:12px 24px;border-bottom:2px solid #1b1b1b;padding-bottom:12px}"
    "h1{font-size:1.7em;margin:0;line-height:1.2}"
    "h2{font-size:.78em;text-transform:uppercase;letter-spacing:.06em;"
    "color:#555;margin:20px 0 6px}"
    ".seller{font-weight:700;font-size:1.15em}"
    ".muted{color:#555}"
    ".doc{text-align:right}"
    ".doc .no{font-size:1.1em;font-weight:700}"
    ".cols{display:flex;flex-wrap:wrap;gap:0 24px}"
    ".cols section{flex:1 1 240px;min-width:0}"
    "address{font-style:normal}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;"
    "margin:0}"
    "dt{color:#555}dd{margin:0;overflow-wrap:anywhere}"
    ".scroll{overflow-x:auto}"
    "table{width:100%;border-collapse:collapse}"
    "th,td{padding:5px 6px;border-bottom:1px solid #d6d6d6;"
    "text-align:left;vertical-align:top}"
    "th{font-size:.8em;color:#555;font-weight:600}"
    ".n{text-align:right;white-space:nowrap}"
    ".sub{display:block;font-size:.85em;color:#555}"
    ".totals{margin:12px 0 0 auto;max-width:380px}"
    ".totals td{border:0;padding:3px 6px}"
    ".totals .sum td{border-top:1px solid #1b1b1b;font-weight:700}"
    ".totals .due td{border-top:2px solid #1b1b1b;font-weight:700;"
    "font-size:1.12em}"
    ".status{margin:18px 0 0;padding:10px 12px;border-radius:6px;"
    "border:1px solid #d6d6d6;background:#f5f5f5}"
    ".status.due{background:#fff5e1;border-color:#e8c27a}"
    ".status.paid{background:#e7f5ea;border-color:#8cc79a}"
    ".status.credited{background:#eef1f8;border-color:#9aa8cc}"
    ".pay{margin:14px 0 0}"
    "footer{margin-top:26px;padding-top:8px;border-top:1px solid #d6d6d6;"
    "font-size:.8em;color:#555}"
    "@media (max-width:600px){body{padding:10px;font-size:14px}"
    ".doc{text-align:left}table{font-size:.86em}th,td{padding:4px 3px}}"
    "@media print{body{padding:0;font-size:9pt;line-height:1.35}"
    "main{max-width:none}h2{margin:12px 0 4px}th,td{padding:3px 6px}"
    ".totals td{padding:2px 6px}footer{margin-top:16px}"
    ".scroll{overflow:visible}"
    ".status{background:none!important}"
    "tr,section,.totals{break-inside:avoid}"
    "thead{display:table-header-group}h2{break-after:avoid}}";


static void
evb_html_s(evb_html_t *h, const char *s)
{
    evb_buf_appends(h->b, s);
}


static void
evb_html_e(evb_html_t *h, evb_str_t s)
{
    evb_inv_escape_str(h->b, s);
}


static void
evb_html_two(evb_html_t *h, int v)
{
    char  s[2];

    s[0] = (char) ('0' + v / 10 % 10);
    s[1] = (char) ('0' + v % 10);
    evb_buf_append(h->b, s, 2);
}


/* "6 December 2026", "6. Dezember 2026" */
static void
evb_html_date(evb_html_t *h, int y, int m, int d)
{
    if (m < 1 || m > 12) {
        return;
    }

    evb_buf_append_i64(h->b, d);
    evb_html_s(h, h->de ? ". " : " ");
    evb_html_s(h, h->de ? evb_html_month_de[m - 1]
                        : evb_html_month_en[m - 1]);
    evb_html_s(h, " ");
    evb_buf_append_i64(h->b, y);
}


static void
evb_html_date_str(evb_html_t *h, evb_str_t s)
{
    int  y, m, d;

    if (evb_inv_parse_date(s, &y, &m, &d) == 0) {
        evb_html_date(h, y, m, d);

    } else {
        evb_html_e(h, s);
    }
}


/* a session time in the session's zone: "6 December 2026, 14:05" */
static void
evb_html_time(evb_html_t *h, evb_msec_t t)
{
    evb_tm_t  tm;

    (void) evb_inv_local(h->inv, t, &tm);
    evb_html_date(h, tm.year, tm.month, tm.day);
    evb_html_s(h, ", ");
    evb_html_two(h, tm.hour);
    evb_html_s(h, ":");
    evb_html_two(h, tm.minute);
    evb_html_s(h, h->de ? " Uhr" : "");
}


static void
evb_html_amount(evb_html_t *h, int64_t v)
{
    evb_inv_amount(h->b, h->inv, v, h->num);
}


/* "12.34 EUR" */
static void
evb_html_money(evb_html_t *h, int64_t v)
{
    evb_html_amount(h, v);
    evb_html_s(h, "\xc2\xa0");
    evb_inv_escape(h->b, h->inv->currency, strnlen(h->inv->currency, 3));
}


static void
evb_html_dd(evb_html_t *h, const char *dt, evb_str_t dd)
{
    if (dd.len == 0) {
        return;
    }

    evb_html_s(h, "<dt>");
    evb_html_s(h, dt);
    evb_html_s(h, "</dt><dd>");
    evb_html_e(h, dd);
    evb_html_s(h, "</dd>");
}


static void
evb_html_address(evb_html_t *h, const evb_address_t *a, evb_str_t country)
{
    if (a->street.len) {
        evb_html_e(h, a->street);
        evb_html_s(h, "<br>");
    }

    if (a->postal_code.len || a->city.len) {
        evb_html_e(h, a->postal_code);

        if (a->postal_code.len && a->city.len) {
            evb_html_s(h, " ");
        }

        evb_html_e(h, a->city);
        evb_html_s(h, "<br>");
    }

    evb_html_e(h, country);
}


/* a VAT rate as the document shows it: "19 %", "0 %", "exempt" */
static void
evb_html_rate(evb_html_t *h, char cat, int64_t vat)
{
    if (cat == 'E') {
        evb_html_s(h, L(h, "exempt", "steuerfrei"));
        return;
    }

    evb_inv_number(h->b, cat == 'Z' ? 0 : vat, 6, 0, h->num);
    evb_html_s(h, "\xc2\xa0%");
}


static void
evb_html_head(evb_html_t *h)
{
    const char  *title;

    title = h->cn ? L(h, "Credit note", "Rechnungskorrektur")
                  : L(h, "Invoice", "Rechnung");

    evb_html_s(h, "<!DOCTYPE html>\n<html lang=\"");
    evb_html_s(h, h->de ? "de" : "en");
    evb_html_s(h, "\">\n<head>\n<meta charset=\"utf-8\">\n"
               "<meta name=\"viewport\" "
               "content=\"width=device-width, initial-scale=1\">\n"
               "<title>");
    evb_html_s(h, title);
    evb_html_s(h, " ");
    evb_html_e(h, h->inv->number);
    evb_html_s(h, "</title>\n<style>");
    evb_html_s(h, evb_html_css);
    evb_html_s(h, "</style>\n</head>\n<body>\n<main>\n<header>\n<div>"
               "<div class=\"seller\">");
    evb_html_e(h, h->inv->seller.name);
    evb_html_s(h, "</div><address class=\"muted\">");
    evb_html_address(h, &h->inv->seller.address,
                     h->inv->seller.address.country);
    evb_html_s(h, "</address></div>\n<div class=\"doc\"><h1>");
    evb_html_s(h, title);
    evb_html_s(h, "</h1><div class=\"no\">");
    evb_html_e(h, h->inv->number);
    evb_html_s(h, "</div></div>\n</header>\n");
}


static void
evb_html_meta(evb_html_t *h)
{
    const evb_invoice_t  *inv = h->inv;

    evb_html_s(h, "<div class=\"cols\">\n<section><h2>");
    evb_html_s(h, h->cn ? L(h, "Credit note", "Rechnungskorrektur")
                        : L(h, "Invoice", "Rechnung"));
    evb_html_s(h, "</h2><dl>");
    evb_html_dd(h, h->cn ? L(h, "Credit note number",
                             "Korrekturnummer")
                         : L(h, "Invoice number", "Rechnungsnummer"),
                inv->number);

    evb_html_s(h, "<dt>");
    evb_html_s(h, L(h, "Issue date", "Rechnungsdatum"));
    evb_html_s(h, "</dt><dd>");
    evb_html_date_str(h, inv->issue_date);
    evb_html_s(h, "</dd>");

    if (!h->cn && inv->due_date.len) {
        evb_html_s(h, "<dt>");
        evb_html_s(h, L(h, "Due date", "F\xc3\xa4llig am"));
        evb_html_s(h, "</dt><dd>");
        evb_html_date_str(h, inv->due_date);
        evb_html_s(h, "</dd>");
    }

    if (inv->invoice_number.len) {
        evb_html_s(h, "<dt>");
        evb_html_s(h, L(h, "Corrects invoice", "Korrigiert Rechnung"));
        evb_html_s(h, "</dt><dd>");
        evb_html_e(h, inv->invoice_number);

        if (inv->invoice_issue_date.len) {
            evb_html_s(h, L(h, " of ", " vom "));
            evb_html_date_str(h, inv->invoice_issue_date);
        }

        evb_html_s(h, "</dd>");
    }

    evb_html_dd(h, L(h, "Reason", "Grund"), inv->reason);

    if (!inv->buyer_ad_hoc) {
        evb_html_dd(h, L(h, "Customer number", "Kundennummer"),
                    inv->customer_id);
    }

    evb_html_s(h, "<dt>");
    evb_html_s(h, L(h, "Currency", "W\xc3\xa4hrung"));
    evb_html_s(h, "</dt><dd>");
    evb_inv_escape(h->b, inv->currency, strnlen(inv->currency, 3));
    evb_html_s(h, "</dd>");
    evb_html_dd(h, L(h, "CDR", "CDR"), inv->session.cdr_id);
    evb_html_s(h, "</dl></section>\n<section><h2>");

    /* the buyer */
    evb_html_s(h, h->cn ? L(h, "Credited to", "Empf\xc3\xa4nger")
                        : L(h, "Billed to", "Rechnungsempf\xc3\xa4nger"));
    evb_html_s(h, "</h2><address><strong>");
    evb_html_e(h, evb_inv_buyer_name(inv));
    evb_html_s(h, "</strong><br>");

    if (inv->buyer_ad_hoc) {
        evb_html_e(h, evb_inv_buyer_country(inv));

    } else {
        evb_html_address(h, &inv->buyer.address,
                         evb_inv_buyer_country(inv));
    }

    evb_html_s(h, "</address>");

    if (inv->buyer.vat_id.len && !inv->buyer_ad_hoc) {
        evb_html_s(h, "<div>");
        evb_html_s(h, L(h, "VAT ID ", "USt-IdNr. "));
        evb_html_e(h, inv->buyer.vat_id);
        evb_html_s(h, "</div>");
    }

    evb_html_s(h, "</section>\n</div>\n");
}


static void
evb_html_session(evb_html_t *h)
{
    evb_tm_t                  tm;
    const char               *zone;
    const evb_doc_session_t  *s = &h->inv->session;

    if (s->session_id.len == 0 || s->start <= 0) {
        return;
    }

    evb_html_s(h, "<section><h2>");
    evb_html_s(h, L(h, "Charging session", "Ladevorgang"));
    evb_html_s(h, "</h2><dl>");

    if (s->location_name.len || s->location_address.city.len) {
        evb_html_s(h, "<dt>");
        evb_html_s(h, L(h, "Location", "Standort"));
        evb_html_s(h, "</dt><dd>");

        if (s->location_name.len) {
            evb_html_e(h, s->location_name);
            evb_html_s(h, "<span class=\"sub\">");
        }

        evb_html_e(h, s->location_address.street);

        if (s->location_address.street.len) {
            evb_html_s(h, ", ");
        }

        evb_html_e(h, s->location_address.postal_code);
        evb_html_s(h, " ");
        evb_html_e(h, s->location_address.city);

        if (s->location_address.country.len) {
            evb_html_s(h, ", ");
            evb_html_e(h, s->location_address.country);
        }

        if (s->location_name.len) {
            evb_html_s(h, "</span>");
        }

        evb_html_s(h, "</dd>");
    }

    if (s->evse_uid.len) {
        evb_html_s(h, "<dt>EVSE</dt><dd>");
        evb_html_e(h, s->evse_uid);

        if (s->connector.len) {
            evb_html_s(h, L(h, ", connector ", ", Anschluss "));
            evb_html_e(h, s->connector);
        }

        evb_html_s(h, "</dd>");
    }

    evb_html_dd(h, L(h, "Charger", "Ladestation"), s->charger_id);
    evb_html_dd(h, L(h, "Session", "Vorgang"), s->session_id);

    zone = evb_inv_local(h->inv, s->start, &tm);

    evb_html_s(h, "<dt>");
    evb_html_s(h, L(h, "Start", "Beginn"));
    evb_html_s(h, "</dt><dd>");
    evb_html_time(h, s->start);
    evb_html_s(h, "</dd>");

    if (s->end >= s->start) {
        evb_html_s(h, "<dt>");
        evb_html_s(h, L(h, "End", "Ende"));
        evb_html_s(h, "</dt><dd>");
        evb_html_time(h, s->end);
        evb_html_s(h, "</dd>");
    }

    evb_html_s(h, "<dt>");
    evb_html_s(h, L(h, "Time zone", "Zeitzone"));
    evb_html_s(h, "</dt><dd>");
    evb_inv_escape(h->b, zone, strlen(zone));
    evb_html_s(h, "</dd><dt>");
    evb_html_s(h, L(h, "Energy", "Energie"));
    evb_html_s(h, "</dt><dd>");
    evb_inv_number(h->b, s->energy, 9, 3, h->num);
    evb_html_s(h, "\xc2\xa0kWh</dd>");
    evb_html_s(h, "</dl></section>\n");
}


/* a quantity: kWh with at least 3 decimals, a duration as h:mm:ss, a
 * count */
static void
evb_html_quantity(evb_html_t *h, const evb_doc_line_t *l)
{
    int64_t  s;

    /* whole seconds, half up, without overflow */
    s = l->quantity / 1000000 + (l->quantity % 1000000 >= 500000);

    switch (l->dim) {

    case EVB_DIM_ENERGY:
        evb_inv_number(h->b, l->quantity, 9, 3, h->num);
        evb_html_s(h, "</td><td>kWh");
        break;

    case EVB_DIM_TIME:
    case EVB_DIM_PARKING_TIME:
        if (s < 0) {
            evb_html_s(h, "\xe2\x88\x92");
            s = -s;     /* never: quantities are not negative */
        }

        evb_buf_append_i64(h->b, s / 3600);
        evb_html_s(h, ":");
        evb_html_two(h, (int) (s / 60 % 60));
        evb_html_s(h, ":");
        evb_html_two(h, (int) (s % 60));
        evb_html_s(h, "</td><td>h");
        break;

    default:
        evb_buf_append_i64(h->b, l->quantity);
        evb_html_s(h, "</td><td>");
        evb_html_s(h, L(h, "pc", "Stk."));
        break;
    }
}


static void
evb_html_lines(evb_html_t *h)
{
    size_t                 i;
    unsigned               e;
    const evb_doc_line_t  *l;

    e = h->inv->exponent >= 0 && h->inv->exponent <= 6
        ? h->inv->exponent : 2;

    evb_html_s(h, "<section><h2>");
    evb_html_s(h, h->cn ? L(h, "Credited items", "Korrigierte Positionen")
                        : L(h, "Items", "Positionen"));
    evb_html_s(h, "</h2><div class=\"scroll\"><table><thead><tr>"
               "<th>#</th><th>");
    evb_html_s(h, L(h, "Description", "Beschreibung"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "Quantity", "Menge"));
    evb_html_s(h, "</th><th>");
    evb_html_s(h, L(h, "Unit", "Einheit"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "Unit price", "Einzelpreis"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "VAT", "USt."));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "Net amount", "Netto"));
    evb_html_s(h, "</th></tr></thead><tbody>\n");

    for (i = 0; i < h->inv->nlines; i++) {
        l = &h->inv->lines[i];

        evb_html_s(h, "<tr><td>");
        evb_buf_append_u64(h->b, l->id);
        evb_html_s(h, "</td><td>");
        evb_html_s(h, evb_inv_line_name(h->inv, l));

        if (l->session.len) {
            evb_html_s(h, "<span class=\"sub\">");
            evb_html_e(h, l->session);

            if (l->late) {
                evb_html_s(h, L(h, " (late)", " (nachgereicht)"));
            }

            evb_html_s(h, "</span>");
        }

        evb_html_s(h, "</td><td class=\"n\">");
        evb_html_quantity(h, l);
        evb_html_s(h, "</td><td class=\"n\">");
        evb_inv_number(h->b, l->price, 6, e, h->num);
        evb_html_s(h, "</td><td class=\"n\">");
        evb_html_rate(h, l->vat_category, l->vat);
        evb_html_s(h, "</td><td class=\"n\">");
        evb_html_amount(h, l->amount);
        evb_html_s(h, "</td></tr>\n");
    }

    evb_html_s(h, "</tbody></table></div>");
    evb_html_s(h, "<p class=\"muted\">");
    evb_html_s(h, L(h, "Amounts in ", "Betr\xc3\xa4ge in "));
    evb_inv_escape(h->b, h->inv->currency, strnlen(h->inv->currency, 3));
    evb_html_s(h, L(h, "; unit prices net of VAT per unit.",
                    "; Einzelpreise netto je Einheit."));
    evb_html_s(h, "</p></section>\n");
}


static void
evb_html_adjustments(evb_html_t *h)
{
    size_t                i;
    int                   any, charge;
    int64_t               v;
    const evb_doc_vat_t  *t;

    any = 0;

    for (i = 0; i < h->inv->nvat; i++) {
        any |= h->inv->vat[i].allowance > 0 || h->inv->vat[i].charge > 0;
    }

    if (!any) {
        return;
    }

    evb_html_s(h, "<section><h2>");
    evb_html_s(h, L(h, "Allowances and charges", "Nachl\xc3\xa4sse und "
                    "Zuschl\xc3\xa4ge"));
    evb_html_s(h, "</h2><div class=\"scroll\"><table><thead><tr><th>");
    evb_html_s(h, L(h, "Reason", "Grund"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "VAT", "USt."));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "Net amount", "Netto"));
    evb_html_s(h, "</th></tr></thead><tbody>\n");

    for (i = 0; i < h->inv->nvat; i++) {
        t = &h->inv->vat[i];

        for (charge = 0; charge < 2; charge++) {
            v = charge ? t->charge : t->allowance;

            if (v <= 0) {
                continue;
            }

            evb_html_s(h, "<tr><td>");
            evb_html_s(h, charge ? L(h, "Charge: tariff minimum price",
                                     "Zuschlag: Mindestpreis des Tarifs")
                                 : L(h, "Allowance: tariff maximum price",
                                     "Nachlass: H\xc3\xb6" "chstpreis des "
                                     "Tarifs"));
            evb_html_s(h, "</td><td class=\"n\">");
            evb_html_rate(h, t->vat_category, t->vat);
            evb_html_s(h, "</td><td class=\"n\">");
            evb_html_s(h, charge ? "+" : "\xe2\x88\x92");
            evb_html_amount(h, v);
            evb_html_s(h, "</td></tr>\n");
        }
    }

    evb_html_s(h, "</tbody></table></div></section>\n");
}


static void
evb_html_vat(evb_html_t *h)
{
    size_t                i;
    const evb_doc_vat_t  *t;

    evb_html_s(h, "<section><h2>");
    evb_html_s(h, L(h, "VAT breakdown", "Umsatzsteuer"));
    evb_html_s(h, "</h2><div class=\"scroll\"><table><thead><tr><th>");
    evb_html_s(h, L(h, "VAT rate", "Steuersatz"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "Taxable amount", "Nettobetrag"));
    evb_html_s(h, "</th><th class=\"n\">");
    evb_html_s(h, L(h, "VAT amount", "Steuerbetrag"));
    evb_html_s(h, "</th></tr></thead><tbody>\n");

    for (i = 0; i < h->inv->nvat; i++) {
        t = &h->inv->vat[i];

        evb_html_s(h, "<tr><td>");

        switch (t->vat_category) {
        case 'E':
            evb_html_s(h, L(h, "Exempt", "Steuerfrei"));
            evb_html_s(h, "<span class=\"sub\">");
            evb_html_e(h, evb_inv_exemption(h->inv));
            evb_html_s(h, "</span>");
            break;
        case 'Z':
            evb_html_s(h, L(h, "VAT 0\xc2\xa0% (zero rated)",
                            "USt. 0\xc2\xa0% (Nullsatz)"));
            break;
        default:
            evb_html_s(h, L(h, "VAT ", "USt. "));
            evb_html_rate(h, 'S', t->vat);
        }

        evb_html_s(h, "</td><td class=\"n\">");
        evb_html_amount(h, t->taxable);
        evb_html_s(h, "</td><td class=\"n\">");
        evb_html_amount(h, t->amount);
        evb_html_s(h, "</td></tr>\n");
    }

    evb_html_s(h, "</tbody></table></div></section>\n");
}


static void
evb_html_total_row(evb_html_t *h, const char *cls, const char *label,
    int64_t v, const char *sign)
{
    evb_html_s(h, "<tr");

    if (cls != NULL) {
        evb_html_s(h, " class=\"");
        evb_html_s(h, cls);
        evb_html_s(h, "\"");
    }

    evb_html_s(h, "><td>");
    evb_html_s(h, label);
    evb_html_s(h, "</td><td class=\"n\">");
    evb_html_s(h, sign);
    evb_html_money(h, v);
    evb_html_s(h, "</td></tr>\n");
}


static void
evb_html_totals(evb_html_t *h)
{
    const evb_invoice_t  *inv = h->inv;

    evb_html_s(h, "<table class=\"totals\"><tbody>\n");
    evb_html_total_row(h, NULL, L(h, "Items, net", "Positionen netto"),
                       inv->line_total, "");

    if (inv->allowance_total) {
        evb_html_total_row(h, NULL, L(h, "Allowances", "Nachl\xc3\xa4sse"),
                           inv->allowance_total, "\xe2\x88\x92");
    }

    if (inv->charge_total) {
        evb_html_total_row(h, NULL, L(h, "Charges", "Zuschl\xc3\xa4ge"),
                           inv->charge_total, "+");
    }

    evb_html_total_row(h, "sum", L(h, "Total net", "Summe netto"),
                       inv->tax_exclusive, "");
    evb_html_total_row(h, NULL, L(h, "VAT", "Umsatzsteuer"),
                       inv->tax_total, "+");
    evb_html_total_row(h, "sum", L(h, "Total", "Gesamtbetrag"),
                       inv->tax_inclusive, "");

    if (inv->prepaid) {
        evb_html_total_row(h, NULL, L(h, "Prepaid", "Bereits bezahlt"),
                           inv->prepaid, "\xe2\x88\x92");
    }

    evb_html_total_row(h, "due",
                       h->cn ? L(h, "Amount credited", "Gutschriftsbetrag")
                             : L(h, "Amount due", "Zahlbetrag"),
                       inv->payable, "");
    evb_html_s(h, "</tbody></table>\n");
}


/* the card the gateway reported (issue 11), as the status view has it */
static void
evb_html_card(evb_html_t *h, const evb_invoice_status_t *st)
{
    if (st->card_last4.len == 0) {
        return;
    }

    evb_html_s(h, L(h, " by card ", " per Karte "));

    if (st->card_brand.len) {
        evb_html_e(h, st->card_brand);
        evb_html_s(h, " ");
    }

    evb_html_s(h, L(h, "ending in ", "mit Endziffern "));
    evb_html_e(h, st->card_last4);
}


static void
evb_html_status(evb_html_t *h, const evb_invoice_status_t *st)
{
    size_t                i;
    const evb_invoice_t  *inv = h->inv;

    if (st == NULL) {
        return;
    }

    evb_html_s(h, "<section class=\"status ");

    switch (st->state) {

    case EVB_PAY_PAID:
        evb_html_s(h, "paid\"><strong>");
        evb_html_s(h, L(h, "Paid", "Bezahlt"));
        evb_html_s(h, "</strong>");

        if (st->paid) {
            evb_html_s(h, ": ");
            evb_html_money(h, st->paid);
            evb_html_card(h, st);
        }

        break;

    case EVB_PAY_CREDITED:
        evb_html_s(h, "credited\"><strong>");
        evb_html_s(h, L(h, "Credited in full", "Vollst\xc3\xa4ndig "
                        "gutgeschrieben"));
        evb_html_s(h, "</strong>");
        break;

    default:
        evb_html_s(h, "due\"><strong>");
        evb_html_s(h, L(h, "Open", "Offen"));
        evb_html_s(h, "</strong>");

        if (inv->due_date.len) {
            evb_html_s(h, L(h, ", due on ", ", f\xc3\xa4llig am "));
            evb_html_date_str(h, inv->due_date);
        }

        if (st->paid) {
            evb_html_s(h, L(h, "; paid so far ", "; bisher bezahlt "));
            evb_html_money(h, st->paid);
            evb_html_card(h, st);
        }
    }

    if (st->credited) {
        evb_html_s(h, "<br>");
        evb_html_s(h, L(h, "Credited: ", "Gutgeschrieben: "));
        evb_html_money(h, st->credited);

        for (i = 0; i < st->ncredit_notes; i++) {
            evb_html_s(h, i ? ", " : " (");
            evb_html_e(h, st->credit_notes[i]);
        }

        evb_html_s(h, st->ncredit_notes ? ")" : "");
    }

    evb_html_s(h, "</section>\n");
}


static void
evb_html_payment(evb_html_t *h)
{
    const evb_invoice_t  *inv = h->inv;

    if (h->cn || inv->payable <= 0) {
        return;
    }

    evb_html_s(h, "<p class=\"pay\">");

    if (inv->seller.iban.len) {
        evb_html_s(h, L(h, "Please transfer ", "Bitte \xc3\xbc" "berweisen "
                        "Sie "));
        evb_html_money(h, inv->payable);

        if (inv->due_date.len) {
            evb_html_s(h, L(h, " by ", " bis zum "));
            evb_html_date_str(h, inv->due_date);
        }

        evb_html_s(h, L(h, " to IBAN ", " auf IBAN "));
        evb_html_e(h, inv->seller.iban);

        if (inv->seller.bic.len) {
            evb_html_s(h, " (BIC ");
            evb_html_e(h, inv->seller.bic);
            evb_html_s(h, ")");
        }

        evb_html_s(h, L(h, ", reference ", ", Verwendungszweck "));
        evb_html_e(h, inv->number);
        evb_html_s(h, ".");

    } else {
        evb_inv_terms(h->b, inv);

        if (inv->due_date.len) {
            evb_html_s(h, L(h, ", by ", " bis zum "));
            evb_html_date_str(h, inv->due_date);
        }

        evb_html_s(h, ".");
    }

    evb_html_s(h, "</p>\n");
}


static void
evb_html_footer(evb_html_t *h)
{
    const evb_party_t  *s = &h->inv->seller;

    evb_html_s(h, "<footer>");
    evb_html_e(h, s->name);
    evb_html_s(h, " \xc2\xb7 ");
    evb_html_e(h, s->address.street);
    evb_html_s(h, ", ");
    evb_html_e(h, s->address.postal_code);
    evb_html_s(h, " ");
    evb_html_e(h, s->address.city);
    evb_html_s(h, ", ");
    evb_html_e(h, s->address.country);

    if (s->vat_id.len) {
        evb_html_s(h, " \xc2\xb7 ");
        evb_html_s(h, L(h, "VAT ID ", "USt-IdNr. "));
        evb_html_e(h, s->vat_id);
    }

    if (s->registration.len) {
        evb_html_s(h, " \xc2\xb7 ");
        evb_html_e(h, s->registration);
    }

    if (s->email.len) {
        evb_html_s(h, " \xc2\xb7 ");
        evb_html_e(h, s->email);
    }

    if (s->phone.len) {
        evb_html_s(h, " \xc2\xb7 ");
        evb_html_e(h, s->phone);
    }

    evb_html_s(h, "</footer>\n");
}


void
evb_invoice_render_html(evb_buf_t *b, const evb_invoice_t *inv,
    const evb_invoice_status_t *status)
{
    evb_html_t  h;

    h.b = b;
    h.inv = inv;
    h.cn = inv->kind == EVB_DOC_CREDIT_NOTE;
    h.de = evb_inv_de(inv);
    h.num = h.de ? EVB_NUM_DE : EVB_NUM_EN;

    evb_html_head(&h);
    evb_html_meta(&h);
    evb_html_session(&h);
    evb_html_lines(&h);
    evb_html_adjustments(&h);
    evb_html_vat(&h);
    evb_html_totals(&h);
    evb_html_status(&h, status);
    evb_html_payment(&h);
    evb_html_footer(&h);
    evb_html_s(&h, "</main>\n</body>\n</html>\n");
}
