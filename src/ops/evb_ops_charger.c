/*
 * evbill ops: chargers and keys.
 */

#include <string.h>

#include <openssl/crypto.h>

#include "evb_ops.h"
#include "../core/evb_crypto.h"


static int
evb_same_str(evb_str_t a, evb_str_t b)
{
    return a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
}


/* key comparison under the master key: sealing is randomised */
static int
evb_same_secret(const unsigned char *master_key,
    const evb_key_record_t *stored, const evb_key_t *key)
{
    int            same;
    long           n;
    unsigned char  plain[EVB_SECRET_MAX];

    if (stored->sealed.len < EVB_SEAL_OVERHEAD
        || stored->sealed.len > EVB_SECRET_MAX + EVB_SEAL_OVERHEAD)
    {
        return 0;
    }

    n = evb_open(master_key, (const unsigned char *) stored->sealed.data,
                 stored->sealed.len, stored->key_id.data, stored->key_id.len,
                 plain);

    same = n >= 0 && (size_t) n == key->secret_len
           && CRYPTO_memcmp(plain, key->secret, key->secret_len) == 0;

    OPENSSL_cleanse(plain, sizeof(plain));

    return same;
}


static evb_problem_e
evb_put_key_one(evb_op_t *op, evb_wtxn_t *tx, evb_str_t charger_id,
    evb_str_t key_id, const evb_key_t *key, evb_str_t sealed,
    const unsigned char *master_key, int *created)
{
    int               rc;
    evb_key_record_t  k;

    *created = 0;

    if (!evb_id_valid(key_id.data, key_id.len)) {
        return evb_refuse(op, EVB_P_INVALID_VALUE, "invalid key id");
    }

    if (sealed.len == 0 || sealed.data == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "key %.*s has no sealed "
                          "secret", (int) key_id.len, key_id.data);
    }

    rc = evb_tx_get_key(tx, op->arena, key_id, &k);

    if (rc == EVB_ST_NOTFOUND) {
        memset(&k, 0, sizeof(k));
        k.charger_id = charger_id;
        k.sealed = sealed;
        k.created_at = op->now;

        rc = evb_tx_put_key(tx, key_id, &k);
        if (rc == 0) {
            rc = evb_tx_link_key(tx, charger_id, key_id);
        }

        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        *created = 1;
        return EVB_OK;
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (!evb_same_str(k.charger_id, charger_id)) {
        return evb_refuse(op, EVB_P_KEY_CONFLICT,
                          "key id %.*s is in use by another charger",
                          (int) key_id.len, key_id.data);
    }

    if (k.retired) {
        return evb_refuse(op, EVB_P_KEY_CONFLICT,
                          "key %.*s is retired; a new key needs a new key id",
                          (int) key_id.len, key_id.data);
    }

    if (master_key == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "no master key to compare "
                          "key %.*s", (int) key_id.len, key_id.data);
    }

    if (!evb_same_secret(master_key, &k, key)) {
        return evb_refuse(op, EVB_P_KEY_CONFLICT,
                          "key %.*s exists with another secret; a new "
                          "secret needs a new key id", (int) key_id.len,
                          key_id.data);
    }

    /* the same key again: nothing to write */
    return EVB_OK;
}


static void
evb_op_put_charger_clear(evb_wop_t *w)
{
    ((evb_op_put_charger_t *) w)->created = 0;
}


