/*
 * Payments (issue 11): the rules of every payment write.  Each gateway
 * call evbill means to make is stored first, in the transaction of the
 * state change that calls for it (the outbox), with its exact form body
 * and Idempotency-Key; src/http sends it and reports what came back
 * (evb_op_pay_result).  A call whose outcome is unknown is never sent
 * with another key or body, and after 24 hours (the gateway's key
 * lifetime) it is only retrieved.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "evb_ops.h"
#include "../core/evb_json.h"
#include "../core/evb_money.h"
#include "../../lmdb/evb_store_payment.h"
#include "../../lmdb/evb_store_invoice.h"      /* EVB_ST_EXISTS */


#define EVB_RC_CORRUPT_PAY  (-30602)


/* a sid as a link key: big-endian, so that keys sort by sid */
static void
evb_put_sid(char *k, uint64_t sid)
{
    int  i;

    for (i = 7; i >= 0; i--) {
        k[i] = (char) (sid & 0xff);
        sid >>= 8;
    }
}


static int
evb_pay_store(evb_op_t *op, evb_wtxn_t *tx, const evb_pay_t *p)
{
    int        rc;
    evb_buf_t  b;
    evb_str_t  rec;

    evb_buf_init(&b);

    if (evb_pay_encode(&b, p) != 0) {
        evb_buf_free(&b);
        return ENOMEM;
    }

    rec.data = b.data;
    rec.len = b.len;

    rc = evb_tx_pay_put(tx, p->payment_id, rec);
    evb_buf_free(&b);

    if (rc == 0) {
        /* the outbox holds exactly the payments with a call to run */
        rc = evb_tx_pay_outbox(tx, p->payment_id,
                               p->call != EVB_CALL_NONE
                               && p->call_state != EVB_CALL_DONE);
    }

    return rc;
}


static int
evb_pay_load(evb_op_t *op, evb_wtxn_t *tx, evb_str_t id, evb_pay_t *p)
{
    int        rc;
    evb_str_t  rec;

    rc = evb_tx_pay_get(tx, op->arena, id, &rec);
    if (rc != 0) {
        return rc;
    }

    return evb_pay_decode(op->arena, rec.data, rec.len, p) == 0
           ? 0 : EVB_RC_CORRUPT_PAY;
}


static evb_problem_e
evb_pay_error(evb_op_t *op, int rc)
{
    if (rc == EVB_RC_CORRUPT_PAY) {
        return evb_refuse(op, EVB_P_INTERNAL, "a payment record does not "
                          "decode; the store needs `evbill-store check`");
    }

    return evb_op_store_error(op, rc);
}


static evb_str_t
evb_pay_text(evb_arena_t *a, const char *s)
{
    evb_str_t  t;

    t.len = strlen(s);
    t.data = evb_arena_strdup(a, s, t.len);
    if (t.data == NULL) {
        t.len = 0;
    }

    return t;
}


/* a call into the outbox: its body and key are fixed from now on */
static void
evb_pay_queue(evb_op_t *op, evb_pay_t *p, evb_call_action_e action,
    const char *body)
{
    char  key[128];

    (void) snprintf(key, sizeof(key), "evbill-%.*s-%s",
                    (int) p->payment_id.len, p->payment_id.data,
                    evb_call_name(action));

    p->call = action;
    p->call_state = EVB_CALL_PENDING;
    p->call_body = evb_pay_text(op->arena, body);
    p->call_key = evb_pay_text(op->arena, key);
    p->call_first_at = op->now;
    p->call_attempts = 0;
}


