/*
 * Payments: the record, the gateway's PaymentIntents and events, the
 * webhook signature and the state rules (evb_payment.h).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "evb_payment.h"
#include "evb_json.h"
#include "evb_money.h"


static const char  *const evb_pay_states[EVB_PMT_NSTATES] = {
    "requires_authorization", "authorized", "capture_pending", "captured",
    "canceled", "failed", "unknown"
};

static const char  *const evb_calls[] = {
    "none", "create", "capture", "cancel", "retrieve"
};


const char *
evb_pmt_state_name(evb_pmt_state_e s)
{
    return (unsigned) s < EVB_PMT_NSTATES ? evb_pay_states[s] : "unknown";
}


const char *
evb_call_name(evb_call_action_e a)
{
    return (unsigned) a <= EVB_CALL_RETRIEVE ? evb_calls[a] : "none";
}


int
evb_pay_hold_parse(const void *json, evb_pay_hold_t *h, char *detail,
    size_t len)
{
    int                exp;
    int64_t            minor;
    const evb_json_t  *v, *a, *c;

    v = json;

    if (v == NULL || v->type != EVB_JSON_OBJECT || v->u.obj.n != 2) {
        (void) snprintf(detail, len, "payment_hold: must be an object of "
                        "amount and currency");
        return -1;
    }

    a = evb_json_get(v, "amount");
    c = evb_json_get(v, "currency");

    if (c == NULL || c->type != EVB_JSON_STRING || c->u.str.len != 3
        || (exp = evb_currency_exponent(c->u.str.data, 3)) < 0)
    {
        (void) snprintf(detail, len, "payment_hold.currency: must be an "
                        "ISO 4217 currency code");
        return -1;
    }

    if (a == NULL || evb_json_fixed(a, 6, &h->amount) != EVB_NUM_OK
        || h->amount <= 0 || evb_pay_to_minor(h->amount, exp, &minor) != 0)
    {
        (void) snprintf(detail, len, "payment_hold.amount: must be a positive "
                        "number with at most %d decimals", exp);
        return -1;
    }

    memcpy(h->currency, c->u.str.data, 3);
    h->currency[3] = '\0';

    return 0;
}


static void
evb_pay_str(evb_buf_t *b, const char *name, evb_str_t s)
{
    evb_buf_appends(b, ",\"");
    evb_buf_appends(b, name);
    evb_buf_appends(b, "\":");
    evb_buf_append_json_str(b, s.data ? s.data : "", s.len);
}


static void
evb_pay_int(evb_buf_t *b, const char *name, int64_t v)
{
    evb_buf_appends(b, ",\"");
    evb_buf_appends(b, name);
    evb_buf_appends(b, "\":");
    evb_buf_append_i64(b, v);
}


int
evb_pay_encode(evb_buf_t *b, const evb_pay_t *p)
{
    size_t  i;

    evb_buf_appends(b, "{\"v\":1");
    evb_pay_str(b, "id", p->payment_id);
    evb_pay_str(b, "idem", p->idem_key);
    evb_pay_str(b, "charger", p->charger_id);
    evb_buf_appends(b, ",\"currency\":");
    evb_buf_append_json_str(b, p->currency, strlen(p->currency));
    evb_pay_int(b, "amount", p->amount);
    evb_pay_int(b, "state", p->state);
    evb_pay_str(b, "gw", p->gw_id);
    evb_pay_str(b, "secret", p->client_secret);
    evb_pay_int(b, "capturable", p->capturable);
    evb_pay_int(b, "captured", p->captured);
    evb_pay_int(b, "to_capture", p->to_capture);
    evb_pay_str(b, "brand", p->card_brand);
    evb_pay_str(b, "last4", p->card_last4);
    evb_pay_str(b, "s_charger", p->session_charger);
    evb_pay_str(b, "s_id", p->session_id);
    evb_pay_int(b, "sid", (int64_t) p->sid);
    evb_pay_str(b, "invoice", p->invoice);
    evb_pay_int(b, "created", p->created_at);
    evb_pay_int(b, "paid", p->paid_at);
    evb_pay_int(b, "call", p->call);
    evb_pay_int(b, "call_state", p->call_state);
    evb_pay_str(b, "call_body", p->call_body);
    evb_pay_str(b, "call_key", p->call_key);
    evb_pay_int(b, "call_first", p->call_first_at);
    evb_pay_int(b, "call_attempts", p->call_attempts);
    evb_buf_appends(b, ",\"history\":[");

    for (i = 0; i < p->nhistory; i++) {
        evb_buf_appends(b, i ? ",[" : "[");
        evb_buf_append_i64(b, p->history[i].at);
        evb_buf_appends(b, ",");
        evb_buf_append_i64(b, p->history[i].state);
        evb_buf_appends(b, ",");
        evb_buf_append_json_str(b, p->history[i].what.data
                                   ? p->history[i].what.data : "",
                                p->history[i].what.len);
        evb_buf_appends(b, "]");
    }

    evb_buf_appends(b, "]}");

    return b->oom ? -1 : 0;
}


static int
evb_pay_get_str(const evb_json_t *o, const char *name, evb_str_t *s)
{
    evb_json_t  *v;

    v = evb_json_get(o, name);
    if (v == NULL || v->type != EVB_JSON_STRING) {
        return -1;
    }

    *s = v->u.str;
    return 0;
}


static int
evb_pay_get_int(const evb_json_t *o, const char *name, int64_t *n)
{
    evb_json_t  *v;

    v = evb_json_get(o, name);
    if (v == NULL || evb_json_int64(v, n) != EVB_NUM_OK) {
        return -1;
    }

    return 0;
}


int
evb_pay_decode(evb_arena_t *a, const char *data, size_t len, evb_pay_t *p)
{
    size_t       i;
    int64_t      n[10];
    evb_str_t    cur;
    evb_json_t  *root, *h, *e;
    char         err[128];

    memset(p, 0, sizeof(evb_pay_t));

    if (evb_json_parse(a, data, len, 8, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        return -1;
    }

    if (evb_pay_get_str(root, "id", &p->payment_id) != 0
        || evb_pay_get_str(root, "idem", &p->idem_key) != 0
        || evb_pay_get_str(root, "charger", &p->charger_id) != 0
        || evb_pay_get_str(root, "currency", &cur) != 0 || cur.len != 3
        || evb_pay_get_int(root, "amount", &p->amount) != 0
        || evb_pay_get_int(root, "state", &n[0]) != 0
        || evb_pay_get_str(root, "gw", &p->gw_id) != 0
        || evb_pay_get_str(root, "secret", &p->client_secret) != 0
        || evb_pay_get_int(root, "capturable", &p->capturable) != 0
        || evb_pay_get_int(root, "captured", &p->captured) != 0
        || evb_pay_get_int(root, "to_capture", &p->to_capture) != 0
        || evb_pay_get_str(root, "brand", &p->card_brand) != 0
        || evb_pay_get_str(root, "last4", &p->card_last4) != 0
        || evb_pay_get_str(root, "s_charger", &p->session_charger) != 0
        || evb_pay_get_str(root, "s_id", &p->session_id) != 0
        || evb_pay_get_int(root, "sid", &n[1]) != 0
        || evb_pay_get_str(root, "invoice", &p->invoice) != 0
        || evb_pay_get_int(root, "created", &p->created_at) != 0
        || evb_pay_get_int(root, "paid", &p->paid_at) != 0
        || evb_pay_get_int(root, "call", &n[2]) != 0
        || evb_pay_get_int(root, "call_state", &n[3]) != 0
        || evb_pay_get_str(root, "call_body", &p->call_body) != 0
        || evb_pay_get_str(root, "call_key", &p->call_key) != 0
        || evb_pay_get_int(root, "call_first", &p->call_first_at) != 0
        || evb_pay_get_int(root, "call_attempts", &n[4]) != 0)
    {
        return -1;
    }

    if (n[0] < 0 || n[0] >= EVB_PMT_NSTATES || n[2] < 0
        || n[2] > EVB_CALL_CANCEL || n[3] < 0 || n[3] > EVB_CALL_UNKNOWN
        || n[4] < 0 || n[4] > 0xffffffffLL)
    {
        return -1;
    }

    memcpy(p->currency, cur.data, 3);
    p->currency[3] = '\0';
    p->state = (evb_pmt_state_e) n[0];
    p->sid = (uint64_t) n[1];
    p->call = (evb_call_action_e) n[2];
    p->call_state = (evb_call_state_e) n[3];
    p->call_attempts = (uint32_t) n[4];

    h = evb_json_get(root, "history");
    if (h == NULL || h->type != EVB_JSON_ARRAY
        || h->u.arr.n > EVB_PAY_HISTORY_MAX)
    {
        return -1;
    }

    for (i = 0; i < h->u.arr.n; i++) {
        e = h->u.arr.items[i];

        if (e->type != EVB_JSON_ARRAY || e->u.arr.n != 3
            || evb_json_int64(e->u.arr.items[0], &n[5]) != EVB_NUM_OK
            || evb_json_int64(e->u.arr.items[1], &n[6]) != EVB_NUM_OK
            || n[6] < 0 || n[6] >= EVB_PMT_NSTATES
            || e->u.arr.items[2]->type != EVB_JSON_STRING)
        {
            return -1;
        }

        p->history[i].at = n[5];
        p->history[i].state = (evb_pmt_state_e) n[6];
        p->history[i].what = e->u.arr.items[2]->u.str;
    }

    p->nhistory = h->u.arr.n;

    return 0;
}


void
evb_pay_note(evb_arena_t *a, evb_pay_t *p, evb_msec_t at,
    evb_pmt_state_e state, const char *what)
{
    size_t  len;

    if (p->nhistory == EVB_PAY_HISTORY_MAX) {
        /* keep the first (the creation) and drop the oldest after it */
        memmove(&p->history[1], &p->history[2],
                (EVB_PAY_HISTORY_MAX - 2) * sizeof(evb_pay_event_t));
        p->nhistory--;
    }

    len = strlen(what);
    p->history[p->nhistory].at = at;
    p->history[p->nhistory].state = state;
    p->history[p->nhistory].what.data = evb_arena_strdup(a, what, len);
    p->history[p->nhistory].what.len =
        p->history[p->nhistory].what.data ? len : 0;
    p->nhistory++;
}


