/*
 * Who is billed: customer and token bodies, the OCPI and document text
 * rules they share with the charger and session parsers, the ISO 3166-1
 * country list, and the renderers (see evb_party.h).
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "evb_pan.h"
#include "evb_party.h"


/*
 * ISO 3166-1 (from Debian's iso-codes), sorted by alpha-2: a binary
 * search finds an alpha-2 code, a scan converts alpha-3.
 */
static const struct {
    char        a2[3];
    char        a3[4];
} evb_countries[] = {
    { "AD", "AND" }, { "AE", "ARE" }, { "AF", "AFG" }, { "AG", "ATG" },
    { "AI", "AIA" }, { "AL", "ALB" }, { "AM", "ARM" }, { "AO", "AGO" },
    { "AQ", "ATA" }, { "AR", "ARG" }, { "AS", "ASM" }, { "AT", "AUT" },
    { "AU", "AUS" }, { "AW", "ABW" }, { "AX", "ALA" }, { "AZ", "AZE" },
    { "BA", "BIH" }, { "BB", "BRB" }, { "BD", "BGD" }, { "BE", "BEL" },
    { "BF", "BFA" }, { "BG", "BGR" }, { "BH", "BHR" }, { "BI", "BDI" },
    { "BJ", "BEN" }, { "BL", "BLM" }, { "BM", "BMU" }, { "BN", "BRN" },
    { "BO", "BOL" }, { "BQ", "BES" }, { "BR", "BRA" }, { "BS", "BHS" },
    { "BT", "BTN" }, { "BV", "BVT" }, { "BW", "BWA" }, { "BY", "BLR" },
    { "BZ", "BLZ" }, { "CA", "CAN" }, { "CC", "CCK" }, { "CD", "COD" },
    { "CF", "CAF" }, { "CG", "COG" }, { "CH", "CHE" }, { "CI", "CIV" },
    { "CK", "COK" }, { "CL", "CHL" }, { "CM", "CMR" }, { "CN", "CHN" },
    { "CO", "COL" }, { "CR", "CRI" }, { "CU", "CUB" }, { "CV", "CPV" },
    { "CW", "CUW" }, { "CX", "CXR" }, { "CY", "CYP" }, { "CZ", "CZE" },
    { "DE", "DEU" }, { "DJ", "DJI" }, { "DK", "DNK" }, { "DM", "DMA" },
    { "DO", "DOM" }, { "DZ", "DZA" }, { "EC", "ECU" }, { "EE", "EST" },
    { "EG", "EGY" }, { "EH", "ESH" }, { "ER", "ERI" }, { "ES", "ESP" },
    { "ET", "ETH" }, { "FI", "FIN" }, { "FJ", "FJI" }, { "FK", "FLK" },
    { "FM", "FSM" }, { "FO", "FRO" }, { "FR", "FRA" }, { "GA", "GAB" },
    { "GB", "GBR" }, { "GD", "GRD" }, { "GE", "GEO" }, { "GF", "GUF" },
    { "GG", "GGY" }, { "GH", "GHA" }, { "GI", "GIB" }, { "GL", "GRL" },
    { "GM", "GMB" }, { "GN", "GIN" }, { "GP", "GLP" }, { "GQ", "GNQ" },
    { "GR", "GRC" }, { "GS", "SGS" }, { "GT", "GTM" }, { "GU", "GUM" },
    { "GW", "GNB" }, { "GY", "GUY" }, { "HK", "HKG" }, { "HM", "HMD" },
    { "HN", "HND" }, { "HR", "HRV" }, { "HT", "HTI" }, { "HU", "HUN" },
    { "ID", "IDN" }, { "IE", "IRL" }, { "IL", "ISR" }, { "IM", "IMN" },
    { "IN", "IND" }, { "IO", "IOT" }, { "IQ", "IRQ" }, { "IR", "IRN" },
    { "IS", "ISL" }, { "IT", "ITA" }, { "JE", "JEY" }, { "JM", "JAM" },
    { "JO", "JOR" }, { "JP", "JPN" }, { "KE", "KEN" }, { "KG", "KGZ" },
    { "KH", "KHM" }, { "KI", "KIR" }, { "KM", "COM" }, { "KN", "KNA" },
    { "KP", "PRK" }, { "KR", "KOR" }, { "KW", "KWT" }, { "KY", "CYM" },
    { "KZ", "KAZ" }, { "LA", "LAO" }, { "LB", "LBN" }, { "LC", "LCA" },
    { "LI", "LIE" }, { "LK", "LKA" }, { "LR", "LBR" }, { "LS", "LSO" },
    { "LT", "LTU" }, { "LU", "LUX" }, { "LV", "LVA" }, { "LY", "LBY" },
    { "MA", "MAR" }, { "MC", "MCO" }, { "MD", "MDA" }, { "ME", "MNE" },
    { "MF", "MAF" }, { "MG", "MDG" }, { "MH", "MHL" }, { "MK", "MKD" },
    { "ML", "MLI" }, { "MM", "MMR" }, { "MN", "MNG" }, { "MO", "MAC" },
    { "MP", "MNP" }, { "MQ", "MTQ" }, { "MR", "MRT" }, { "MS", "MSR" },
    { "MT", "MLT" }, { "MU", "MUS" }, { "MV", "MDV" }, { "MW", "MWI" },
    { "MX", "MEX" }, { "MY", "MYS" }, { "MZ", "MOZ" }, { "NA", "NAM" },
    { "NC", "NCL" }, { "NE", "NER" }, { "NF", "NFK" }, { "NG", "NGA" },
    { "NI", "NIC" }, { "NL", "NLD" }, { "NO", "NOR" }, { "NP", "NPL" },
    { "NR", "NRU" }, { "NU", "NIU" }, { "NZ", "NZL" }, { "OM", "OMN" },
    { "PA", "PAN" }, { "PE", "PER" }, { "PF", "PYF" }, { "PG", "PNG" },
    { "PH", "PHL" }, { "PK", "PAK" }, { "PL", "POL" }, { "PM", "SPM" },
    { "PN", "PCN" }, { "PR", "PRI" }, { "PS", "PSE" }, { "PT", "PRT" },
    { "PW", "PLW" }, { "PY", "PRY" }, { "QA", "QAT" }, { "RE", "REU" },
    { "RO", "ROU" }, { "RS", "SRB" }, { "RU", "RUS" }, { "RW", "RWA" },
    { "SA", "SAU" }, { "SB", "SLB" }, { "SC", "SYC" }, { "SD", "SDN" },
    { "SE", "SWE" }, { "SG", "SGP" }, { "SH", "SHN" }, { "SI", "SVN" },
    { "SJ", "SJM" }, { "SK", "SVK" }, { "SL", "SLE" }, { "SM", "SMR" },
    { "SN", "SEN" }, { "SO", "SOM" }, { "SR", "SUR" }, { "SS", "SSD" },
    { "ST", "STP" }, { "SV", "SLV" }, { "SX", "SXM" }, { "SY", "SYR" },
    { "SZ", "SWZ" }, { "TC", "TCA" }, { "TD", "TCD" }, { "TF", "ATF" },
    { "TG", "TGO" }, { "TH", "THA" }, { "TJ", "TJK" }, { "TK", "TKL" },
    { "TL", "TLS" }, { "TM", "TKM" }, { "TN", "TUN" }, { "TO", "TON" },
    { "TR", "TUR" }, { "TT", "TTO" }, { "TV", "TUV" }, { "TW", "TWN" },
    { "TZ", "TZA" }, { "UA", "UKR" }, { "UG", "UGA" }, { "UM", "UMI" },
    { "US", "USA" }, { "UY", "URY" }, { "UZ", "UZB" }, { "VA", "VAT" },
    { "VC", "VCT" }, { "VE", "VEN" }, { "VG", "VGB" }, { "VI", "VIR" },
    { "VN", "VNM" }, { "VU", "VUT" }, { "WF", "WLF" }, { "WS", "WSM" },
    { "YE", "YEM" }, { "YT", "MYT" }, { "ZA", "ZAF" }, { "ZM", "ZMB" },
    { "ZW", "ZWE" },
};

