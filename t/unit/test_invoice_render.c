/*
 * The invoice renderers' shared formatting (evb_invoice_fmt.c) and the
 * renderers on hostile and empty documents: escaping for XML 1.0 and
 * HTML, exact decimals in XML, English and German style, hours from
 * microseconds, local times, the fixed ad hoc buyer.  The documents
 * themselves are validated in t/160-ubl.t and t/165-html.t.
 */

#include <stdlib.h>

#include "tap.h"
#include "../../src/core/evb_invoice_fmt.h"


static evb_buf_t  b;


static void
is_buf(const char *want, const char *name)
{
    ok(!b.oom, "%s: no oom", name);
    is_str(b.data, b.len, want, "%s", name);
    evb_buf_reset(&b);
}


static void
esc(const char *in, size_t len, const char *want, const char *name)
{
    evb_inv_escape(&b, in, len);
    is_buf(want, name);
}


static void
num(int64_t v, unsigned scale, unsigned min, evb_num_style_e st,
    const char *want)
{
    evb_inv_number(&b, v, scale, min, st);
    is_buf(want, want);
}


static int
contains(const char *s, size_t len, const char *what)
{
    size_t  n = strlen(what), i;

    for (i = 0; i + n <= len; i++) {
        if (memcmp(s + i, what, n) == 0) {
            return 1;
        }
    }

    return 0;
}