static int64_t
evb_pow10(int e)
{
    int64_t  v;

    for (v = 1; e > 0; e--) {
        v *= 10;
    }

    return v;
}


int
evb_pay_to_minor(int64_t micro, int exponent, int64_t *minor)
{
    int64_t  unit;

    if (exponent < 0 || exponent > 6 || micro < 0) {
        return -1;
    }

    /* 10^-6 to 10^-exponent: JPY's unit is 10^6 micro, EUR's cent 10^4 */
    unit = evb_pow10(6 - exponent);
    if (micro % unit != 0) {
        return -1;
    }

    *minor = micro / unit;
    return 0;
}


int
evb_pay_from_minor(int64_t minor, int exponent, int64_t *micro)
{
    int64_t  unit;

    if (exponent < 0 || exponent > 6 || minor < 0) {
        return -1;
    }

    unit = evb_pow10(6 - exponent);
    if (minor > INT64_MAX / unit) {
        return -1;
    }

    *micro = minor * unit;
    return 0;
}


static void
evb_pay_opt_str(const evb_json_t *o, const char *name, evb_str_t *s)
{
    if (evb_pay_get_str(o, name, s) != 0) {
        s->data = NULL;
        s->len = 0;
    }
}


static void
evb_pay_opt_int(const evb_json_t *o, const char *name, int64_t *n)
{
    if (evb_pay_get_int(o, name, n) != 0) {
        *n = 0;
    }
}