#define EVB_NCOUNTRIES  (sizeof(evb_countries) / sizeof(evb_countries[0]))


/* OCPI 2.2.1 ConnectorType (mod_locations) */
static const char  *const evb_connector_standards[] = {
    "CHADEMO", "CHAOJI",
    "DOMESTIC_A", "DOMESTIC_B", "DOMESTIC_C", "DOMESTIC_D", "DOMESTIC_E",
    "DOMESTIC_F", "DOMESTIC_G", "DOMESTIC_H", "DOMESTIC_I", "DOMESTIC_J",
    "DOMESTIC_K", "DOMESTIC_L", "DOMESTIC_M", "DOMESTIC_N", "DOMESTIC_O",
    "GBT_AC", "GBT_DC",
    "IEC_60309_2_single_16", "IEC_60309_2_three_16",
    "IEC_60309_2_three_32", "IEC_60309_2_three_64",
    "IEC_62196_T1", "IEC_62196_T1_COMBO", "IEC_62196_T2",
    "IEC_62196_T2_COMBO", "IEC_62196_T3A", "IEC_62196_T3C",
    "NEMA_5_20", "NEMA_6_30", "NEMA_6_50", "NEMA_10_30", "NEMA_10_50",
    "NEMA_14_30", "NEMA_14_50",
    "PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN",
    "TESLA_R", "TESLA_S",
    NULL
};