int
main(void)
{
    evb_tm_t       tm;
    const char    *zone;
    evb_invoice_t  inv;
    evb_doc_line_t line;

    evb_buf_init(&b);

    /* markup escaping */
    esc("a&b<c>d\"e'f", 11, "a&amp;b&lt;c&gt;d&quot;e&#39;f", "specials");
    esc("t\tn\nr\r", 6, "t\tn\nr\r", "tab, LF, CR kept");
    esc("x\x01y\x1f", 4, "x\xef\xbf\xbdy\xef\xbf\xbd", "C0 controls");
    esc("a\0b", 3, "a\xef\xbf\xbd" "b", "NUL");
    esc("\xe2\x82\xac \xc3\xa4 \xf0\x9f\x94\x8c", 11,
        "\xe2\x82\xac \xc3\xa4 \xf0\x9f\x94\x8c", "UTF-8 kept");
    esc("\xef\xbf\xbe\xef\xbf\xbf", 6,
        "\xef\xbf\xbd\xef\xbf\xbd", "U+FFFE, U+FFFF");
    esc("\xed\xa0\x80", 3, "\xef\xbf\xbd", "a surrogate");
    esc("\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd", "overlong");
    esc("ab\xc3", 3, "ab\xef\xbf\xbd", "truncated sequence");
    esc("\xe2\x82<", 3, "\xef\xbf\xbd&lt;", "broken sequence, then <");

    /* numbers */
    num(1234567, 6, 2, EVB_NUM_XML, "1.234567");
    num(5000000, 6, 0, EVB_NUM_XML, "5");
    num(5000000, 6, 2, EVB_NUM_XML, "5.00");
    num(0, 6, 2, EVB_NUM_XML, "0.00");
    num(-1500000, 6, 2, EVB_NUM_XML, "-1.50");
    num(1, 6, 0, EVB_NUM_XML, "0.000001");
    num(123456789000000LL, 6, 2, EVB_NUM_EN, "123,456,789.00");
    num(123456789000000LL, 6, 2, EVB_NUM_DE, "123.456.789,00");
    num(1234000000, 6, 2, EVB_NUM_DE, "1.234,00");
    num(999000000, 6, 2, EVB_NUM_DE, "999,00");
    num(95000000000LL, 9, 3, EVB_NUM_DE, "95,000");
    num(INT64_MIN, 6, 0, EVB_NUM_XML, "-9223372036854.775808");
    num(INT64_MAX, 0, 0, EVB_NUM_EN, "9,223,372,036,854,775,807");

    memset(&inv, 0, sizeof(inv));
    memcpy(inv.currency, "JPY", 4);
    inv.exponent = 0;
    evb_inv_amount(&b, &inv, 1502000000, EVB_NUM_EN);
    is_buf("1,502", "JPY: no decimals");
    memcpy(inv.currency, "EUR", 4);
    inv.exponent = 2;
    evb_inv_amount(&b, &inv, 70070000, EVB_NUM_DE);
    is_buf("70,07", "EUR in German");

    /* hours from microseconds, 10^-6 h, half up */
    is_int(evb_inv_hours(5400000000LL), 1500000, "90 min");
    is_int(evb_inv_hours(1830000000LL), 508333, "30.5 min");
    is_int(evb_inv_hours(1800), 1, "half up");
    is_int(evb_inv_hours(1799), 0, "below half");
    is_int(evb_inv_hours(-1800), -1, "negative, away from zero");

    /* local times: the session's zone, UTC when unknown */
    inv.session.time_zone = (evb_str_t) evb_str_lit("Europe/Berlin");
    zone = evb_inv_local(&inv, 1796545200000LL, &tm);
    ok(strcmp(zone, "Europe/Berlin") == 0, "zone used");
    ok(tm.hour == 9 && tm.minute == 20 && tm.day == 6, "Berlin 09:20");
    inv.session.time_zone = (evb_str_t) evb_str_lit("Nowhere/None");
    zone = evb_inv_local(&inv, 1796545200000LL, &tm);
    ok(strcmp(zone, "UTC") == 0 && tm.hour == 8 && tm.month == 12
       && tm.year == 2026 && tm.wday == 6, "unknown zone: UTC, Sunday");

    /* the ad hoc buyer */
    inv.buyer_ad_hoc = 1;
    inv.language = (evb_str_t) evb_str_lit("de");
    inv.session.location_address.country = (evb_str_t) evb_str_lit("AT");
    inv.buyer.address.country = (evb_str_t) evb_str_lit("DE");
    is_str(evb_inv_buyer_name(&inv).data, evb_inv_buyer_name(&inv).len,
           "Ad-hoc-Kunde", "ad hoc name, de");
    is_str(evb_inv_buyer_country(&inv).data,
           evb_inv_buyer_country(&inv).len, "AT", "location's country");
    inv.language = (evb_str_t) evb_str_lit("en");
    is_str(evb_inv_buyer_name(&inv).data, evb_inv_buyer_name(&inv).len,
           "Ad hoc customer", "ad hoc name, en");

    /* payment terms in words */
    inv.payment_terms_days = 0;
    evb_inv_terms(&b, &inv);
    is_buf("Payable on receipt", "terms 0, en");
    inv.payment_terms_days = 1;
    evb_inv_terms(&b, &inv);
    is_buf("Payable within 1 day", "terms 1, en");
    inv.language = (evb_str_t) evb_str_lit("de");
    inv.payment_terms_days = 30;
    evb_inv_terms(&b, &inv);
    is_buf("Zahlbar innerhalb von 30 Tagen", "terms 30, de");
    inv.payment_terms_days = 0;
    evb_inv_terms(&b, &inv);
    is_buf("Zahlbar sofort nach Erhalt", "terms 0, de");

    /* the ad hoc buyer in UBL: a name and a country only, whatever
     * else the record holds */
    inv.buyer.email = (evb_str_t) evb_str_lit("someone@example.org");
    inv.buyer.address.street = (evb_str_t) evb_str_lit("Hidden 1");
    evb_invoice_render_ubl(&b, &inv);
    ok(contains(b.data, b.len, "<cac:AccountingCustomerParty><cac:Party>"
                "<cac:PartyName><cbc:Name>Ad-hoc-Kunde</cbc:Name>"
                "</cac:PartyName><cac:PostalAddress><cac:Country>"
                "<cbc:IdentificationCode>AT</cbc:IdentificationCode>")
       && !contains(b.data, b.len, "someone@")
       && !contains(b.data, b.len, "Hidden"), "UBL ad hoc buyer");
    evb_buf_reset(&b);

    /* an empty document renders, well-formed enough */
    memset(&inv, 0, sizeof(inv));
    evb_invoice_render_ubl(&b, &inv);
    ok(!b.oom && contains(b.data, b.len, "</Invoice>"), "empty UBL");
    evb_buf_reset(&b);
    evb_invoice_render_html(&b, &inv, NULL);
    ok(!b.oom && contains(b.data, b.len, "</html>"), "empty HTML");
    evb_buf_reset(&b);

    /* hostile text never leaves its element */
    memset(&inv, 0, sizeof(inv));
    memset(&line, 0, sizeof(line));
    memcpy(inv.currency, "EUR", 4);
    inv.exponent = 2;
    inv.number = (evb_str_t) evb_str_lit("INV-1");
    inv.buyer.name = (evb_str_t) evb_str_lit("</cbc:Name><script>x\x01");
    inv.session.session_id = (evb_str_t) evb_str_lit("s\"1");
    inv.session.start = 1796545200000LL;
    inv.session.end = inv.session.start;
    line.id = 1;
    line.session = (evb_str_t) evb_str_lit("c/<s>");
    inv.lines = &line;
    inv.nlines = 1;

    evb_invoice_render_ubl(&b, &inv);
    ok(contains(b.data, b.len, "&lt;/cbc:Name&gt;&lt;script&gt;x\xef\xbf\xbd")
       && !contains(b.data, b.len, "<script"), "UBL escapes names");
    ok(contains(b.data, b.len, "Charging session c/&lt;s&gt;"),
       "UBL escapes a line's session");
    evb_buf_reset(&b);

    evb_invoice_render_html(&b, &inv, NULL);
    ok(!contains(b.data, b.len, "<script"), "HTML escapes names");
    ok(contains(b.data, b.len, "s&quot;1"), "HTML escapes the session");
    evb_buf_reset(&b);

    evb_buf_free(&b);

    tap_plan(tap_n);

    return tap_done();
}