static int
evb_pay_gw_from(const evb_json_t *o, evb_pay_gw_t *pi)
{
    evb_json_t  *m, *card;

    memset(pi, 0, sizeof(evb_pay_gw_t));

    if (o == NULL || o->type != EVB_JSON_OBJECT
        || evb_pay_get_str(o, "id", &pi->id) != 0
        || evb_pay_get_str(o, "status", &pi->status) != 0)
    {
        return -1;
    }

    evb_pay_opt_str(o, "currency", &pi->currency);
    evb_pay_opt_str(o, "client_secret", &pi->client_secret);
    evb_pay_opt_int(o, "amount", &pi->amount);
    evb_pay_opt_int(o, "amount_capturable", &pi->capturable);
    evb_pay_opt_int(o, "amount_received", &pi->received);

    m = evb_json_get(o, "metadata");
    if (m != NULL) {
        evb_pay_opt_str(m, "evbill_payment", &pi->payment);
    }

    /* what the gateway reports of the card: brand and last four only */
    card = evb_json_get(evb_json_get(o, "payment_method_details"), "card");
    if (card == NULL) {
        card = evb_json_get(evb_json_get(evb_json_get(o, "latest_charge"),
                                         "payment_method_details"), "card");
    }

    if (card != NULL) {
        evb_pay_opt_str(card, "brand", &pi->card_brand);
        evb_pay_opt_str(card, "last4", &pi->card_last4);

        if (pi->card_last4.len != 4 || pi->card_brand.len > 32) {
            pi->card_last4.len = 0;
            pi->card_brand.len = 0;
        }
    }

    return 0;
}


