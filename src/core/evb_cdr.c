/*
 * OCPI 2.2.1 CDR rendering (mod_cdrs, CDR object).
 *
 * Number formats:
 *   - energy (kWh, from 10^-9 kWh), current (A, from 10^-6 A) and power
 *     (kW, from 10^-6 kW) are exact decimals: every digit the engine has;
 *   - hours come from microseconds, and us / 3.6e9 is a finite decimal
 *     only when the count is a multiple of 9: durations are rendered
 *     rounded half-up to 9 decimals (3.6 us; OCPI's convention is 4),
 *     fine enough that the whole milliseconds behind them can be read
 *     back exactly.  The totals are the engine's exact totals rounded the
 *     same way, not sums of rounded period volumes;
 *   - costs are the engine's totals rounded to the currency's minor unit
 *     under the deployment's policy (what the driver is billed), printed
 *     with at least that many decimals.
 */

#include <stdio.h>
#include <string.h>

#include "evb_cdr.h"
#include "evb_json.h"
#include "evb_money.h"


static void
evb_cdr_key(evb_buf_t *b, const char *key, int first)
{
    evb_buf_appends(b, first ? "\"" : ",\"");
    evb_buf_appends(b, key);
    evb_buf_appends(b, "\":");
}


static void
evb_cdr_str(evb_buf_t *b, const char *key, evb_str_t s, int first)
{
    evb_cdr_key(b, key, first);
    evb_buf_append_json_str(b, s.data, s.len);
}


static void
evb_cdr_time(evb_buf_t *b, const char *key, evb_msec_t t)
{
    evb_cdr_key(b, key, 0);
    evb_buf_append_json_time(b, t);
}


/*
 * Hours from us, rounded half-up (away from zero) to 10^-9 h (3.6 us).
 * Volumes are whole milliseconds, and the rounding moves them by at most
 * 1.8 us, so a rater that snaps time volumes to the ms (the dry run
 * does) reads back exactly the durations this CDR was priced with.
 */
static void
evb_cdr_hours(evb_buf_t *b, int64_t us)
{
    int64_t  v;

    if (evb_div_round((evb_i128_t) us * 10, 36, EVB_ROUND_HALF_UP, &v)
        != 0)
    {
        v = 0;                      /* |us| < 2^63: cannot happen */
    }

    evb_buf_append_decimal(b, v, 9, 0);
}


/* A string member of the charger doc, copied; -1 if absent (and
 * required) or not a string. */
static int
evb_cdr_doc_str(evb_buf_t *b, const evb_json_t *obj, const char *name,
    const char *key, int required)
{
    evb_json_t  *v;

    v = evb_json_get(obj, name);

    if (v == NULL || v->type == EVB_JSON_NULL) {
        return required ? -1 : 0;
    }

    if (v->type != EVB_JSON_STRING) {
        return -1;
    }

    evb_cdr_str(b, key, v->u.str, 0);

    return 0;
}


static int
evb_cdr_location(evb_buf_t *b, evb_arena_t *a, const evb_cdr_t *cdr)
{
    int          n;
    char         num[16];
    evb_str_t    s;
    evb_json_t  *doc, *loc, *coord, *con, *v;

    static const struct {
        const char  *name;
        int          required;
    } fields[] = {
        { "name", 0 },
        { "address", 1 },
        { "city", 1 },
        { "postal_code", 0 },
        { "country", 1 },
    };

    if (cdr->charger == NULL
        || evb_json_parse(a, cdr->charger->doc.data, cdr->charger->doc.len,
                          8, &doc, NULL, 0)
           != EVB_JSON_OK)
    {
        return -1;
    }

    loc = evb_json_get(doc, "location");
    con = evb_json_get(doc, "connector");

    if (loc == NULL || loc->type != EVB_JSON_OBJECT
        || con == NULL || con->type != EVB_JSON_OBJECT)
    {
        return -1;
    }

    /* "id" first, so the object reads in the spec's order */
    evb_cdr_key(b, "cdr_location", 0);
    evb_buf_appends(b, "{");

    v = evb_json_get(loc, "id");
    if (v == NULL || v->type != EVB_JSON_STRING) {
        return -1;
    }

    evb_cdr_str(b, "id", v->u.str, 1);

    for (n = 0; n < (int) (sizeof(fields) / sizeof(fields[0])); n++) {
        if (evb_cdr_doc_str(b, loc, fields[n].name, fields[n].name,
                            fields[n].required)
            != 0)
        {
            return -1;
        }
    }

    coord = evb_json_get(loc, "coordinates");
    if (coord == NULL || coord->type != EVB_JSON_OBJECT) {
        return -1;
    }

    evb_cdr_key(b, "coordinates", 0);
    evb_buf_appends(b, "{");

    /* the first member takes no comma: by hand */
    v = evb_json_get(coord, "latitude");
    if (v == NULL || v->type != EVB_JSON_STRING) {
        return -1;
    }

    evb_cdr_str(b, "latitude", v->u.str, 1);

    if (evb_cdr_doc_str(b, coord, "longitude", "longitude", 1) != 0) {
        return -1;
    }

    evb_buf_appends(b, "}");

    if (evb_cdr_doc_str(b, doc, "evse_uid", "evse_uid", 1) != 0
        || evb_cdr_doc_str(b, doc, "evse_id", "evse_id", 1) != 0)
    {
        return -1;
    }

    n = snprintf(num, sizeof(num), "%u",
                 (unsigned) cdr->session->connector_id);
    s.data = num;
    s.len = (size_t) n;
    evb_cdr_str(b, "connector_id", s, 0);

    if (evb_cdr_doc_str(b, con, "standard", "connector_standard", 1) != 0
        || evb_cdr_doc_str(b, con, "format", "connector_format", 1) != 0
        || evb_cdr_doc_str(b, con, "power_type", "connector_power_type", 1)
           != 0)
    {
        return -1;
    }

    evb_buf_appends(b, "}");

    return 0;
}