static evb_problem_e
evb_op_put_charger_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                    rc, kcreated;
    size_t                 i;
    evb_str_t              id;
    evb_problem_e          p;
    evb_charger_t          old, rec;
    evb_op_put_charger_t  *o = (evb_op_put_charger_t *) w;
    evb_charger_t         *c = o->charger;

    if (c == NULL) {
        return evb_refuse(&o->op, EVB_P_INTERNAL, "no charger given");
    }

    id = o->charger_id.len ? o->charger_id : c->charger_id;

    if (!evb_id_valid(id.data, id.len)) {
        return evb_refuse(&o->op, EVB_P_INVALID_VALUE, "invalid charger id");
    }

    if (c->nkeys && (c->keys == NULL || o->sealed_keys == NULL)) {
        return evb_refuse(&o->op, EVB_P_INTERNAL,
                          "keys without sealed secrets");
    }

    memset(&rec, 0, sizeof(rec));
    rec.doc = c->doc;
    rec.tariff_id = c->tariff_id;
    rec.time_zone = c->time_zone;
    rec.updated_at = o->op.now;

    rc = evb_tx_get_charger(tx, o->op.arena, id, &old);

    if (rc == 0) {
        rec.created_at = old.created_at;

    } else if (rc == EVB_ST_NOTFOUND) {
        rec.created_at = o->op.now;
        o->created = 1;

    } else {
        return evb_op_store_error(&o->op, rc);
    }

    /* rec.retired = 0: a PUT of a retired charger revives it */

    rc = evb_tx_put_charger(tx, id, &rec);
    if (rc != 0) {
        return evb_op_store_error(&o->op, rc);
    }

    for (i = 0; i < c->nkeys; i++) {
        p = evb_put_key_one(&o->op, tx, id, c->keys[i].key_id, &c->keys[i],
                            o->sealed_keys[i], o->master_key, &kcreated);
        if (p != EVB_OK) {
            return p;
        }
    }

    /* a PUT replaces: no "payment_hold" drops the charger's own */
    rc = evb_pay_charger_hold(&o->op, tx, id, o->has_hold ? &o->hold : NULL);

    return rc ? evb_op_store_error(&o->op, rc) : EVB_OK;
}


static evb_problem_e
evb_op_retire_charger_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                       rc;
    evb_charger_t             c;
    evb_op_retire_charger_t  *o = (evb_op_retire_charger_t *) w;

    rc = evb_tx_get_charger(tx, o->op.arena, o->charger_id, &c);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(&o->op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(&o->op, rc);
    }

    if (c.retired) {
        return EVB_OK;
    }

    c.retired = 1;
    c.updated_at = o->op.now;

    rc = evb_tx_put_charger(tx, o->charger_id, &c);

    return rc ? evb_op_store_error(&o->op, rc) : EVB_OK;
}


static void
evb_op_put_key_clear(evb_wop_t *w)
{
    ((evb_op_put_key_t *) w)->created = 0;
}


static evb_problem_e
evb_op_put_key_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                rc, created;
    evb_str_t          key_id;
    evb_problem_e      p;
    evb_charger_t      c;
    evb_op_put_key_t  *o = (evb_op_put_key_t *) w;

    if (o->key == NULL) {
        return evb_refuse(&o->op, EVB_P_INTERNAL, "no key given");
    }

    rc = evb_tx_get_charger(tx, o->op.arena, o->charger_id, &c);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(&o->op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(&o->op, rc);
    }

    if (c.retired) {
        return evb_refuse(&o->op, EVB_P_CHARGER_RETIRED,
                          "charger %.*s is retired",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    key_id = o->key_id.len ? o->key_id : o->key->key_id;

    p = evb_put_key_one(&o->op, tx, o->charger_id, key_id, o->key,
                        o->sealed, o->master_key, &created);
    o->created = created;

    return p;
}


static evb_problem_e
evb_op_retire_key_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                   rc;
    evb_key_record_t      k;
    evb_op_retire_key_t  *o = (evb_op_retire_key_t *) w;

    rc = evb_tx_get_key(tx, o->op.arena, o->key_id, &k);

    if (rc == EVB_ST_NOTFOUND
        || (rc == 0 && !evb_same_str(k.charger_id, o->charger_id)))
    {
        return evb_refuse(&o->op, EVB_P_UNKNOWN_KEY,
                          "no key %.*s on charger %.*s",
                          (int) o->key_id.len, o->key_id.data,
                          (int) o->charger_id.len, o->charger_id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(&o->op, rc);
    }

    if (k.retired) {
        return EVB_OK;
    }

    k.retired = 1;
    k.retired_at = o->op.now;

    rc = evb_tx_put_key(tx, o->key_id, &k);

    return rc ? evb_op_store_error(&o->op, rc) : EVB_OK;
}


void
evb_op_put_charger_init(evb_op_put_charger_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_PUT_CHARGER, evb_op_put_charger_run,
                     evb_op_put_charger_clear, now, a);
}


void
evb_op_retire_charger_init(evb_op_retire_charger_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_RETIRE_CHARGER,
                     evb_op_retire_charger_run, NULL, now, a);
}


void
evb_op_put_key_init(evb_op_put_key_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_PUT_KEY, evb_op_put_key_run,
                     evb_op_put_key_clear, now, a);
}


void
evb_op_retire_key_init(evb_op_retire_key_t *o, evb_msec_t now,
    evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_RETIRE_KEY, evb_op_retire_key_run, NULL,
                     now, a);
}