/* the currency of the charger's tariff: "EUR", or "" when unknown */
static int
evb_pay_charger_currency(evb_op_t *op, evb_wtxn_t *tx, evb_str_t charger_id,
    char *cur)
{
    int             rc;
    evb_str_t       json;
    evb_json_t     *root, *v;
    evb_charger_t   c;
    char            err[64];

    cur[0] = '\0';

    rc = evb_tx_get_charger(tx, op->arena, charger_id, &c);
    if (rc != 0) {
        return rc;
    }

    if (c.tariff_id.len == 0) {
        return 0;
    }

    rc = evb_tx_get_tariff(tx, op->arena, c.tariff_id, 0, &json, NULL, NULL);
    if (rc == EVB_ST_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (evb_json_parse(op->arena, json.data, json.len, 32, &root, err,
                       sizeof(err)) == EVB_JSON_OK)
    {
        v = evb_json_get(root, "currency");

        if (v != NULL && v->type == EVB_JSON_STRING && v->u.str.len == 3) {
            memcpy(cur, v->u.str.data, 3);
            cur[3] = '\0';
        }
    }

    return 0;
}


static evb_problem_e
evb_op_pay_create_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                   rc, exp;
    size_t                i;
    int64_t               minor;
    evb_str_t             id;
    evb_pay_t            *p;
    unsigned char         rnd[12];
    long long             own_amount;
    evb_str_t             own_text;
    evb_pay_hold_t        own;
    const evb_pay_hold_t *hold;
    evb_op_pay_create_t  *o = (evb_op_pay_create_t *) w;
    evb_op_t             *op = &o->op;
    char                  cur[4], pid[32], lower[4], body[256];

    o->created = 0;
    p = &o->pay;

    rc = evb_tx_pay_link_get(tx, op->arena, 'K', o->idem_key, &id);
    if (rc == 0) {
        rc = evb_pay_load(op, tx, id, p);
        if (rc != 0) {
            return evb_pay_error(op, rc);
        }

        if (p->charger_id.len != o->charger_id.len
            || memcmp(p->charger_id.data, o->charger_id.data,
                      o->charger_id.len) != 0)
        {
            return evb_refuse(op, EVB_P_IDEM_CONFLICT, "this Idempotency-Key "
                              "made a payment for another charger");
        }

        return EVB_OK;
    }

    if (rc != EVB_ST_NOTFOUND) {
        return evb_op_store_error(op, rc);
    }

    rc = evb_pay_charger_currency(op, tx, o->charger_id, cur);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    hold = NULL;

    /* the charger's own hold comes first */
    rc = evb_tx_pay_link_get(tx, op->arena, 'H', o->charger_id, &own_text);
    if (rc == 0) {
        if (own_text.len < 5 || own_text.len > 40) {
            return evb_refuse(op, EVB_P_INTERNAL, "a charger's hold record "
                              "is corrupt");
        }

        memcpy(body, own_text.data, own_text.len);
        body[own_text.len] = '\0';

        if (sscanf(body, "%lld %3s", &own_amount, own.currency) != 2) {
            return evb_refuse(op, EVB_P_INTERNAL, "a charger's hold record "
                              "is corrupt");
        }

        own.amount = (int64_t) own_amount;
        hold = &own;

    } else if (rc != EVB_ST_NOTFOUND) {
        return evb_op_store_error(op, rc);
    }

    for (i = 0; hold == NULL && i < o->nholds; i++) {
        if (strcmp(o->holds[i].currency, cur) == 0
            || (cur[0] == '\0' && o->nholds == 1))
        {
            hold = &o->holds[i];
            break;
        }
    }

    if (hold == NULL) {
        return evb_refuse(op, EVB_P_NO_PAYMENT_HOLD, "no evbill_payment_hold "
                          "for %s, the currency of charger %.*s's tariff",
                          cur[0] ? cur : "(none)",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    /* minor units by the ISO 4217 exponent: JPY has none */
    exp = evb_currency_exponent(hold->currency, 3);
    if (exp < 0 || evb_pay_to_minor(hold->amount, exp, &minor) != 0
        || minor <= 0)
    {
        return evb_refuse(op, EVB_P_NO_PAYMENT_HOLD, "the hold for %s is not "
                          "a whole number of its minor unit",
                          hold->currency);
    }

    if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
        return evb_refuse(op, EVB_P_INTERNAL, "no randomness for an id");
    }

    memcpy(pid, "pay_", 4);
    evb_hex_encode(rnd, sizeof(rnd), pid + 4);
    pid[4 + 2 * sizeof(rnd)] = '\0';

    memset(p, 0, sizeof(evb_pay_t));
    p->payment_id = evb_pay_text(op->arena, pid);
    p->idem_key.data = evb_arena_strdup(op->arena, o->idem_key.data,
                                        o->idem_key.len);
    p->idem_key.len = o->idem_key.len;
    p->charger_id.data = evb_arena_strdup(op->arena, o->charger_id.data,
                                          o->charger_id.len);
    p->charger_id.len = o->charger_id.len;
    memcpy(p->currency, hold->currency, 4);
    p->amount = minor;
    p->state = EVB_PMT_REQUIRES_AUTHORIZATION;
    p->created_at = op->now;

    if (p->payment_id.data == NULL || p->idem_key.data == NULL
        || p->charger_id.data == NULL)
    {
        return evb_op_store_error(op, ENOMEM);
    }

    for (i = 0; i < 3; i++) {
        lower[i] = (char) (hold->currency[i] | 0x20);
    }

    lower[3] = '\0';

    (void) snprintf(body, sizeof(body), "amount=%lld&currency=%s"
                    "&capture_method=manual"
                    "&metadata%%5Bevbill_payment%%5D=%s",
                    (long long) minor, lower, pid);

    evb_pay_queue(op, p, EVB_CALL_CREATE, body);
    evb_pay_note(op->arena, p, op->now, p->state, "created; hold queued");

    rc = evb_tx_pay_link_put(tx, 'K', o->idem_key, p->payment_id);
    if (rc == 0) {
        rc = evb_pay_store(op, tx, p);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    o->created = 1;

    return EVB_OK;
}


/* a capture or cancel answered 200 whose intent is still
 * requires_capture did not happen */
static int
evb_pay_call_not_applied(const evb_op_pay_result_t *o)
{
    static const char  rc[] = "requires_capture";

    if (o->action != EVB_CALL_CAPTURE && o->action != EVB_CALL_CANCEL) {
        return 0;
    }

    return o->pi.status.len == sizeof(rc) - 1
           && memcmp(o->pi.status.data, rc, sizeof(rc) - 1) == 0;
}


static evb_problem_e
evb_op_pay_result_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                   rc;
    evb_pay_t            *p;
    evb_op_pay_result_t  *o = (evb_op_pay_result_t *) w;
    evb_op_t             *op = &o->op;
    char                  what[96];

    p = &o->pay;

    rc = evb_pay_load(op, tx, o->payment_id, p);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_PAYMENT, "no payment %.*s",
                          (int) o->payment_id.len, o->payment_id.data);
    }

    if (rc != 0) {
        return evb_pay_error(op, rc);
    }

    if (o->action != EVB_CALL_RETRIEVE && o->action != p->call) {
        /* settled meanwhile (a webhook, another reconcile): nothing to do */
        return EVB_OK;
    }

    if (o->action != EVB_CALL_RETRIEVE) {
        p->call_attempts++;
    }

    switch (o->outcome) {

    case EVB_GW_APPLIED:
        if (evb_pay_call_not_applied(o)) {
            /* a 200 whose intent still holds (a gateway quirk): the
             * call is kept; a retrieve decides, and the stored key and
             * body are sent again only while the intent holds */
            p->call_state = EVB_CALL_UNKNOWN;
            p->state = EVB_PMT_UNKNOWN;
            (void) snprintf(what, sizeof(what), "%s answered but the "
                            "intent still holds; settled by "
                            "reconciliation", evb_call_name(o->action));
            evb_pay_note(op->arena, p, op->now, p->state, what);
            break;
        }

        if (o->action == EVB_CALL_RETRIEVE && p->call == EVB_CALL_RETRIEVE) {
            p->call = EVB_CALL_NONE;
            p->call_state = EVB_CALL_DONE;
        }

        if (o->action != EVB_CALL_RETRIEVE && p->call == o->action) {
            /* the call itself answered: whatever the intent says now */
            p->call_state = EVB_CALL_DONE;
            p->call = EVB_CALL_NONE;
            p->call_body.len = 0;

            if (p->state == EVB_PMT_UNKNOWN
                || p->state == EVB_PMT_CAPTURE_PENDING)
            {
                p->state = EVB_PMT_UNKNOWN;    /* settled by what follows */
            }
        }

        (void) evb_pay_apply(op->arena, p, &o->pi, NULL, op->now);
        break;

    case EVB_GW_REFUSED:
        (void) snprintf(what, sizeof(what), "%s refused by the gateway "
                        "(HTTP %u)", evb_call_name(o->action), o->status);

        if (o->action == EVB_CALL_CREATE) {
            p->call = EVB_CALL_NONE;
            p->call_state = EVB_CALL_DONE;
            p->state = EVB_PMT_FAILED;

        } else if (o->action != EVB_CALL_RETRIEVE) {
            /* what the intent is now decides, never a second attempt */
            p->call = EVB_CALL_RETRIEVE;
            p->call_state = EVB_CALL_UNKNOWN;
            p->state = EVB_PMT_UNKNOWN;
        }

        evb_pay_note(op->arena, p, op->now, p->state, what);
        break;

    case EVB_GW_RETRY:
        (void) snprintf(what, sizeof(what), "%s: gateway busy (HTTP %u); "
                        "retried by reconciliation",
                        evb_call_name(o->action), o->status);
        evb_pay_note(op->arena, p, op->now, p->state, what);
        break;

    case EVB_GW_EXPIRED:
        if (p->call == EVB_CALL_CREATE) {
            p->call = EVB_CALL_NONE;
            p->call_state = EVB_CALL_DONE;
            p->state = EVB_PMT_FAILED;
            evb_pay_note(op->arena, p, op->now, p->state, "create unconfirmed "
                         "after 24 h: not sent again");
        }

        break;

    default:
        (void) snprintf(what, sizeof(what), "%s: no answer (%s); settled by "
                        "reconciliation", evb_call_name(o->action),
                        o->status ? "gateway error" : "timeout or reset");

        if (o->action != EVB_CALL_RETRIEVE) {
            p->call_state = EVB_CALL_UNKNOWN;
            p->state = EVB_PMT_UNKNOWN;
        }

        evb_pay_note(op->arena, p, op->now, p->state, what);
        break;
    }

    rc = evb_pay_store(op, tx, p);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


