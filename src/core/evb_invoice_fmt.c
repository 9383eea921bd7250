/*
 * Shared formatting of the invoice renderers (evb_invoice_fmt.h).
 */

#include <string.h>

#include "evb_invoice_fmt.h"


static void
evb_inv_replacement(evb_buf_t *b)
{
    evb_buf_append(b, "\xef\xbf\xbd", 3);
}


void
evb_inv_escape(evb_buf_t *b, const char *s, size_t len)
{
    size_t          i, n, k;
    uint32_t        cp;
    unsigned char   c;

    i = 0;

    while (i < len) {
        c = (unsigned char) s[i];

        if (c < 0x80) {
            switch (c) {
            case '&':
                evb_buf_appends(b, "&amp;");
                break;
            case '<':
                evb_buf_appends(b, "&lt;");
                break;
            case '>':
                evb_buf_appends(b, "&gt;");
                break;
            case '"':
                evb_buf_appends(b, "&quot;");
                break;
            case '\'':
                evb_buf_appends(b, "&#39;");
                break;
            default:
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    evb_inv_replacement(b);

                } else {
                    evb_buf_append(b, &s[i], 1);
                }
            }

            i++;
            continue;
        }

        /* a UTF-8 sequence: shortest form only, no surrogates */
        if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            cp = c & 0x1f;

        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            cp = c & 0x0f;

        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            cp = c & 0x07;

        } else {
            evb_inv_replacement(b);
            i++;
            continue;
        }

        if (len - i < n) {
            evb_inv_replacement(b);
            i++;
            continue;
        }

        for (k = 1; k < n; k++) {
            c = (unsigned char) s[i + k];

            if ((c & 0xc0) != 0x80) {
                break;
            }

            cp = cp << 6 | (c & 0x3f);
        }

        if (k < n
            || (n == 3 && cp < 0x800)
            || (n == 4 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff)
            || cp == 0xfffe || cp == 0xffff)
        {
            evb_inv_replacement(b);
            i += k < n ? k : n;
            continue;
        }

        evb_buf_append(b, &s[i], n);
        i += n;
    }
}


void
evb_inv_escape_str(evb_buf_t *b, evb_str_t s)
{
    evb_inv_escape(b, s.data, s.len);
}


void
evb_inv_number(evb_buf_t *b, int64_t v, unsigned scale,
    unsigned min_decimals, evb_num_style_e style)
{
    char       digits[24], out[80];
    size_t     n, len, nint, ndec, i;
    uint64_t   u;
    char      *p;

    if (scale > 18 || min_decimals > scale) {
        /* never used: keeps out[] bounded */
        evb_buf_append_i64(b, v);
        return;
    }

    u = v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
    p = digits + sizeof(digits);

    do {
        *--p = (char) ('0' + u % 10);
        u /= 10;
    } while (u != 0);

    n = digits + sizeof(digits) - p;

    /* left-pad to scale + 1 digits so that there is an integer digit */
    while (n < scale + 1) {
        *--p = '0';
        n++;
    }

    nint = n - scale;
    ndec = scale;

    while (ndec > min_decimals && p[nint + ndec - 1] == '0') {
        ndec--;
    }

    len = 0;

    if (v < 0) {
        out[len++] = '-';
    }

    for (i = 0; i < nint; i++) {
        if (i > 0 && (nint - i) % 3 == 0 && style != EVB_NUM_XML) {
            out[len++] = style == EVB_NUM_DE ? '.' : ',';
        }

        out[len++] = p[i];
    }

    if (ndec > 0) {
        out[len++] = style == EVB_NUM_DE ? ',' : '.';
        memcpy(out + len, p + nint, ndec);
        len += ndec;
    }

    evb_buf_append(b, out, len);
}


void
evb_inv_amount(evb_buf_t *b, const evb_invoice_t *inv, int64_t v,
    evb_num_style_e style)
{
    unsigned  e;

    e = inv->exponent >= 0 && inv->exponent <= 6 ? inv->exponent : 2;

    evb_inv_number(b, v, 6, e, style);
}


int64_t
evb_inv_hours(int64_t us)
{
    /* 1 h = 3.6e9 us, so 10^-6 h = 3600 us */
    if (us < 0) {
        return -((-(us / 3600)) + ((-(us % 3600)) >= 1800));
    }

    return us / 3600 + (us % 3600 >= 1800);
}