int
evb_pay_gw_parse(evb_arena_t *a, const char *data, size_t len,
    evb_pay_gw_t *pi)
{
    evb_json_t  *root;
    char         err[128];

    if (evb_json_parse(a, data, len, 16, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        return -1;
    }

    return evb_pay_gw_from(root, pi);
}


int
evb_pay_event_parse(evb_arena_t *a, const char *data, size_t len,
    evb_pay_gw_event_t *ev)
{
    evb_json_t  *root;
    char         err[128];

    memset(ev, 0, sizeof(evb_pay_gw_event_t));

    if (evb_json_parse(a, data, len, 16, &root, err, sizeof(err))
        != EVB_JSON_OK
        || evb_pay_get_str(root, "id", &ev->id) != 0
        || ev->id.len == 0 || ev->id.len > 255
        || evb_pay_get_str(root, "type", &ev->type) != 0)
    {
        return -1;
    }

    return evb_pay_gw_from(evb_json_get(evb_json_get(root, "data"),
                                        "object"), &ev->pi);
}


static int
evb_pay_str_is(evb_str_t s, const char *lit)
{
    return s.len == strlen(lit) && memcmp(s.data, lit, s.len) == 0;
}


/* the order states only ever move in; unknown is settled by anything */
static int
evb_pay_rank(evb_pmt_state_e s)
{
    switch (s) {
    case EVB_PMT_REQUIRES_AUTHORIZATION:
        return 0;
    case EVB_PMT_FAILED:
        return 1;
    case EVB_PMT_AUTHORIZED:
        return 2;
    case EVB_PMT_CAPTURE_PENDING:
        return 3;
    case EVB_PMT_CAPTURED:
    case EVB_PMT_CANCELED:
        return 4;
    default:
        return -1;
    }
}


static evb_str_t
evb_pay_dup(evb_arena_t *a, evb_str_t s)
{
    evb_str_t  d;

    d.data = evb_arena_strdup(a, s.data ? s.data : "", s.len);
    d.len = d.data ? s.len : 0;
    return d;
}


int
evb_pay_apply(evb_arena_t *a, evb_pay_t *p, const evb_pay_gw_t *pi,
    const char *type, evb_msec_t now)
{
    int              changed;
    evb_pmt_state_e  to;
    char             what[96];

    changed = 0;

    if (p->gw_id.len == 0 && pi->id.len > 0 && pi->id.len <= 255) {
        p->gw_id = evb_pay_dup(a, pi->id);
        changed = 1;
    }

    if (pi->client_secret.len > 0 && p->client_secret.len == 0
        && pi->client_secret.len <= 255)
    {
        p->client_secret = evb_pay_dup(a, pi->client_secret);
        changed = 1;
    }

    if (pi->card_last4.len == 4 && p->card_last4.len == 0) {
        p->card_brand = evb_pay_dup(a, pi->card_brand);
        p->card_last4 = evb_pay_dup(a, pi->card_last4);
        changed = 1;
    }

    if (type != NULL && strcmp(type, "payment_intent.payment_failed") == 0) {
        to = EVB_PMT_FAILED;

    } else if (evb_pay_str_is(pi->status, "requires_capture")) {
        to = EVB_PMT_AUTHORIZED;

    } else if (evb_pay_str_is(pi->status, "succeeded")) {
        to = EVB_PMT_CAPTURED;

    } else if (evb_pay_str_is(pi->status, "canceled")) {
        to = EVB_PMT_CANCELED;

    } else {
        to = EVB_PMT_REQUIRES_AUTHORIZATION;
    }

    /* a capture asked for stays pending while the gateway still holds */
    if (to == EVB_PMT_AUTHORIZED && p->call == EVB_CALL_CAPTURE
        && p->call_state != EVB_CALL_DONE)
    {
        to = EVB_PMT_CAPTURE_PENDING;
    }

    if (to == EVB_PMT_AUTHORIZED || to == EVB_PMT_CAPTURE_PENDING) {
        if (p->capturable != pi->capturable && pi->capturable >= 0
            && evb_pay_rank(p->state) <= 3)
        {
            p->capturable = pi->capturable;
            changed = 1;
        }
    }

    if (p->state != EVB_PMT_UNKNOWN
        && evb_pay_rank(to) <= evb_pay_rank(p->state))
    {
        return changed;
    }

    /* an unknown call is settled by what the gateway says now (a
     * retrieve), never by an event that may be older than the call */
    if (p->state == EVB_PMT_UNKNOWN && type != NULL
        && to != EVB_PMT_CAPTURED && to != EVB_PMT_CANCELED)
    {
        return changed;
    }

    if (p->state == EVB_PMT_UNKNOWN && p->call != EVB_CALL_NONE
        && p->call != EVB_CALL_CREATE
        && (to == EVB_PMT_AUTHORIZED || to == EVB_PMT_CAPTURE_PENDING))
    {
        /* the intent still holds: the capture or cancel did not happen
         * and may be sent again, with its stored key and body */
        if (p->call == EVB_CALL_RETRIEVE) {
            p->call = EVB_CALL_NONE;
            p->call_state = EVB_CALL_DONE;
            to = EVB_PMT_AUTHORIZED;

        } else {
            p->call_state = EVB_CALL_PENDING;
            to = p->call == EVB_CALL_CAPTURE ? EVB_PMT_CAPTURE_PENDING
                                             : EVB_PMT_AUTHORIZED;
        }
    }

    if (to == EVB_PMT_REQUIRES_AUTHORIZATION && p->state == EVB_PMT_UNKNOWN
        && p->call == EVB_CALL_CREATE)
    {
        /* the create was applied: the intent exists */
        p->call_state = EVB_CALL_DONE;
        p->call = EVB_CALL_NONE;
        p->call_body.len = 0;
        p->state = to;
        evb_pay_note(a, p, now, to, "created at the gateway");
        return 1;
    }

    if (to == EVB_PMT_CAPTURED) {
        p->captured = pi->received;
        p->capturable = 0;
        p->paid_at = now;
    }

    if (to == EVB_PMT_CANCELED) {
        p->capturable = 0;
    }

    /* the report shows the call applied (or made moot): done */
    if (p->call != EVB_CALL_NONE
        && (to == EVB_PMT_CAPTURED || to == EVB_PMT_CANCELED
            || p->call == EVB_CALL_CREATE))
    {
        p->call = EVB_CALL_NONE;
        p->call_state = EVB_CALL_DONE;
        p->call_body.len = 0;
    }

    (void) snprintf(what, sizeof(what), "%s%s",
                    type ? "webhook " : "gateway: ",
                    type ? type : (pi->status.data ? pi->status.data : ""));
    p->state = to;
    evb_pay_note(a, p, now, to, what);

    return 1;
}


int
evb_pay_sig_verify(const unsigned char *secret, size_t secret_len,
    const char *header, size_t header_len, const char *body,
    size_t body_len, int64_t now, int64_t tolerance)
{
    int             have_t, nv1, ok;
    size_t          i, j, klen, vlen;
    int64_t         t;
    const char     *k, *v;
    unsigned int    maclen;
    unsigned char   mac[EVP_MAX_MD_SIZE], got[32];
    char            tbuf[24];
    size_t          n;
    unsigned char  *buf;

    have_t = 0;
    nv1 = 0;
    t = 0;
    ok = 0;
    memset(mac, 0, sizeof(mac));

    /* first pass: t= (its text is what was signed) */
    for (i = 0; i < header_len; i = j + 1) {
        for (j = i; j < header_len && header[j] != ','; j++) { /* void */ }

        k = header + i;
        while (k < header + j && *k == ' ') {
            k++;
        }

        v = memchr(k, '=', (size_t) (header + j - k));
        if (v == NULL) {
            return -1;
        }

        klen = (size_t) (v - k);
        v++;
        vlen = (size_t) (header + j - v);

        if (klen == 1 && k[0] == 't') {
            if (have_t || vlen == 0 || vlen >= sizeof(tbuf)) {
                return -1;
            }

            for (t = 0, i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9' || t > 1000000000000LL) {
                    return -1;
                }

                t = t * 10 + (v[i] - '0');
            }

            memcpy(tbuf, v, vlen);
            tbuf[vlen] = '\0';
            have_t = 1;
        }
    }

    if (!have_t) {
        return -1;
    }

    if (t < now - tolerance || t > now + tolerance) {
        return -2;
    }

    /* the signed text, "t." + body, in one piece for HMAC() */
    buf = malloc(strlen(tbuf) + 1 + body_len + 1);
    if (buf == NULL) {
        return -1;
    }

    n = strlen(tbuf);
    memcpy(buf, tbuf, n);
    buf[n++] = '.';
    memcpy(buf + n, body, body_len);
    n += body_len;

    if (HMAC(EVP_sha256(), secret, (int) secret_len, buf, n, mac, &maclen)
        == NULL || maclen != 32)
    {
        free(buf);
        return -1;
    }

    free(buf);

    /* second pass: every v1= (several while a secret is rolled) */
    for (i = 0; i < header_len; i = j + 1) {
        for (j = i; j < header_len && header[j] != ','; j++) { /* void */ }

        k = header + i;
        while (k < header + j && *k == ' ') {
            k++;
        }

        v = memchr(k, '=', (size_t) (header + j - k));
        klen = (size_t) (v - k);
        v++;
        vlen = (size_t) (header + j - v);

        if (klen != 2 || k[0] != 'v' || k[1] != '1') {
            continue;       /* v0 and other schemes are never accepted */
        }

        nv1++;

        if (vlen != 64 || evb_hex_decode(v, 64, got) != 32) {
            continue;
        }

        if (CRYPTO_memcmp(got, mac, 32) == 0) {
            ok = 1;
        }
    }

    if (nv1 == 0) {
        return -1;
    }

    return ok ? 0 : -3;
}