static void
evb_cdr_dim(evb_buf_t *b, const char *type, int *first)
{
    evb_buf_appends(b, *first ? "{\"type\":\"" : ",{\"type\":\"");
    evb_buf_appends(b, type);
    evb_buf_appends(b, "\",\"volume\":");
    *first = 0;
}


static void
evb_cdr_period(evb_buf_t *b, const evb_period_t *p, evb_str_t tariff_id)
{
    int  first;

    evb_buf_appends(b, "{\"start_date_time\":");
    evb_buf_append_json_time(b, p->start);
    evb_buf_appends(b, ",\"dimensions\":[");

    first = 1;

    /* ENERGY always, so no period has an empty dimensions list */
    evb_cdr_dim(b, "ENERGY", &first);
    evb_buf_append_decimal(b, p->energy, 9, 0);
    evb_buf_appends(b, "}");

    /* a zero-length charging period with energy still says TIME 0 */
    if (p->time != 0 || (p->parking == 0 && p->reservation == 0)) {
        evb_cdr_dim(b, "TIME", &first);
        evb_cdr_hours(b, p->time);
        evb_buf_appends(b, "}");
    }

    if (p->parking != 0) {
        evb_cdr_dim(b, "PARKING_TIME", &first);
        evb_cdr_hours(b, p->parking);
        evb_buf_appends(b, "}");
    }

    if (p->reservation != 0) {
        evb_cdr_dim(b, "RESERVATION_TIME", &first);
        evb_cdr_hours(b, p->reservation);
        evb_buf_appends(b, "}");
    }

    if (p->has_min_current) {
        evb_cdr_dim(b, "MIN_CURRENT", &first);
        evb_buf_append_decimal(b, p->min_current, 6, 0);
        evb_buf_appends(b, "}");
    }

    if (p->has_max_current) {
        evb_cdr_dim(b, "MAX_CURRENT", &first);
        evb_buf_append_decimal(b, p->max_current, 6, 0);
        evb_buf_appends(b, "}");
    }

    if (p->has_min_power) {
        evb_cdr_dim(b, "MIN_POWER", &first);
        evb_buf_append_decimal(b, p->min_power, 6, 0);
        evb_buf_appends(b, "}");
    }

    if (p->has_max_power) {
        evb_cdr_dim(b, "MAX_POWER", &first);
        evb_buf_append_decimal(b, p->max_power, 6, 0);
        evb_buf_appends(b, "}");
    }

    evb_buf_appends(b, "]");

    if (p->tariff_id.len) {
        tariff_id = p->tariff_id;
    }

    if (tariff_id.len) {
        evb_cdr_str(b, "tariff_id", tariff_id, 0);
    }

    evb_buf_appends(b, "}");
}


static void
evb_cdr_amount(evb_buf_t *b, const char *key, const evb_amount_t *a,
    int exponent)
{
    evb_cdr_key(b, key, 0);
    evb_render_amount(b, a, exponent > 0 ? (unsigned) exponent : 0);
}