static evb_problem_e
evb_op_pay_event_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                  rc;
    evb_pay_t            p;
    evb_op_pay_event_t  *o = (evb_op_pay_event_t *) w;
    evb_op_t            *op = &o->op;
    char                 type[64];

    o->duplicate = 0;
    o->applied = 0;

    rc = evb_tx_pay_event(tx, o->event.id, op->now);
    if (rc == EVB_ST_EXISTS) {
        o->duplicate = 1;
        return EVB_OK;
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (o->event.pi.payment.len == 0 || o->event.type.len >= sizeof(type)) {
        return EVB_OK;              /* not one of ours: seen, ignored */
    }

    memcpy(type, o->event.type.data, o->event.type.len);
    type[o->event.type.len] = '\0';

    if (strcmp(type, "payment_intent.amount_capturable_updated") != 0
        && strcmp(type, "payment_intent.succeeded") != 0
        && strcmp(type, "payment_intent.canceled") != 0
        && strcmp(type, "payment_intent.payment_failed") != 0)
    {
        return EVB_OK;
    }

    rc = evb_pay_load(op, tx, o->event.pi.payment, &p);
    if (rc == EVB_ST_NOTFOUND) {
        return EVB_OK;
    }

    if (rc != 0) {
        return evb_pay_error(op, rc);
    }

    /* the intent must be the payment's own */
    if (p.gw_id.len > 0
        && (p.gw_id.len != o->event.pi.id.len
            || memcmp(p.gw_id.data, o->event.pi.id.data, p.gw_id.len) != 0))
    {
        return EVB_OK;
    }

    if (!evb_pay_apply(op->arena, &p, &o->event.pi, type, op->now)) {
        return EVB_OK;
    }

    rc = evb_pay_store(op, tx, &p);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    o->applied = 1;

    return EVB_OK;
}


