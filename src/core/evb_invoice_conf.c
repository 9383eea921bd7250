/*
 * Invoicing configuration: the seller file, the number formats, the
 * text and country rules that documents need (see evb_invoice_make.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_json.h"
#include "evb_pan.h"
#include "evb_invoice_make.h"


int
evb_xml_text_ok(const char *s, size_t len)
{
    size_t          i;
    unsigned char   c;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            return 0;
        }

        /* U+FFFE and U+FFFF: EF BF BE, EF BF BF */
        if (c == 0xef && i + 2 < len
            && (unsigned char) s[i + 1] == 0xbf
            && ((unsigned char) s[i + 2] == 0xbe
                || (unsigned char) s[i + 2] == 0xbf))
        {
            return 0;
        }
    }

    return 1;
}


/* one line of text for a document: what XML allows, and no control
 * character at all (no tab or line break in a name either) */
static int
evb_doc_text_ok(const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f) {
            return 0;
        }
    }

    return evb_xml_text_ok(s, len);
}


/* the seller file: errors are collected, one sentence per field */

typedef struct {
    evb_arena_t   *arena;
    char          *err;
    size_t         errlen;
    size_t         used;
    unsigned       nerr;
} evb_seller_ctx_t;


static void
evb_seller_fail(evb_seller_ctx_t *c, const char *field, const char *what)
{
    int  n;

    if (c->used >= c->errlen) {
        c->nerr++;
        return;
    }

    n = snprintf(c->err + c->used, c->errlen - c->used, "%s\"%s\" %s",
                 c->nerr ? "; " : "", field, what);
    if (n > 0) {
        c->used += (size_t) n;
        if (c->used >= c->errlen) {
            c->used = c->errlen;
        }
    }

    c->nerr++;
}


/* a string member: 1..max characters of document text */
static void
evb_seller_str(evb_seller_ctx_t *c, const evb_json_t *obj, const char *name,
    const char *path, int required, size_t max, evb_str_t *out)
{
    evb_json_t  *v;

    out->data = "";
    out->len = 0;

    v = evb_json_get(obj, name);

    if (v == NULL || v->type == EVB_JSON_NULL) {
        if (required) {
            evb_seller_fail(c, path, "is missing");
        }
        return;
    }

    if (v->type != EVB_JSON_STRING) {
        evb_seller_fail(c, path, "must be a string");
        return;
    }

    if (v->u.str.len == 0 || v->u.str.len > max) {
        char  msg[64];

        snprintf(msg, sizeof(msg), "must be 1 to %u characters",
                 (unsigned) max);
        evb_seller_fail(c, path, msg);
        return;
    }

    if (!evb_doc_text_ok(v->u.str.data, v->u.str.len)) {
        evb_seller_fail(c, path, "must not hold control characters or "
                        "characters XML 1.0 forbids (U+FFFE, U+FFFF)");
        return;
    }

    *out = v->u.str;
}


/* free text printed on every document: never a card number; the
 * message (nginx -t prints it) names the field, not the value */
static void
evb_seller_pan(evb_seller_ctx_t *c, const char *path, evb_str_t s)
{
    if (s.len && evb_pan_in(s)) {
        evb_seller_fail(c, path, EVB_PAN_REFUSED);
    }
}


static void
evb_seller_unknown(evb_seller_ctx_t *c, const evb_json_t *obj,
    const char *const *known, const char *prefix)
{
    size_t        i, k;
    char          path[96];
    const char   *name;

    for (i = 0; i < obj->u.obj.n; i++) {
        name = obj->u.obj.members[i].key.data;

        for (k = 0; known[k]; k++) {
            if (strcmp(known[k], name) == 0) {
                break;
            }
        }

        if (known[k] == NULL) {
            snprintf(path, sizeof(path), "%s%.64s", prefix, name);
            evb_seller_fail(c, path, "is not a field of the seller file");
        }
    }
}


