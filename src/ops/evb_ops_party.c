/*
 * evbill ops: who is billed.  Customers and tokens (admin), and what a
 * session takes at its start: its token resolved to a token record and
 * a customer, its charger's location, EVSE, connector and time zone, its
 * tariff version.  The CDR and the invoice are made from that record, so
 * a charger or token changed mid-session changes neither.
 *
 * Decided here:
 *   - A token matches a start when its uid equals id_token without case
 *     (OCPI CiString) and its type equals token_type; otherwise the
 *     token is unknown: a roaming token, no customer, and the CDR's
 *     cdr_token is the CPO's country and party with the uid as contract
 *     id (as before this record existed).
 *   - A token whose customer is retired (or missing) still starts
 *     sessions and its CDR keeps the token's issuer and contract id, but
 *     the session gets no customer: no driver invoice.
 */

#include <string.h>

#include "evb_ops.h"
#include "../../lmdb/evb_store_driver.h"


static int
evb_party_same(evb_str_t a, evb_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len)
                                            == 0);
}


static int
evb_customer_same(const evb_customer_t *a, const evb_customer_t *b)
{
    return evb_party_same(a->buyer.name, b->buyer.name)
           && evb_party_same(a->buyer.email, b->buyer.email)
           && evb_party_same(a->buyer.address.street,
                             b->buyer.address.street)
           && evb_party_same(a->buyer.address.city, b->buyer.address.city)
           && evb_party_same(a->buyer.address.postal_code,
                             b->buyer.address.postal_code)
           && evb_party_same(a->buyer.address.country,
                             b->buyer.address.country)
           && evb_party_same(a->buyer.vat_id, b->buyer.vat_id)
           && a->invoicing == b->invoicing
           && a->payment_terms_days == b->payment_terms_days
           && evb_party_same(a->language, b->language);
}


static int
evb_token_same(const evb_token_rec_t *a, const evb_token_rec_t *b)
{
    return evb_party_same(a->uid, b->uid)
           && a->type == b->type
           && evb_party_same(a->customer_id, b->customer_id)
           && evb_party_same(a->contract_id, b->contract_id)
           && evb_party_same(a->issuer_country, b->issuer_country)
           && evb_party_same(a->issuer_party, b->issuer_party);
}


/* customers */

static void
evb_op_put_customer_clear(evb_wop_t *w)
{
    ((evb_op_put_customer_t *) w)->created = 0;
}


static evb_problem_e
evb_op_put_customer_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                     rc;
    evb_customer_t          old, c;
    evb_op_put_customer_t  *o = (evb_op_put_customer_t *) w;
    evb_op_t               *op = &o->op;

    if (o->customer == NULL
        || !evb_id_valid(o->customer->customer_id.data,
                         o->customer->customer_id.len))
    {
        return evb_refuse(op, EVB_P_INTERNAL, "no customer given");
    }

    c = *o->customer;
    c.retired = 0;
    c.retired_at = 0;
    c.updated_at = op->now;

    rc = evb_tx_get_customer(tx, op->arena, c.customer_id, &old);

    if (rc == 0) {
        if (!old.retired && evb_customer_same(&old, &c)) {
            return EVB_OK;          /* a replay: nothing changes */
        }

        c.created_at = old.created_at;

    } else if (rc == EVB_ST_NOTFOUND) {
        c.created_at = op->now;
        o->created = 1;

    } else {
        return evb_op_store_error(op, rc);
    }

    rc = evb_tx_put_customer(tx, &c);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


static evb_problem_e
evb_op_retire_customer_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                        rc;
    evb_customer_t             c;
    evb_op_retire_customer_t  *o = (evb_op_retire_customer_t *) w;
    evb_op_t                  *op = &o->op;

    rc = evb_tx_get_customer(tx, op->arena, o->customer_id, &c);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_CUSTOMER, "no customer %.*s",
                          (int) o->customer_id.len, o->customer_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (c.retired) {
        return EVB_OK;
    }

    c.retired = 1;
    c.retired_at = op->now;
    c.updated_at = op->now;

    rc = evb_tx_put_customer(tx, &c);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/* tokens */

static void
evb_op_put_token_clear(evb_wop_t *w)
{
    ((evb_op_put_token_t *) w)->created = 0;
}