evb_problem_e
evb_pay_claim(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s)
{
    int        rc;
    evb_pay_t  p;
    char       sk[8];
    evb_str_t  key;

    rc = evb_pay_load(op, tx, s->id_token, &p);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_PAY_NOT_AUTHORIZED, "no authorised "
                          "payment %.*s", (int) s->id_token.len,
                          s->id_token.data);
    }

    if (rc != 0) {
        return evb_pay_error(op, rc);
    }

    if (p.sid != 0) {
        return evb_refuse(op, EVB_P_PAY_IN_USE, "payment %.*s is used by "
                          "another session", (int) s->id_token.len,
                          s->id_token.data);
    }

    if (p.state != EVB_PMT_AUTHORIZED || p.capturable <= 0) {
        return evb_refuse(op, EVB_P_PAY_NOT_AUTHORIZED, "payment %.*s is %s, "
                          "not authorized; retry once the driver has "
                          "confirmed it", (int) s->id_token.len,
                          s->id_token.data, evb_pmt_state_name(p.state));
    }

    p.sid = s->sid;
    p.session_charger = s->charger_id;
    p.session_id = s->session_id;
    evb_pay_note(op->arena, &p, op->now, p.state, "session started");

    evb_put_sid(sk, s->sid);
    key.data = sk;
    key.len = 8;

    rc = evb_tx_pay_link_put(tx, 'S', key, p.payment_id);
    if (rc == 0) {
        rc = evb_pay_store(op, tx, &p);
    }

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