int
evb_seller_parse(evb_arena_t *a, const char *json, size_t len,
    evb_invoice_conf_t *conf, char *err, size_t errlen)
{
    int64_t            n;
    evb_str_t          tz;
    evb_json_t        *root, *addr, *v;
    evb_party_t       *p;
    evb_seller_ctx_t   c;
    char               msg[160], tzname[128];

    static const char *const  top[] = {
        "name", "address", "vat_id", "registration", "iban", "bic",
        "email", "phone", "payment_terms_days", "time_zone",
        "vat_exemption_reason", NULL
    };

    static const char *const  addr_fields[] = {
        "street", "city", "postal_code", "country", NULL
    };

    memset(&c, 0, sizeof(evb_seller_ctx_t));
    c.arena = a;
    c.err = err;
    c.errlen = errlen;
    err[0] = '\0';

    if (evb_json_parse(a, json, len, 8, &root, msg, sizeof(msg))
        != EVB_JSON_OK)
    {
        snprintf(err, errlen, "is not JSON: %s", msg);
        return -1;
    }

    if (root->type != EVB_JSON_OBJECT) {
        snprintf(err, errlen, "must hold a JSON object");
        return -1;
    }

    p = &conf->seller;
    memset(p, 0, sizeof(evb_party_t));

    evb_seller_unknown(&c, root, top, "");

    evb_seller_str(&c, root, "name", "name", 1, 200, &p->name);
    evb_seller_pan(&c, "name", p->name);

    addr = evb_json_get(root, "address");

    if (addr == NULL) {
        evb_seller_fail(&c, "address", "is missing");

    } else if (addr->type != EVB_JSON_OBJECT) {
        evb_seller_fail(&c, "address", "must be an object");

    } else {
        evb_seller_unknown(&c, addr, addr_fields, "address.");
        evb_seller_str(&c, addr, "street", "address.street", 1, 200,
                       &p->address.street);
        evb_seller_str(&c, addr, "city", "address.city", 1, 100,
                       &p->address.city);
        evb_seller_str(&c, addr, "postal_code", "address.postal_code", 1,
                       20, &p->address.postal_code);
        evb_seller_pan(&c, "address.street", p->address.street);
        evb_seller_pan(&c, "address.city", p->address.city);
        evb_seller_pan(&c, "address.postal_code", p->address.postal_code);
        evb_seller_str(&c, addr, "country", "address.country", 1, 2,
                       &p->address.country);

        if (p->address.country.len
            && !evb_country_alpha2_ok(p->address.country))
        {
            evb_seller_fail(&c, "address.country", "must be an ISO 3166-1 "
                            "alpha-2 code such as \"DE\"");
        }
    }

    evb_seller_str(&c, root, "vat_id", "vat_id", 1, 30, &p->vat_id);

    /* EN 16931 BR-CO-9: the VAT id starts with a country prefix */
    if (p->vat_id.len
        && (p->vat_id.len < 3
            || !((p->vat_id.data[0] == 'E' && p->vat_id.data[1] == 'L')
                 || evb_country_alpha2_ok((evb_str_t) { p->vat_id.data,
                                                        2 }))))
    {
        evb_seller_fail(&c, "vat_id", "must start with a country prefix "
                        "(ISO 3166-1 alpha-2, or EL for Greece)");
    }

    evb_seller_str(&c, root, "registration", "registration", 0, 100,
                   &p->registration);
    evb_seller_str(&c, root, "iban", "iban", 0, 34, &p->iban);
    evb_seller_str(&c, root, "bic", "bic", 0, 11, &p->bic);
    evb_seller_str(&c, root, "email", "email", 1, 200, &p->email);

    if (p->email.len && memchr(p->email.data, '@', p->email.len) == NULL) {
        evb_seller_fail(&c, "email", "must be an e-mail address");
    }

    evb_seller_str(&c, root, "phone", "phone", 0, 50, &p->phone);
    evb_seller_str(&c, root, "vat_exemption_reason", "vat_exemption_reason",
                   0, 200, &p->vat_exemption_reason);
    evb_seller_pan(&c, "vat_exemption_reason", p->vat_exemption_reason);

    v = evb_json_get(root, "payment_terms_days");

    if (v == NULL) {
        evb_seller_fail(&c, "payment_terms_days", "is missing");

    } else if (v->type != EVB_JSON_NUMBER
               || evb_json_int64(v, &n) != EVB_NUM_OK
               || n < 0 || n > EVB_TERMS_DAYS_MAX)
    {
        evb_seller_fail(&c, "payment_terms_days", "must be an integer from "
                        "0 to 365");

    } else {
        conf->payment_terms_days = (unsigned) n;
    }

    evb_seller_str(&c, root, "time_zone", "time_zone", 1, 100, &tz);

    if (tz.len) {
        memcpy(tzname, tz.data, tz.len);
        tzname[tz.len] = '\0';

        conf->tz = evb_tz_get(tzname, msg, sizeof(msg));
        if (conf->tz == NULL) {
            evb_seller_fail(&c, "time_zone", "must be an IANA time zone "
                            "such as \"Europe/Berlin\"");

        } else {
            conf->time_zone = tz;
        }
    }

    return c.nerr ? -1 : 0;
}