static evb_problem_e
evb_op_put_token_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                  rc;
    evb_customer_t       c;
    evb_token_rec_t      old, t;
    evb_op_put_token_t  *o = (evb_op_put_token_t *) w;
    evb_op_t            *op = &o->op;

    if (o->token == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "no token given");
    }

    t = *o->token;

    rc = evb_tx_get_customer(tx, op->arena, t.customer_id, &c);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_CUSTOMER, "customer_id: no "
                          "customer %.*s", (int) t.customer_id.len,
                          t.customer_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (c.retired) {
        return evb_refuse(op, EVB_P_CUSTOMER_RETIRED, "customer_id: "
                          "customer %.*s is retired",
                          (int) t.customer_id.len, t.customer_id.data);
    }

    t.updated_at = op->now;

    rc = evb_tx_get_token(tx, op->arena, t.uid, &old);

    if (rc == 0) {
        if (evb_token_same(&old, &t)) {
            return EVB_OK;
        }

        t.created_at = old.created_at;

    } else if (rc == EVB_ST_NOTFOUND) {
        t.created_at = op->now;
        o->created = 1;

    } else {
        return evb_op_store_error(op, rc);
    }

    rc = evb_tx_put_token(tx, &t);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


static evb_problem_e
evb_op_delete_token_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                     rc;
    evb_op_delete_token_t  *o = (evb_op_delete_token_t *) w;
    evb_op_t               *op = &o->op;

    rc = evb_tx_del_token(tx, o->uid);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_TOKEN, "no token %.*s",
                          (int) o->uid.len, o->uid.data);
    }

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/* the session's start */

int
evb_party_session_start(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s,
    const evb_charger_t *c)
{
    int                  rc;
    evb_customer_t       cu;
    evb_token_rec_t      t;
    evb_session_start_t  st;

    memset(&st, 0, sizeof(evb_session_start_t));
    st.sid = s->sid;
    st.token_uid = s->id_token;
    st.token_type = s->token_type;
    st.charger_doc = c->doc;
    st.time_zone = c->time_zone;
    st.tariff_id = s->tariff_id;
    st.tariff_version = s->tariff_version;
    st.taken_at = s->started_at;

    rc = evb_tx_get_token(tx, op->arena, s->id_token, &t);

    if (rc == 0 && t.type == s->token_type) {
        st.token_known = 1;
        st.contract_id = t.contract_id;
        st.token_country = t.issuer_country;
        st.token_party = t.issuer_party;

        rc = evb_tx_get_customer(tx, op->arena, t.customer_id, &cu);

        if (rc == 0 && !cu.retired) {
            st.customer_id = t.customer_id;

        } else if (rc != 0 && rc != EVB_ST_NOTFOUND) {
            return rc;
        }

    } else if (rc != 0 && rc != EVB_ST_NOTFOUND) {
        return rc;
    }

    rc = evb_tx_put_session_start(tx, &st);

    /* the driver's list of own sessions, in the same transaction */
    if (rc == 0 && st.customer_id.len) {
        rc = evb_tx_customer_session_put(tx, st.customer_id, s->started_at,
                                         s->sid);
    }

    return rc;
}


int
evb_party_charger_at_start(evb_op_t *op, evb_wtxn_t *tx,
    const evb_session_t *s, evb_charger_t *c, evb_session_start_t *st,
    int *found)
{
    int                  rc;
    evb_session_start_t  own;

    if (st == NULL) {
        st = &own;
    }

    *found = 0;

    rc = evb_tx_get_session_start(tx, op->arena, s->sid, st);

    if (rc == EVB_ST_NOTFOUND) {
        /* stored before schema 3: the charger as it is now */
        return evb_tx_get_charger(tx, op->arena, s->charger_id, c);
    }

    if (rc != 0) {
        return rc;
    }

    *found = 1;

    memset(c, 0, sizeof(evb_charger_t));
    c->charger_id = s->charger_id;
    c->doc = st->charger_doc;
    c->time_zone = st->time_zone;
    c->tariff_id = st->tariff_id;

    return 0;
}


void
evb_op_put_customer_init(evb_op_put_customer_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_PUT_CUSTOMER, evb_op_put_customer_run,
                     evb_op_put_customer_clear, now, a);
}


void
evb_op_retire_customer_init(evb_op_retire_customer_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_RETIRE_CUSTOMER,
                     evb_op_retire_customer_run, NULL, now, a);
}


void
evb_op_put_token_init(evb_op_put_token_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_PUT_TOKEN, evb_op_put_token_run,
                     evb_op_put_token_clear, now, a);
}


void
evb_op_delete_token_init(evb_op_delete_token_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_DELETE_TOKEN, evb_op_delete_token_run,
                     NULL, now, a);
}