static const struct {
    const char        *name;
    evb_token_type_e   type;
} evb_party_token_types[] = {
    { "RFID", EVB_TOKEN_RFID },
    { "APP_USER", EVB_TOKEN_APP_USER },
    { "AD_HOC_USER", EVB_TOKEN_AD_HOC_USER },
    { "OTHER", EVB_TOKEN_OTHER },
    { NULL, 0 }
};


/* text rules */

int
evb_ocpi_string_ok(evb_str_t s, size_t max)
{
    size_t  i;

    if (s.len < 1 || s.len > max) {
        return 0;
    }

    for (i = 0; i < s.len; i++) {
        if (s.data[i] < 0x20 || s.data[i] > 0x7e) {
            return 0;
        }
    }

    return 1;
}


int
evb_text_ok(evb_str_t s, size_t max)
{
    size_t          i, chars;
    unsigned char   c;
    const unsigned char  *p;

    p = (const unsigned char *) s.data;
    chars = 0;

    for (i = 0; i < s.len; i++) {
        c = p[i];

        /* C0 (tab and newline too: one-line fields) and DEL */
        if (c < 0x20 || c == 0x7f) {
            return 0;
        }

        /* C1: U+0080..U+009F is C2 80..C2 9F */
        if (c == 0xc2 && i + 1 < s.len && p[i + 1] >= 0x80
            && p[i + 1] <= 0x9f)
        {
            return 0;
        }

        /* U+FFFE, U+FFFF (EF BF BE, EF BF BF): not XML 1.0 characters */
        if (c == 0xef && i + 2 < s.len && p[i + 1] == 0xbf
            && (p[i + 2] == 0xbe || p[i + 2] == 0xbf))
        {
            return 0;
        }

        /* characters, not bytes (the JSON reader checked the UTF-8) */
        if ((c & 0xc0) != 0x80) {
            chars++;
        }
    }

    return chars >= 1 && chars <= max;
}