int
evb_pay_of_session(evb_op_t *op, evb_wtxn_t *tx, uint64_t sid, evb_pay_t *p)
{
    int        rc;
    char       sk[8];
    evb_str_t  key, id;

    evb_put_sid(sk, sid);
    key.data = sk;
    key.len = 8;

    rc = evb_tx_pay_link_get(tx, op->arena, 'S', key, &id);
    if (rc != 0) {
        return rc;
    }

    return evb_pay_load(op, tx, id, p);
}


int
evb_pay_charger_hold(evb_op_t *op, evb_wtxn_t *tx, evb_str_t charger_id,
    const evb_pay_hold_t *hold)
{
    int        n;
    evb_str_t  v;
    char       text[48];

    if (hold == NULL) {
        return evb_tx_pay_link_del(tx, 'H', charger_id);
    }

    n = snprintf(text, sizeof(text), "%lld %s", (long long) hold->amount,
                 hold->currency);
    if (n < 0 || (size_t) n >= sizeof(text)) {
        return EINVAL;
    }

    v.data = text;
    v.len = (size_t) n;

    return evb_tx_pay_link_put(tx, 'H', charger_id, v);
}


/*
 * Is an ad hoc session to stop?  When its live cost (VAT included) has
 * reached what the payment holds, or it has run for the 6 days an
 * authorisation of 7 allows.  0: no; 1: the hold; 2: the span.
 */
int
evb_pay_stop_due(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s)
{
    int          exp;
    int64_t      cost, held;
    evb_pay_t    p;
    evb_json_t  *root, *v;
    char         err[64];

    if (s->token_type != EVB_TOKEN_AD_HOC_USER
        || evb_pay_of_session(op, tx, s->sid, &p) != 0)
    {
        return 0;
    }

    if (s->last_ts - s->started_at >= EVB_PAY_MAX_SPAN) {
        return 2;
    }

    exp = evb_currency_exponent(p.currency, 3);
    if (s->cost.len == 0 || exp < 0
        || evb_pay_from_minor(p.capturable, exp, &held) != 0
        || evb_json_parse(op->arena, s->cost.data, s->cost.len, 16, &root,
                          err, sizeof(err)) != EVB_JSON_OK)
    {
        return 0;
    }

    v = evb_json_get(evb_json_get(evb_json_get(root, "rounded"),
                                  "total_cost"), "incl_vat");
    if (v == NULL) {
        v = evb_json_get(evb_json_get(root, "total_cost"), "incl_vat");
    }

    if (v == NULL || evb_json_fixed(v, 6, &cost) != EVB_NUM_OK) {
        return 0;
    }

    return cost >= held ? 1 : 0;
}