const char *
evb_inv_local(const evb_invoice_t *inv, evb_msec_t t, evb_tm_t *tm)
{
    char             name[64], err[128];
    int64_t          secs, days, rem;
    const evb_tz_t  *tz;

    /* floor division, without overflow */
    secs = t / 1000 - (t % 1000 < 0);
    tz = NULL;

    if (inv->session.time_zone.len > 0
        && inv->session.time_zone.len < sizeof(name))
    {
        memcpy(name, inv->session.time_zone.data,
               inv->session.time_zone.len);
        name[inv->session.time_zone.len] = '\0';
        tz = evb_tz_get(name, err, sizeof(err));
    }

    if (tz != NULL) {
        evb_tz_local(tz, secs, tm);
        return evb_tz_name(tz);
    }

    /* UTC by hand: no zone file needed */
    memset(tm, 0, sizeof(*tm));
    days = secs / 86400 - (secs % 86400 < 0);
    rem = secs - days * 86400;
    evb_civil_from_days((int32_t) days, &tm->year, &tm->month, &tm->day);
    tm->hour = (int) (rem / 3600);
    tm->minute = (int) (rem % 3600 / 60);
    tm->second = (int) (rem % 60);
    tm->days = (int32_t) days;
    tm->wday = (int) (((days + 3) % 7 + 7) % 7);

    return "UTC";
}


int
evb_inv_de(const evb_invoice_t *inv)
{
    return inv->language.len == 2 && inv->language.data[0] == 'd'
           && inv->language.data[1] == 'e';
}


const char *
evb_inv_line_name(const evb_invoice_t *inv, const evb_doc_line_t *l)
{
    int  de;

    de = evb_inv_de(inv);

    switch (l->dim) {

    case EVB_DIM_ENERGY:
        return de ? "Energie" : "Energy";

    case EVB_DIM_FLAT:
        if (l->reservation) {
            return de ? "Reservierungsgeb\xc3\xbchr" : "Reservation fee";
        }

        return de ? "Startgeb\xc3\xbchr" : "Start fee";

    case EVB_DIM_PARKING_TIME:
        return de ? "Parkzeit" : "Parking time";

    case EVB_DIM_TIME:
        if (l->reservation) {
            return de ? "Reservierungszeit" : "Reservation time";
        }

        return de ? "Ladezeit" : "Charging time";

    default:
        return de ? "Sonstiges" : "Other";
    }
}


evb_str_t
evb_inv_buyer_name(const evb_invoice_t *inv)
{
    evb_str_t  en = evb_str_lit("Ad hoc customer");
    evb_str_t  de = evb_str_lit("Ad-hoc-Kunde");

    if (inv->buyer_ad_hoc || inv->buyer.name.len == 0) {
        return evb_inv_de(inv) ? de : en;
    }

    return inv->buyer.name;
}


evb_str_t
evb_inv_buyer_country(const evb_invoice_t *inv)
{
    /* EN 16931 wants a buyer country (BR-11): the ad hoc buyer's is the
     * charging location's, and so is a customer's without one */
    if (inv->buyer_ad_hoc && inv->session.location_address.country.len) {
        return inv->session.location_address.country;
    }

    if (inv->buyer.address.country.len) {
        return inv->buyer.address.country;
    }

    if (inv->session.location_address.country.len) {
        return inv->session.location_address.country;
    }

    return inv->seller.address.country;
}


evb_str_t
evb_inv_exemption(const evb_invoice_t *inv)
{
    evb_str_t  en = evb_str_lit("Exempt from VAT");
    evb_str_t  de = evb_str_lit("Umsatzsteuerbefreit");

    if (inv->seller.vat_exemption_reason.len) {
        return inv->seller.vat_exemption_reason;
    }

    return evb_inv_de(inv) ? de : en;
}


void
evb_inv_terms(evb_buf_t *b, const evb_invoice_t *inv)
{
    int  de;

    de = evb_inv_de(inv);

    if (inv->payment_terms_days == 0) {
        evb_buf_appends(b, de ? "Zahlbar sofort nach Erhalt"
                              : "Payable on receipt");
        return;
    }

    evb_buf_appends(b, de ? "Zahlbar innerhalb von " : "Payable within ");
    evb_buf_append_u64(b, inv->payment_terms_days);

    if (inv->payment_terms_days == 1) {
        evb_buf_appends(b, de ? " Tages" : " day");

    } else {
        evb_buf_appends(b, de ? " Tagen" : " days");
    }
}


int
evb_inv_parse_date(evb_str_t s, int *y, int *m, int *d)
{
    size_t  i;

    if (s.len != 10 || s.data[4] != '-' || s.data[7] != '-') {
        return -1;
    }

    for (i = 0; i < 10; i++) {
        if (i != 4 && i != 7 && (s.data[i] < '0' || s.data[i] > '9')) {
            return -1;
        }
    }

    *y = (s.data[0] - '0') * 1000 + (s.data[1] - '0') * 100
         + (s.data[2] - '0') * 10 + (s.data[3] - '0');
    *m = (s.data[5] - '0') * 10 + (s.data[6] - '0');
    *d = (s.data[8] - '0') * 10 + (s.data[9] - '0');

    if (*m < 1 || *m > 12 || *d < 1 || *d > 31) {
        return -1;
    }

    return 0;
}