int
evb_connector_standard_ok(evb_str_t s)
{
    size_t  i;

    for (i = 0; evb_connector_standards[i]; i++) {
        if (strlen(evb_connector_standards[i]) == s.len
            && memcmp(evb_connector_standards[i], s.data, s.len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


int
evb_country_alpha2_ok(evb_str_t s)
{
    int     c;
    size_t  lo, hi, mid;

    if (s.len != 2) {
        return 0;
    }

    lo = 0;
    hi = EVB_NCOUNTRIES;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        c = memcmp(s.data, evb_countries[mid].a2, 2);

        if (c == 0) {
            return 1;
        }

        if (c < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    return 0;
}


const char *
evb_country_alpha2(evb_str_t alpha3)
{
    size_t  i;

    if (alpha3.len != 3) {
        return NULL;
    }

    for (i = 0; i < EVB_NCOUNTRIES; i++) {
        if (memcmp(evb_countries[i].a3, alpha3.data, 3) == 0) {
            return evb_countries[i].a2;
        }
    }

    return NULL;
}


size_t
evb_token_key(evb_str_t uid, char *buf)
{
    size_t  i;
    char    c;

    if (!evb_ocpi_string_ok(uid, EVB_OCPI_ID_MAX)) {
        return 0;
    }

    for (i = 0; i < uid.len; i++) {
        c = uid.data[i];
        buf[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
    }

    return uid.len;
}


/* a string member, or -1 */
static int
evb_place_str(const evb_json_t *obj, const char *name, evb_str_t *out)
{
    const evb_json_t  *v;

    v = evb_json_get(obj, name);

    if (v == NULL || v->type != EVB_JSON_STRING) {
        return -1;
    }

    *out = v->u.str;

    return 0;
}


int
evb_session_start_place(evb_arena_t *a, const evb_session_start_t *st,
    evb_place_t *out)
{
    evb_json_t  *doc, *loc, *con;

    memset(out, 0, sizeof(evb_place_t));

    if (st->charger_doc.len == 0
        || evb_json_parse(a, st->charger_doc.data, st->charger_doc.len, 8,
                          &doc, NULL, 0)
           != EVB_JSON_OK)
    {
        return -1;
    }

    loc = evb_json_get(doc, "location");
    con = evb_json_get(doc, "connector");

    if (loc == NULL || con == NULL
        || evb_place_str(loc, "id", &out->location_id) != 0
        || evb_place_str(loc, "name", &out->name) != 0
        || evb_place_str(loc, "address", &out->address) != 0
        || evb_place_str(loc, "city", &out->city) != 0
        || evb_place_str(loc, "postal_code", &out->postal_code) != 0
        || evb_place_str(loc, "country", &out->country) != 0
        || evb_place_str(doc, "evse_uid", &out->evse_uid) != 0
        || evb_place_str(doc, "evse_id", &out->evse_id) != 0
        || evb_place_str(con, "standard", &out->connector_standard) != 0
        || evb_place_str(con, "format", &out->connector_format) != 0
        || evb_place_str(con, "power_type", &out->connector_power_type)
           != 0)
    {
        return -1;
    }

    return 0;
}


/*
 * Body parsing: every bad field is reported with its JSON Pointer, the
 * first also as the detail ("address.city: ...").
 */
typedef struct {
    char               *detail;
    size_t              len;
    evb_field_error_t  *errors;
    size_t             *nerrors;
    evb_problem_e       first;
} evb_pp_t;


#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
evb_pp_fail(evb_pp_t *pp, evb_problem_e p, const char *ptr,
    const char *fmt, ...)
{
    int      n;
    char     msg[160];
    size_t   i;
    va_list  args;

    va_start(args, fmt);
    vsnprintf(msg, sizeof(msg), fmt, args);
    va_end(args);

    if (pp->first == EVB_OK) {
        pp->first = p;

        if (pp->detail != NULL && pp->len != 0) {
            /* "/address/city" reads "address.city" */
            n = snprintf(pp->detail, pp->len, "%s: %s",
                         ptr[0] ? ptr + 1 : "body", msg);

            for (i = 0; n > 0 && i < (size_t) n && i < pp->len
                 && pp->detail[i] != ':'; i++)
            {
                if (pp->detail[i] == '/') {
                    pp->detail[i] = '.';
                }
            }
        }
    }

    evb_field_error_add(pp->errors, pp->nerrors, p, ptr, msg);
}


/* refuse members other than names (RFC 6901 escapes in the pointer) */
static void
evb_pp_known(evb_pp_t *pp, const evb_json_t *obj, const char *prefix,
    const char *const *names)
{
    size_t        i, j, n;
    const char   *k;
    const char  *const *p;
    char          ptr[96];

    for (i = 0; i < obj->u.obj.n; i++) {
        k = obj->u.obj.members[i].key.data;

        for (p = names; *p; p++) {
            if (strcmp(*p, k) == 0) {
                break;
            }
        }

        if (*p) {
            continue;
        }

        n = (size_t) snprintf(ptr, sizeof(ptr), "%s/", prefix);

        for (j = 0; k[j] && n + 3 < sizeof(ptr); j++) {
            if (k[j] == '~' || k[j] == '/') {
                ptr[n++] = '~';
                ptr[n++] = k[j] == '~' ? '0' : '1';

            } else {
                ptr[n++] = k[j];
            }
        }

        ptr[n] = '\0';

        evb_pp_fail(pp, EVB_P_INVALID_VALUE, ptr, "unknown field");
    }
}


/* the member's value: NULL when absent or null (and optional) */
static const evb_json_t *
evb_pp_member(evb_pp_t *pp, const evb_json_t *obj, const char *name,
    const char *ptr, int required)
{
    evb_json_t  *v;

    v = evb_json_get(obj, name);

    if (v == NULL || (v->type == EVB_JSON_NULL && !required)) {
        if (required) {
            evb_pp_fail(pp, EVB_P_MISSING_FIELD, ptr, "is required");
        }

        return NULL;
    }

    return v;
}


/* a string member: 1 when present and a string */
static int
evb_pp_str(evb_pp_t *pp, const evb_json_t *obj, const char *name,
    const char *ptr, int required, evb_str_t *out)
{
    const evb_json_t  *v;

    out->data = NULL;
    out->len = 0;

    v = evb_pp_member(pp, obj, name, ptr, required);
    if (v == NULL) {
        return 0;
    }

    if (v->type != EVB_JSON_STRING) {
        evb_pp_fail(pp, EVB_P_INVALID_TYPE, ptr, "must be a string");
        return 0;
    }

    *out = v->u.str;

    return 1;
}


/* free text: names and addresses, never a card number (evb_pan.h) */
static void
evb_pp_text(evb_pp_t *pp, const evb_json_t *obj, const char *name,
    const char *ptr, int required, size_t max, evb_str_t *out)
{
    if (!evb_pp_str(pp, obj, name, ptr, required, out)) {
        return;
    }

    if (!evb_text_ok(*out, max)) {
        evb_pp_fail(pp, EVB_P_INVALID_VALUE, ptr, "must be 1 to %zu "
                    "characters without control characters, U+FFFE or "
                    "U+FFFF", max);

    } else if (evb_pan_in(*out)) {
        evb_pp_fail(pp, EVB_P_CARD_DATA, ptr, "%s", EVB_PAN_REFUSED);
    }
}


static const evb_json_t *
evb_pp_obj(evb_pp_t *pp, const evb_json_t *obj, const char *name,
    const char *ptr, int required)
{
    const evb_json_t  *v;

    v = evb_pp_member(pp, obj, name, ptr, required);
    if (v == NULL) {
        return NULL;
    }

    if (v->type != EVB_JSON_OBJECT) {
        evb_pp_fail(pp, EVB_P_INVALID_TYPE, ptr, "must be an object");
        return NULL;
    }

    return v;
}


static int
evb_pp_root(evb_pp_t *pp, const evb_json_t *root)
{
    if (root == NULL || root->type != EVB_JSON_OBJECT) {
        evb_pp_fail(pp, EVB_P_INVALID_TYPE, "", "must be a JSON object");

        if (pp->detail && pp->len) {
            snprintf(pp->detail, pp->len, "the body must be a JSON object");
        }

        return 0;
    }

    return 1;
}


/* local@domain, printable ASCII without spaces, one '@' */
static int
evb_email_ok(evb_str_t s)
{
    size_t  i, at, ats;

    if (s.len < 3 || s.len > EVB_CUSTOMER_EMAIL_MAX
        || !evb_ocpi_string_ok(s, EVB_CUSTOMER_EMAIL_MAX))
    {
        return 0;
    }

    at = 0;
    ats = 0;

    for (i = 0; i < s.len; i++) {
        if (s.data[i] == ' ' || s.data[i] == '<' || s.data[i] == '>'
            || s.data[i] == '"' || s.data[i] == '\\')
        {
            return 0;
        }

        if (s.data[i] == '@') {
            at = i;
            ats++;
        }
    }

    return ats == 1 && at > 0 && at + 1 < s.len;
}


/* EN 16931 BT-48: an ISO 3166-1 alpha-2 prefix (or EL, XI) and the
 * national number */
static int
evb_vat_id_ok(evb_str_t s)
{
    size_t  i;
    char    c;

    if (s.len < 4 || s.len > EVB_CUSTOMER_VAT_MAX
        || s.data[0] < 'A' || s.data[0] > 'Z'
        || s.data[1] < 'A' || s.data[1] > 'Z')
    {
        return 0;
    }

    for (i = 2; i < s.len; i++) {
        c = s.data[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '+' || c == '*'
              || c == '.'))
        {
            return 0;
        }
    }

    return 1;
}


static int
evb_str_is(evb_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}


evb_problem_e
evb_parse_customer(evb_arena_t *a, const evb_json_t *root,
    evb_str_t customer_id, evb_customer_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors)
{
    int64_t             v;
    evb_str_t           s;
    evb_pp_t            pp = { detail, len, NULL, NULL, EVB_OK };
    evb_num_err_e       e;
    const evb_json_t   *addr, *terms;

    static const char  *const top[] = {
        "name", "email", "address", "vat_id", "invoicing",
        "payment_terms_days", "language", NULL
    };
    static const char  *const fields[] = {
        "street", "city", "postal_code", "country", NULL
    };
    static const evb_str_t  en = evb_str_lit("en");

    (void) a;    /* strings point into the tree */

    memset(out, 0, sizeof(evb_customer_t));
    out->payment_terms_days = EVB_TERMS_UNSET;
    out->language = en;

    /* from the path, not the body: no pointer */
    if (!evb_id_valid(customer_id.data, customer_id.len)) {
        if (detail && len) {
            snprintf(detail, len, "customer_id: must be 1 to 64 printable "
                     "ASCII characters without '/'");
        }

        return EVB_P_INVALID_VALUE;
    }

    out->customer_id = customer_id;
    pp.errors = errors;
    pp.nerrors = nerrors;

    if (!evb_pp_root(&pp, root)) {
        return pp.first;
    }

    evb_pp_known(&pp, root, "", top);

    evb_pp_text(&pp, root, "name", "/name", 1, EVB_CUSTOMER_NAME_MAX,
                &out->buyer.name);

    if (evb_pp_str(&pp, root, "email", "/email", 1, &out->buyer.email)
        && !evb_email_ok(out->buyer.email))
    {
        evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/email", "must be an e-mail "
                    "address (local@domain, up to %d characters)",
                    EVB_CUSTOMER_EMAIL_MAX);
    }

    addr = evb_pp_obj(&pp, root, "address", "/address", 1);

    if (addr) {
        evb_pp_known(&pp, addr, "/address", fields);

        evb_pp_text(&pp, addr, "street", "/address/street", 1,
                    EVB_CUSTOMER_STREET_MAX, &out->buyer.address.street);
        evb_pp_text(&pp, addr, "city", "/address/city", 1,
                    EVB_CUSTOMER_CITY_MAX, &out->buyer.address.city);
        evb_pp_text(&pp, addr, "postal_code", "/address/postal_code", 0,
                    EVB_CUSTOMER_POSTAL_MAX, &out->buyer.address.postal_code);

        if (evb_pp_str(&pp, addr, "country", "/address/country", 1,
                       &out->buyer.address.country)
            && !evb_country_alpha2_ok(out->buyer.address.country))
        {
            evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/address/country",
                        "must be an ISO 3166-1 alpha-2 code (\"DE\")");
        }
    }

    if (evb_pp_str(&pp, root, "vat_id", "/vat_id", 0, &out->buyer.vat_id)
        && !evb_vat_id_ok(out->buyer.vat_id))
    {
        evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/vat_id", "must be a VAT id "
                    "with its country prefix (\"DE123456789\"), 4 to %d "
                    "letters and digits", EVB_CUSTOMER_VAT_MAX);
    }

    if (evb_pp_str(&pp, root, "invoicing", "/invoicing", 1, &s)) {
        if (evb_str_is(s, "per_session")) {
            out->invoicing = EVB_INVOICING_PER_SESSION;

        } else if (evb_str_is(s, "monthly")) {
            out->invoicing = EVB_INVOICING_MONTHLY;

        } else {
            evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/invoicing",
                        "must be one of \"per_session\", \"monthly\"");
        }
    }

    terms = evb_pp_member(&pp, root, "payment_terms_days",
                          "/payment_terms_days", 0);

    if (terms) {
        e = evb_json_int64(terms, &v);

        if (e == EVB_NUM_NOT_NUMBER) {
            evb_pp_fail(&pp, EVB_P_INVALID_TYPE, "/payment_terms_days",
                        "must be an integer from 0 to %d", EVB_TERMS_MAX);

        } else if (e == EVB_NUM_NOT_INTEGER) {
            evb_pp_fail(&pp, EVB_P_NOT_AN_INTEGER, "/payment_terms_days",
                        "must be an integer from 0 to %d", EVB_TERMS_MAX);

        } else if (e != EVB_NUM_OK || v < 0 || v > EVB_TERMS_MAX) {
            evb_pp_fail(&pp, EVB_P_OUT_OF_RANGE, "/payment_terms_days",
                        "must be an integer from 0 to %d", EVB_TERMS_MAX);

        } else {
            out->payment_terms_days = (int) v;
        }
    }

    if (evb_pp_str(&pp, root, "language", "/language", 0, &s)) {
        if (evb_str_is(s, "en") || evb_str_is(s, "de")) {
            out->language = s;

        } else {
            evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/language",
                        "must be one of \"en\", \"de\"");
        }
    }

    return pp.first;
}