int
evb_pay_at_close(evb_op_t *op, evb_wtxn_t *tx, uint64_t sid,
    evb_str_t invoice, int64_t payable, const char *currency)
{
    int        rc, exp;
    int64_t    total, amount;
    evb_pay_t  p;
    char       body[64], what[128];

    rc = evb_pay_of_session(op, tx, sid, &p);
    if (rc == EVB_ST_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (p.state != EVB_PMT_AUTHORIZED || p.call != EVB_CALL_NONE) {
        return 0;                   /* settled, or queued already */
    }

    if (currency == NULL) {
        (void) snprintf(what, sizeof(what), "no invoice (%.*s): hold "
                        "canceled", (int) (invoice.len > 80 ? 80
                                           : invoice.len), invoice.data);
        evb_pay_queue(op, &p, EVB_CALL_CANCEL, "");
        evb_pay_note(op->arena, &p, op->now, p.state, what);

        return evb_pay_store(op, tx, &p);
    }

    p.invoice = invoice;

    exp = evb_currency_exponent(currency, 3);

    if (strcmp(currency, p.currency) != 0 || exp < 0
        || evb_pay_to_minor(payable, exp, &total) != 0)
    {
        (void) snprintf(what, sizeof(what), "invoice %.*s in %s cannot be "
                        "captured from a hold in %s; the hold is canceled",
                        (int) invoice.len, invoice.data, currency,
                        p.currency);
        total = 0;

    } else {
        what[0] = '\0';
    }

    /* never above the authorisation: the rest stays due */
    amount = total < p.capturable ? total : p.capturable;

    if (amount > 0) {
        (void) snprintf(body, sizeof(body), "amount_to_capture=%lld",
                        (long long) amount);
        p.to_capture = amount;
        p.state = EVB_PMT_CAPTURE_PENDING;
        evb_pay_queue(op, &p, EVB_CALL_CAPTURE, body);

        if (what[0] == '\0') {
            (void) snprintf(what, sizeof(what), "capture of %lld queued "
                            "(invoice %.*s)", (long long) amount,
                            (int) invoice.len, invoice.data);
        }

    } else {
        evb_pay_queue(op, &p, EVB_CALL_CANCEL, "");

        if (what[0] == '\0') {
            (void) snprintf(what, sizeof(what), "nothing owed: cancel "
                            "queued (invoice %.*s)", (int) invoice.len,
                            invoice.data);
        }
    }

    evb_pay_note(op->arena, &p, op->now, p.state, what);

    rc = evb_tx_pay_link_put(tx, 'I', invoice, p.payment_id);
    if (rc == 0) {
        rc = evb_pay_store(op, tx, &p);
    }

    return rc;
}


void
evb_op_pay_create_init(evb_op_pay_create_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(evb_op_pay_create_t));
    evb_op_base_init(&o->op, EVB_OP_PAY_CREATE, evb_op_pay_create_run, NULL,
                     now, a);
}


void
evb_op_pay_result_init(evb_op_pay_result_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(evb_op_pay_result_t));
    evb_op_base_init(&o->op, EVB_OP_PAY_RESULT, evb_op_pay_result_run, NULL,
                     now, a);
}


void
evb_op_pay_event_init(evb_op_pay_event_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(evb_op_pay_event_t));
    evb_op_base_init(&o->op, EVB_OP_PAY_EVENT, evb_op_pay_event_run, NULL,
                     now, a);
}