/* number formats */

static int
evb_format_lit_ok(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
           || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
}


int
evb_number_format_check(evb_str_t fmt, evb_str_t node_id, char *err,
    size_t errlen)
{
    size_t   i, max;
    unsigned has_n, has_i;
    char     ch;

    has_n = 0;
    has_i = 0;
    max = 0;

    if (fmt.len == 0) {
        snprintf(err, errlen, "is empty");
        return -1;
    }

    for (i = 0; i < fmt.len; i++) {
        ch = fmt.data[i];

        if (ch != '%') {
            if (!evb_format_lit_ok(ch)) {
                snprintf(err, errlen, "may hold only A-Z, a-z, 0-9, '-' "
                         "and '_' besides %%Y, %%I and %%6N (no '/' or "
                         "'.'), not \"%c\"", ch);
                return -1;
            }

            max++;
            continue;
        }

        if (i + 1 >= fmt.len) {
            goto bad;
        }

        ch = fmt.data[++i];

        if (ch == 'Y') {
            max += 4;

        } else if (ch == 'I') {
            has_i = 1;
            max += node_id.len;

        } else if (ch >= '4' && ch <= '9' && i + 1 < fmt.len
                   && fmt.data[i + 1] == 'N')
        {
            if (has_n) {
                snprintf(err, errlen, "holds the counter twice");
                return -1;
            }

            has_n = 1;
            i++;
            /* a counter that outgrows its width gets more digits */
            max += 10;

        } else {
            goto bad;
        }
    }

    if (!has_n) {
        snprintf(err, errlen, "must hold the counter (%%6N; %%4N to %%9N)");
        return -1;
    }

    if (node_id.len && !has_i) {
        snprintf(err, errlen, "must hold %%I: evbill_node_id is set, and "
                 "numbers of several nodes must differ");
        return -1;
    }

    if (max > EVB_NUMBER_MAX) {
        snprintf(err, errlen, "can make numbers of %u characters, more "
                 "than the %d that a CDR's invoice_reference_id holds",
                 (unsigned) max, EVB_NUMBER_MAX);
        return -1;
    }

    return 0;

bad:

    snprintf(err, errlen, "has an unknown conversion: use %%Y, %%I and "
             "%%4N to %%9N");
    return -1;
}


int
evb_number_format_has_year(evb_str_t fmt)
{
    size_t  i;

    for (i = 0; i + 1 < fmt.len; i++) {
        if (fmt.data[i] == '%') {
            if (fmt.data[i + 1] == 'Y') {
                return 1;
            }
            i++;
        }
    }

    return 0;
}


size_t
evb_number_format(char out[EVB_NUMBER_MAX + 1], evb_str_t fmt, int year,
    evb_str_t node_id, uint64_t n)
{
    int     k;
    size_t  i, len;
    char    tmp[32];

    len = 0;

    for (i = 0; i < fmt.len; i++) {
        if (fmt.data[i] != '%' || i + 1 >= fmt.len) {
            tmp[0] = fmt.data[i];
            k = 1;

        } else if (fmt.data[i + 1] == 'Y') {
            k = snprintf(tmp, sizeof(tmp), "%04d", year);
            i++;

        } else if (fmt.data[i + 1] == 'I') {
            if (len + node_id.len > EVB_NUMBER_MAX) {
                return 0;
            }

            memcpy(out + len, node_id.data, node_id.len);
            len += node_id.len;
            i++;
            continue;

        } else {
            k = snprintf(tmp, sizeof(tmp), "%0*llu", fmt.data[i + 1] - '0',
                         (unsigned long long) n);
            i += 2;
        }

        if (k < 0 || len + (size_t) k > EVB_NUMBER_MAX) {
            return 0;
        }

        memcpy(out + len, tmp, (size_t) k);
        len += (size_t) k;
    }

    out[len] = '\0';

    return len;
}