evb_problem_e
evb_parse_token(evb_arena_t *a, const evb_json_t *root, evb_str_t uid,
    evb_token_rec_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors)
{
    size_t              i;
    evb_str_t           s;
    evb_pp_t            pp = { detail, len, NULL, NULL, EVB_OK };
    const evb_json_t   *issuer;

    static const char  *const top[] = {
        "customer_id", "type", "contract_id", "issuer", NULL
    };
    static const char  *const iss[] = {
        "country_code", "party_id", NULL
    };

    (void) a;

    memset(out, 0, sizeof(evb_token_rec_t));

    if (!evb_ocpi_string_ok(uid, EVB_OCPI_ID_MAX)) {
        if (detail && len) {
            snprintf(detail, len, "uid: must be 1 to %d printable ASCII "
                     "characters (OCPI CiString(36))", EVB_OCPI_ID_MAX);
        }

        return EVB_P_INVALID_VALUE;
    }

    out->uid = uid;
    pp.errors = errors;
    pp.nerrors = nerrors;

    if (!evb_pp_root(&pp, root)) {
        return pp.first;
    }

    evb_pp_known(&pp, root, "", top);

    if (evb_pp_str(&pp, root, "customer_id", "/customer_id", 1,
                   &out->customer_id)
        && !evb_id_valid(out->customer_id.data, out->customer_id.len))
    {
        evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/customer_id", "must be 1 to "
                    "64 printable ASCII characters without '/'");
    }

    if (evb_pp_str(&pp, root, "type", "/type", 1, &s)) {
        for (i = 0; evb_party_token_types[i].name; i++) {
            if (evb_str_is(s, evb_party_token_types[i].name)) {
                out->type = evb_party_token_types[i].type;
                break;
            }
        }

        if (evb_party_token_types[i].name == NULL) {
            evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/type", "must be one of "
                        "\"RFID\", \"APP_USER\", \"AD_HOC_USER\", "
                        "\"OTHER\"");
        }
    }

    if (evb_pp_str(&pp, root, "contract_id", "/contract_id", 0,
                   &out->contract_id)
        && !evb_ocpi_string_ok(out->contract_id, EVB_OCPI_ID_MAX))
    {
        evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/contract_id", "must be 1 to "
                    "%d printable ASCII characters (OCPI CiString(36))",
                    EVB_OCPI_ID_MAX);
    }

    issuer = evb_pp_obj(&pp, root, "issuer", "/issuer", 0);

    if (issuer) {
        evb_pp_known(&pp, issuer, "/issuer", iss);

        if (evb_pp_str(&pp, issuer, "country_code", "/issuer/country_code",
                       1, &out->issuer_country)
            && !evb_country_alpha2_ok(out->issuer_country))
        {
            evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/issuer/country_code",
                        "must be an ISO 3166-1 alpha-2 code (\"NL\")");
        }

        if (evb_pp_str(&pp, issuer, "party_id", "/issuer/party_id", 1,
                       &out->issuer_party))
        {
            s = out->issuer_party;

            for (i = 0; i < s.len; i++) {
                if (!((s.data[i] >= 'A' && s.data[i] <= 'Z')
                      || (s.data[i] >= '0' && s.data[i] <= '9')))
                {
                    break;
                }
            }

            if (s.len != 3 || i != s.len) {
                evb_pp_fail(&pp, EVB_P_INVALID_VALUE, "/issuer/party_id",
                            "must be 3 upper-case letters or digits "
                            "(OCPI party id)");
            }
        }
    }

    return pp.first;
}