int
evb_cdr_render(evb_buf_t *b, evb_arena_t *a, const evb_cdr_t *cdr)
{
    size_t                      i, n, mark;
    evb_period_t                empty;
    const evb_session_t        *s;
    const evb_rate_result_t    *r;
    const evb_session_start_t  *st;

    s = cdr->session;
    r = cdr->result;

    if (s == NULL || r == NULL || (cdr->nperiods && cdr->periods == NULL)) {
        return -1;
    }

    mark = b->len;

    evb_buf_appends(b, "{");
    evb_cdr_str(b, "country_code", cdr->country_code, 1);
    evb_cdr_str(b, "party_id", cdr->party_id, 0);
    evb_cdr_str(b, "id", cdr->id, 0);
    evb_cdr_time(b, "start_date_time", s->started_at);
    evb_cdr_time(b, "end_date_time", cdr->end);
    evb_cdr_str(b, "session_id", s->session_id, 0);

    /* The token as the start resolved it: a token record gives its
     * issuer and contract id; a token without one (or a session stored
     * before start records) was authorised by the CPO itself, so its
     * country_code/party_id are the CPO's and the uid is the best
     * contract_id available. */
    st = cdr->start;
    evb_cdr_key(b, "cdr_token", 0);
    evb_buf_appends(b, "{");

    if (st && st->token_country.len && st->token_party.len) {
        evb_cdr_str(b, "country_code", st->token_country, 1);
        evb_cdr_str(b, "party_id", st->token_party, 0);

    } else {
        evb_cdr_str(b, "country_code", cdr->country_code, 1);
        evb_cdr_str(b, "party_id", cdr->party_id, 0);
    }

    evb_cdr_str(b, "uid", s->id_token, 0);
    evb_cdr_key(b, "type", 0);
    evb_buf_appends(b, "\"");
    evb_buf_appends(b, evb_token_type_name(s->token_type));
    evb_buf_appends(b, "\"");
    evb_cdr_str(b, "contract_id", st && st->contract_id.len
                                  ? st->contract_id : s->id_token, 0);
    evb_buf_appends(b, "}");

    /* AuthMethod: an RFID card (or other local token) is checked
     * against the CPO's list (WHITELIST); an app or ad-hoc user starts
     * the session remotely, i.e. by a command (COMMAND).  evbill never
     * asks an eMSP in real time, so AUTH_REQUEST never applies. */
    evb_cdr_key(b, "auth_method", 0);
    evb_buf_appends(b, (s->token_type == EVB_TOKEN_APP_USER
                        || s->token_type == EVB_TOKEN_AD_HOC_USER)
                       ? "\"COMMAND\"" : "\"WHITELIST\"");

    if (evb_cdr_location(b, a, cdr) != 0) {
        b->len = mark;
        return -1;
    }

    for (n = 0; n < 3 && r->currency[n]; n++) { /* void */ }

    evb_cdr_key(b, "currency", 0);
    evb_buf_append_json_str(b, r->currency, n);

    if (cdr->tariff_json.len) {
        /* verbatim: the tariff exactly as stored and used */
        evb_cdr_key(b, "tariffs", 0);
        evb_buf_appends(b, "[");
        evb_buf_append(b, cdr->tariff_json.data, cdr->tariff_json.len);
        evb_buf_appends(b, "]");
    }

    evb_cdr_key(b, "charging_periods", 0);
    evb_buf_appends(b, "[");

    for (i = 0; i < cdr->nperiods; i++) {
        if (i) {
            evb_buf_appends(b, ",");
        }

        evb_cdr_period(b, &cdr->periods[i], r->tariff_id);
    }

    if (cdr->nperiods == 0) {
        /* OCPI requires at least one period: a session stopped where it
         * started gets one empty period at its start */
        memset(&empty, 0, sizeof(evb_period_t));
        empty.start = s->started_at;
        evb_cdr_period(b, &empty, r->tariff_id);
    }

    evb_buf_appends(b, "]");

    evb_cdr_amount(b, "total_cost", &r->rounded_cost, r->exponent);
    evb_cdr_amount(b, "total_fixed_cost", &r->rounded_fixed_cost,
                   r->exponent);

    evb_cdr_key(b, "total_energy", 0);
    evb_buf_append_decimal(b, r->total_energy, 9, 0);
    evb_cdr_amount(b, "total_energy_cost", &r->rounded_energy_cost,
                   r->exponent);

    evb_cdr_key(b, "total_time", 0);
    evb_cdr_hours(b, r->total_time);
    evb_cdr_amount(b, "total_time_cost", &r->rounded_time_cost,
                   r->exponent);

    evb_cdr_key(b, "total_parking_time", 0);
    evb_cdr_hours(b, r->total_parking_time);
    evb_cdr_amount(b, "total_parking_cost", &r->rounded_parking_cost,
                   r->exponent);

    evb_cdr_amount(b, "total_reservation_cost",
                   &r->rounded_reservation_cost, r->exponent);

    if (cdr->invoice_reference_id.len) {
        evb_cdr_str(b, "invoice_reference_id", cdr->invoice_reference_id,
                    0);
    }

    evb_cdr_time(b, "last_updated", cdr->last_updated);
    evb_buf_appends(b, "}");

    return 0;
}