/* renderers */

static void
evb_party_key(evb_buf_t *b, const char *key)
{
    evb_buf_appends(b, ",\"");
    evb_buf_appends(b, key);
    evb_buf_appends(b, "\":");
}


static void
evb_party_str(evb_buf_t *b, const char *key, evb_str_t s)
{
    evb_party_key(b, key);

    if (s.len) {
        evb_buf_append_json_str(b, s.data, s.len);

    } else {
        evb_buf_appends(b, "null");
    }
}


void
evb_render_customer(evb_buf_t *b, evb_view_e view, const evb_customer_t *c)
{
    (void) view;    /* one view so far: the admin's */

    evb_buf_appends(b, "{\"customer_id\":");
    evb_buf_append_json_str(b, c->customer_id.data, c->customer_id.len);
    evb_party_str(b, "name", c->buyer.name);
    evb_party_str(b, "email", c->buyer.email);
    evb_buf_appends(b, ",\"address\":{\"street\":");
    evb_buf_append_json_str(b, c->buyer.address.street.data,
                            c->buyer.address.street.len);
    evb_party_str(b, "city", c->buyer.address.city);
    evb_party_str(b, "postal_code", c->buyer.address.postal_code);
    evb_party_str(b, "country", c->buyer.address.country);
    evb_buf_appends(b, "}");
    evb_party_str(b, "vat_id", c->buyer.vat_id);
    evb_party_key(b, "invoicing");
    evb_buf_appends(b, c->invoicing == EVB_INVOICING_MONTHLY
                       ? "\"monthly\"" : "\"per_session\"");
    evb_party_key(b, "payment_terms_days");

    if (c->payment_terms_days == EVB_TERMS_UNSET) {
        evb_buf_appends(b, "null");

    } else {
        evb_buf_append_i64(b, c->payment_terms_days);
    }

    evb_party_str(b, "language", c->language);
    evb_party_key(b, "retired");
    evb_buf_appends(b, c->retired ? "true" : "false");
    evb_party_key(b, "created_at");
    evb_buf_append_json_time(b, c->created_at);
    evb_party_key(b, "updated_at");
    evb_buf_append_json_time(b, c->updated_at);

    if (c->retired) {
        evb_party_key(b, "retired_at");
        evb_buf_append_json_time(b, c->retired_at);
    }

    evb_buf_appends(b, "}");
}


void
evb_render_customer_page(evb_buf_t *b, evb_view_e view,
    const evb_customer_t *items, size_t n, const char *next)
{
    size_t  i;

    evb_buf_appends(b, "{\"items\":[");

    for (i = 0; i < n; i++) {
        if (i) {
            evb_buf_appends(b, ",");
        }

        evb_render_customer(b, view, &items[i]);
    }

    evb_buf_appends(b, "],\"next\":");

    if (next && next[0]) {
        evb_buf_append_json_str(b, next, strlen(next));

    } else {
        evb_buf_appends(b, "null");
    }

    evb_buf_appends(b, "}");
}


void
evb_render_token(evb_buf_t *b, evb_view_e view, const evb_token_rec_t *t)
{
    (void) view;

    evb_buf_appends(b, "{\"uid\":");
    evb_buf_append_json_str(b, t->uid.data, t->uid.len);
    evb_party_key(b, "type");
    evb_buf_appends(b, "\"");
    evb_buf_appends(b, evb_token_type_name(t->type));
    evb_buf_appends(b, "\"");
    evb_party_str(b, "customer_id", t->customer_id);
    evb_party_str(b, "contract_id", t->contract_id);
    evb_party_key(b, "issuer");

    if (t->issuer_country.len) {
        evb_buf_appends(b, "{\"country_code\":");
        evb_buf_append_json_str(b, t->issuer_country.data,
                                t->issuer_country.len);
        evb_party_str(b, "party_id", t->issuer_party);
        evb_buf_appends(b, "}");

    } else {
        evb_buf_appends(b, "null");
    }

    evb_party_key(b, "created_at");
    evb_buf_append_json_time(b, t->created_at);
    evb_party_key(b, "updated_at");
    evb_buf_append_json_time(b, t->updated_at);
    evb_buf_appends(b, "}");
}


void
evb_render_token_deleted(evb_buf_t *b, evb_view_e view, evb_str_t uid)
{
    (void) view;

    evb_buf_appends(b, "{\"uid\":");
    evb_buf_append_json_str(b, uid.data, uid.len);
    evb_buf_appends(b, ",\"deleted\":true}");
}


void
evb_render_session_start_members(evb_buf_t *b, evb_view_e view,
    const evb_session_start_t *st, evb_str_t cpo_country,
    evb_str_t cpo_party)
{
    (void) view;

    evb_party_str(b, "customer_id", st->customer_id);
    evb_party_key(b, "cdr_token");
    evb_buf_appends(b, "{\"country_code\":");

    if (st->token_country.len) {
        evb_buf_append_json_str(b, st->token_country.data,
                                st->token_country.len);
        evb_party_str(b, "party_id", st->token_party);

    } else {
        evb_buf_append_json_str(b, cpo_country.data, cpo_country.len);
        evb_party_str(b, "party_id", cpo_party);
    }

    evb_party_str(b, "uid", st->token_uid);
    evb_party_key(b, "type");
    evb_buf_appends(b, "\"");
    evb_buf_appends(b, evb_token_type_name(st->token_type));
    evb_buf_appends(b, "\"");
    evb_party_str(b, "contract_id", st->contract_id.len ? st->contract_id
                                                          : st->token_uid);
    evb_buf_appends(b, "}");
    evb_party_key(b, "token_known");
    evb_buf_appends(b, st->token_known ? "true" : "false");
}


void
evb_render_session_add_start(evb_buf_t *b, evb_view_e view,
    const evb_session_start_t *st, evb_str_t cpo_country,
    evb_str_t cpo_party)
{
    if (b->oom || b->len == 0 || b->data[b->len - 1] != '}') {
        return;
    }

    /* reopen the object: its members follow the session's own */
    b->len--;
    evb_render_session_start_members(b, view, st, cpo_country, cpo_party);
    evb_buf_appends(b, "}");
}
