/*
 * The evbill store on LMDB.
 *
 * Environment: MDB_NOTLS (reader slots belong to transactions, so the
 * event loop can reset and renew one read transaction), MDB_NOMETASYNC
 * with an explicit mdb_env_sync() after every commit, before anything is
 * answered (a 2xx means the data is on disk; the meta page's flush just
 * happens after LMDB's write lock is released, so the other worker's
 * commit overlaps it); never NOSYNC or WRITEMAP.  Mode
 * 0600, stale reader slots cleared at open.  The directory must exist.
 *
 * Named databases; integer keys are fixed-width big-endian, and an id
 * pair is "a \0 b" (ids are printable ASCII, so the NUL keeps prefix
 * scans exact):
 *
 *   meta            "schema_version" -> BE32, "next_sid" -> BE64
 *   chargers        charger_id -> charger record
 *   keys            key_id -> key record (charger, sealed secret, ...)
 *   charger_keys    charger_id \0 key_id -> ""      (keys of a charger)
 *   sessions        sid BE64 -> session record
 *   session_names   charger_id \0 session_id -> sid BE64
 *   readings        sid BE64 || seq BE64 -> reading record
 *   session_time    T || sid BE64 -> ""             (newest-first lists)
 *   charger_time    charger_id \0 T || sid BE64 -> "" (same, one charger)
 *   active          sid BE64 -> ""                  (for the idle sweep)
 *   tariffs         tariff_id -> BE32 latest version
 *   tariff_versions tariff_id \0 BE32 version -> BE64 created_at || JSON
 *   cdrs            sid BE64 -> the OCPI CDR (JSON) of a stopped session
 *
 * T is started_at as a BE64 with the sign bit flipped, so byte order is
 * time order.  A list cursor is the hex of the 16 bytes T || sid; it
 * means the same position in session_time and charger_time.  Records are
 * encoded in evb_codec.c.
 *
 * Schema: a new environment gets EVB_SCHEMA_VERSION in its first write
 * transaction at open; the check and the write happen inside one write
 * transaction, so workers opening a new directory at once agree.
 *
 * Writes: evb_store_apply() runs a batch in one write transaction, each op
 * in a nested transaction.  An op's own problem aborts only its child; a
 * record that does not decode fails only that op (store-unavailable).  Any
 * LMDB error aborts the whole batch: MDB_MAP_FULL becomes store-full
 * (507), others store-unavailable, and nothing of the batch is written.
 *
 * Semantics decided here:
 *   - PUT of a retired charger revives it (the operator re-registers it);
 *     its keys keep their own retired flags.
 *   - A stored reading is never rewritten; a replayed seq is a duplicate
 *     if its values are equal, else a conflict.  Replays do not count as
 *     activity for the idle sweep (nothing is written).
 *   - The idle sweep closes active sessions whose updated_at (the time of
 *     the last write to them, i.e. the last stored reading or the start)
 *     is at least idle_timeout old, at their last reading's time and
 *     register, with reason "timeout".
 *   - list_sessions: limit 0 means 50; more than EVB_LIST_MAX is clamped.
 *
 * Threads: apply() runs in one writer thread at a time; reads run in the
 * event loop thread (one at a time; they share a cached read txn).  If
 * another process grew the map, MDB_MAP_RESIZED asks us to remap with
 * mdb_env_set_mapsize(env, 0), which is legal only with no write txn in
 * this process and must not pull the map from under a reader: map_lock
 * (readers share it, the remap takes it exclusively) and write_lock (held
 * by apply) order that.
 */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <openssl/crypto.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "../src/core/evb_crypto.h"


#define EVB_LIST_DEFAULT   50
#define EVB_LIST_MAX       1000

/* our own result codes next to LMDB's (which are -30799..-30780) */
#define EVB_RC_CORRUPT     (-30600)

#define EVB_PAIR_MAX       (2 * EVB_ID_MAX + 1)


enum {
    EVB_DB_META = 0,
    EVB_DB_CHARGERS,
    EVB_DB_KEYS,
    EVB_DB_CHARGER_KEYS,
    EVB_DB_SESSIONS,
    EVB_DB_SESSION_NAMES,
    EVB_DB_READINGS,
    EVB_DB_SESSION_TIME,
    EVB_DB_CHARGER_TIME,
    EVB_DB_ACTIVE,
    EVB_DB_TARIFFS,
    EVB_DB_TARIFF_VERSIONS,
    EVB_DB_CDRS,
    EVB_DB_COUNT
};

static const char  *evb_db_names[EVB_DB_COUNT] = {
    "meta", "chargers", "keys", "charger_keys", "sessions",
    "session_names", "readings", "session_time", "charger_time", "active",
    "tariffs", "tariff_versions", "cdrs"
};


struct evb_store_s {
    MDB_env            *env;
    evb_bill_cache_t   *bill_cache;    /* writer only, under write_lock */
    MDB_dbi             dbi[EVB_DB_COUNT];
    MDB_txn            *rtxn;          /* a reset read txn, event loop */
    pthread_rwlock_t    map_lock;
    pthread_mutex_t     write_lock;
};


static int evb_load_readings(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *nreadings);
static void evb_span_text(char *buf, size_t len, evb_msec_t ms);


/* the state of one op inside apply() */
typedef struct {
    evb_store_t        *st;
    MDB_txn            *txn;           /* the op's nested txn */
    evb_op_t           *op;
    evb_enc_t           enc;
} evb_wctx_t;


int (*evb_store_sync_hook)(evb_store_t *store);


/* the request parser's rule: one rule for ids, wherever they come from */
static int
evb_id_ok(evb_str_t s)
{
    return evb_id_valid(s.data, s.len);
}


static size_t
evb_pair_key(unsigned char *buf, evb_str_t a, evb_str_t b)
{
    memcpy(buf, a.data, a.len);
    buf[a.len] = '\0';
    memcpy(buf + a.len + 1, b.data, b.len);

    return a.len + 1 + b.len;
}


static int
evb_dec_rc(int drc)
{
    switch (drc) {
    case EVB_DEC_OK:
        return 0;
    case EVB_DEC_NOMEM:
        return ENOMEM;
    default:
        return EVB_RC_CORRUPT;
    }
}


static evb_problem_e
evb_rc_problem(int rc)
{
    if (rc == 0) {
        return EVB_OK;
    }

    if (rc == ENOMEM) {
        return EVB_P_INTERNAL;
    }

    if (rc == MDB_MAP_FULL) {
        return EVB_P_STORE_FULL;
    }

    return EVB_P_STORE_UNAVAILABLE;
}


const char *
evb_store_strerror(int rc)
{
    if (rc == EVB_RC_CORRUPT) {
        return "a stored record does not decode";
    }

    return mdb_strerror(rc);
}


/* plain get/put */

static int
evb_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
    MDB_val  key;

    key.mv_data = (void *) k;
    key.mv_size = klen;

    return mdb_get(txn, dbi, &key, v);
}


static int
evb_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
    MDB_val  key, val;

    key.mv_data = (void *) k;
    key.mv_size = klen;
    val.mv_data = (void *) v;
    val.mv_size = vlen;

    return mdb_put(txn, dbi, &key, &val, 0);
}


static int
evb_del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen)
{
    int      rc;
    MDB_val  key;

    key.mv_data = (void *) k;
    key.mv_size = klen;

    rc = mdb_del(txn, dbi, &key, NULL);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


/* records */

static int
evb_load_charger(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    evb_str_t id, evb_charger_t *c)
{
    int      rc;
    MDB_val  v;

    if (!evb_id_ok(id)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, st->dbi[EVB_DB_CHARGERS], id.data, id.len, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_rc(evb_dec_charger(a, v.mv_data, v.mv_size, c));
    if (rc != 0) {
        return rc;
    }

    c->charger_id.data = evb_arena_strdup(a, id.data, id.len);
    if (c->charger_id.data == NULL) {
        return ENOMEM;
    }
    c->charger_id.len = id.len;

    return 0;
}


static int
evb_load_key(evb_store_t *st, MDB_txn *txn, evb_arena_t *a, evb_str_t id,
    evb_key_record_t *k)
{
    int      rc;
    MDB_val  v;

    if (!evb_id_ok(id)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, st->dbi[EVB_DB_KEYS], id.data, id.len, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_rc(evb_dec_key(a, v.mv_data, v.mv_size, k));
    if (rc != 0) {
        return rc;
    }

    k->key_id.data = evb_arena_strdup(a, id.data, id.len);
    if (k->key_id.data == NULL) {
        return ENOMEM;
    }
    k->key_id.len = id.len;

    return 0;
}


static int
evb_load_session_sid(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    uint64_t sid, evb_session_t *s)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[8];

    evb_put_be64(k, sid);

    rc = evb_get(txn, st->dbi[EVB_DB_SESSIONS], k, 8, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_rc(evb_dec_session(a, v.mv_data, v.mv_size, s));
    if (rc == 0 && s->sid != sid) {
        rc = EVB_RC_CORRUPT;
    }

    return rc;
}


static int
evb_load_session(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, evb_session_t *s)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[EVB_PAIR_MAX];

    if (!evb_id_ok(charger_id) || !evb_id_ok(session_id)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, st->dbi[EVB_DB_SESSION_NAMES], k,
                 evb_pair_key(k, charger_id, session_id), &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size != 8) {
        return EVB_RC_CORRUPT;
    }

    rc = evb_load_session_sid(st, txn, a, evb_get_be64(v.mv_data), s);

    /* an index entry without its record is damage, not "unknown" */
    return rc == MDB_NOTFOUND ? EVB_RC_CORRUPT : rc;
}


static int
evb_save_session(evb_wctx_t *w, const evb_session_t *s)
{
    unsigned char  k[8];

    evb_enc_reset(&w->enc);
    evb_enc_session(&w->enc, s);
    if (w->enc.oom) {
        return ENOMEM;
    }

    evb_put_be64(k, s->sid);

    return evb_put(w->txn, w->st->dbi[EVB_DB_SESSIONS], k, 8, w->enc.p,
                   w->enc.len);
}


static int
evb_save_charger(evb_wctx_t *w, evb_str_t id, const evb_charger_t *c)
{
    evb_enc_reset(&w->enc);
    evb_enc_charger(&w->enc, c);
    if (w->enc.oom) {
        return ENOMEM;
    }

    return evb_put(w->txn, w->st->dbi[EVB_DB_CHARGERS], id.data, id.len,
                   w->enc.p, w->enc.len);
}


static int
evb_save_key(evb_wctx_t *w, evb_str_t id, const evb_key_record_t *k)
{
    evb_enc_reset(&w->enc);
    evb_enc_key(&w->enc, k);
    if (w->enc.oom) {
        return ENOMEM;
    }

    return evb_put(w->txn, w->st->dbi[EVB_DB_KEYS], id.data, id.len,
                   w->enc.p, w->enc.len);
}


/* the session as just encoded, copied into the op's arena */
static int
evb_output_session(evb_wctx_t *w)
{
    return evb_dec_rc(evb_dec_session(w->op->arena, w->enc.p, w->enc.len,
                                      &w->op->session));
}


static int
evb_fail(evb_op_t *op, evb_problem_e p, const char *fmt, ...)
{
    va_list  ap;

    op->problem = p;

    va_start(ap, fmt);
    vsnprintf(op->detail, sizeof(op->detail), fmt, ap);
    va_end(ap);

    /* an op problem is not a store error: the caller goes on */
    return 0;
}


/* keys */

static int
evb_same_secret(evb_op_t *op, const evb_key_record_t *stored,
    const evb_key_t *key)
{
    int            same;
    long           n;
    unsigned char  plain[EVB_SECRET_MAX];

    if (stored->sealed.len < EVB_SEAL_OVERHEAD
        || stored->sealed.len > EVB_SECRET_MAX + EVB_SEAL_OVERHEAD)
    {
        return 0;
    }

    n = evb_open(op->master_key, (const unsigned char *) stored->sealed.data,
                 stored->sealed.len, stored->key_id.data, stored->key_id.len,
                 plain);

    same = n >= 0 && (size_t) n == key->secret_len
           && CRYPTO_memcmp(plain, key->secret, key->secret_len) == 0;

    OPENSSL_cleanse(plain, sizeof(plain));

    return same;
}


static int
evb_put_key_one(evb_wctx_t *w, evb_str_t charger_id, evb_str_t key_id,
    const evb_key_t *key, evb_str_t sealed, int *created)
{
    int               rc;
    size_t            klen;
    evb_op_t         *op = w->op;
    evb_key_record_t  k;
    unsigned char     pk[EVB_PAIR_MAX];

    *created = 0;

    if (!evb_id_ok(key_id)) {
        return evb_fail(op, EVB_P_INVALID_VALUE, "invalid key id");
    }

    if (sealed.len == 0 || sealed.data == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "key %.*s has no sealed secret",
                        (int) key_id.len, key_id.data);
    }

    rc = evb_load_key(w->st, w->txn, op->arena, key_id, &k);

    if (rc == MDB_NOTFOUND) {
        memset(&k, 0, sizeof(k));
        k.charger_id = charger_id;
        k.sealed = sealed;
        k.created_at = op->now;

        rc = evb_save_key(w, key_id, &k);
        if (rc != 0) {
            return rc;
        }

        klen = evb_pair_key(pk, charger_id, key_id);
        rc = evb_put(w->txn, w->st->dbi[EVB_DB_CHARGER_KEYS], pk, klen,
                     "", 0);
        if (rc != 0) {
            return rc;
        }

        *created = 1;
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (k.charger_id.len != charger_id.len
        || memcmp(k.charger_id.data, charger_id.data, charger_id.len) != 0)
    {
        return evb_fail(op, EVB_P_KEY_CONFLICT,
                        "key id %.*s is in use by another charger",
                        (int) key_id.len, key_id.data);
    }

    if (k.retired) {
        return evb_fail(op, EVB_P_KEY_CONFLICT,
                        "key %.*s is retired; a new key needs a new key id",
                        (int) key_id.len, key_id.data);
    }

    if (op->master_key == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no master key to compare "
                        "key %.*s", (int) key_id.len, key_id.data);
    }

    if (!evb_same_secret(op, &k, key)) {
        return evb_fail(op, EVB_P_KEY_CONFLICT,
                        "key %.*s exists with another secret; a new secret "
                        "needs a new key id", (int) key_id.len, key_id.data);
    }

    /* the same key again: nothing to write */
    return 0;
}


/* ops */

static int
evb_op_put_charger(evb_wctx_t *w)
{
    int            rc, kcreated;
    size_t         i;
    evb_op_t      *op = w->op;
    evb_str_t      id, key_id;
    evb_charger_t *c = op->charger, old, rec;

    if (c == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no charger given");
    }

    id = op->charger_id.len ? op->charger_id : c->charger_id;

    if (!evb_id_ok(id)) {
        return evb_fail(op, EVB_P_INVALID_VALUE, "invalid charger id");
    }

    if (c->nkeys && (c->keys == NULL || op->sealed_keys == NULL)) {
        return evb_fail(op, EVB_P_INTERNAL, "keys without sealed secrets");
    }

    memset(&rec, 0, sizeof(rec));
    rec.doc = c->doc;
    rec.tariff_id = c->tariff_id;
    rec.time_zone = c->time_zone;
    rec.updated_at = op->now;

    rc = evb_load_charger(w->st, w->txn, op->arena, id, &old);

    if (rc == 0) {
        rec.created_at = old.created_at;

    } else if (rc == MDB_NOTFOUND) {
        rec.created_at = op->now;
        op->created = 1;

    } else {
        return rc;
    }

    /* rec.retired = 0: a PUT of a retired charger revives it */

    rc = evb_save_charger(w, id, &rec);
    if (rc != 0) {
        return rc;
    }

    for (i = 0; i < c->nkeys; i++) {
        key_id = c->keys[i].key_id;

        rc = evb_put_key_one(w, id, key_id, &c->keys[i], op->sealed_keys[i],
                             &kcreated);
        if (rc != 0 || op->problem != EVB_OK) {
            return rc;
        }
    }

    return 0;
}


static int
evb_op_retire_charger(evb_wctx_t *w)
{
    int            rc;
    evb_op_t      *op = w->op;
    evb_charger_t  c;

    rc = evb_load_charger(w->st, w->txn, op->arena, op->charger_id, &c);
    if (rc == MDB_NOTFOUND) {
        return evb_fail(op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                        (int) op->charger_id.len, op->charger_id.data);
    }

    if (rc != 0 || c.retired) {
        return rc;
    }

    c.retired = 1;
    c.updated_at = op->now;

    return evb_save_charger(w, op->charger_id, &c);
}


static int
evb_check_charger(evb_wctx_t *w, evb_charger_t *c)
{
    int        rc;
    evb_op_t  *op = w->op;

    rc = evb_load_charger(w->st, w->txn, op->arena, op->charger_id, c);
    if (rc == MDB_NOTFOUND) {
        return evb_fail(op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                        (int) op->charger_id.len, op->charger_id.data);
    }

    if (rc == 0 && c->retired) {
        return evb_fail(op, EVB_P_CHARGER_RETIRED, "charger %.*s is retired",
                        (int) op->charger_id.len, op->charger_id.data);
    }

    return rc;
}


static int
evb_op_put_key(evb_wctx_t *w)
{
    int            rc, created;
    evb_op_t      *op = w->op;
    evb_str_t      key_id;
    evb_charger_t  c;

    if (op->key == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no key given");
    }

    rc = evb_check_charger(w, &c);
    if (rc != 0 || op->problem != EVB_OK) {
        return rc;
    }

    key_id = op->key_id.len ? op->key_id : op->key->key_id;

    rc = evb_put_key_one(w, op->charger_id, key_id, op->key, op->sealed,
                         &created);
    op->created = created;

    return rc;
}


static int
evb_op_retire_key(evb_wctx_t *w)
{
    int               rc;
    evb_op_t         *op = w->op;
    evb_key_record_t  k;

    rc = evb_load_key(w->st, w->txn, op->arena, op->key_id, &k);

    if (rc == MDB_NOTFOUND
        || (rc == 0
            && (k.charger_id.len != op->charger_id.len
                || memcmp(k.charger_id.data, op->charger_id.data,
                          k.charger_id.len) != 0)))
    {
        return evb_fail(op, EVB_P_UNKNOWN_KEY, "no key %.*s on charger %.*s",
                        (int) op->key_id.len, op->key_id.data,
                        (int) op->charger_id.len, op->charger_id.data);
    }

    if (rc != 0 || k.retired) {
        return rc;
    }

    k.retired = 1;
    k.retired_at = op->now;

    return evb_save_key(w, op->key_id, &k);
}


static int
evb_next_sid(evb_wctx_t *w, uint64_t *sid)
{
    int            rc;
    MDB_val        v;
    unsigned char  b[8];

    static const char  name[] = "next_sid";

    rc = evb_get(w->txn, w->st->dbi[EVB_DB_META], name, sizeof(name) - 1,
                 &v);
    if (rc == MDB_NOTFOUND) {
        *sid = 1;

    } else if (rc != 0) {
        return rc;

    } else if (v.mv_size != 8) {
        return EVB_RC_CORRUPT;

    } else {
        *sid = evb_get_be64(v.mv_data);
    }

    evb_put_be64(b, *sid + 1);

    return evb_put(w->txn, w->st->dbi[EVB_DB_META], name, sizeof(name) - 1,
                   b, 8);
}



/* tariffs and billing */

static int
evb_load_tariff(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    evb_str_t id, uint32_t version, evb_str_t *json, uint32_t *found,
    evb_msec_t *created_at)
{
    int            rc;
    MDB_val        v;
    unsigned char  k[EVB_ID_MAX + 1 + 4];

    if (!evb_id_ok(id)) {
        return MDB_NOTFOUND;
    }

    if (version == 0) {
        rc = evb_get(txn, st->dbi[EVB_DB_TARIFFS], id.data, id.len, &v);
        if (rc != 0) {
            return rc;
        }

        if (v.mv_size != 4) {
            return EVB_RC_CORRUPT;
        }

        version = evb_get_be32(v.mv_data);
    }

    memcpy(k, id.data, id.len);
    k[id.len] = '\0';
    evb_put_be32(k + id.len + 1, version);

    rc = evb_get(txn, st->dbi[EVB_DB_TARIFF_VERSIONS], k, id.len + 5, &v);
    if (rc != 0) {
        return rc;
    }

    if (v.mv_size < 8) {
        return EVB_RC_CORRUPT;
    }

    json->len = v.mv_size - 8;
    json->data = evb_arena_strdup(a, (char *) v.mv_data + 8, json->len);
    if (json->data == NULL) {
        return ENOMEM;
    }

    if (found) {
        *found = version;
    }

    if (created_at) {
        *created_at = (evb_msec_t) evb_get_be64(v.mv_data);
    }

    return 0;
}


static int
evb_op_put_tariff(evb_wctx_t *w)
{
    int            rc;
    uint32_t       version;
    evb_op_t      *op = w->op;
    evb_str_t      latest;
    unsigned char  k[EVB_ID_MAX + 1 + 4], b[4], t[8];

    if (!evb_id_ok(op->tariff_id) || op->tariff_json.len == 0) {
        return evb_fail(op, EVB_P_INTERNAL, "no tariff given");
    }

    rc = evb_load_tariff(w->st, w->txn, op->arena, op->tariff_id, 0,
                         &latest, &version, NULL);

    if (rc == 0) {
        /* a replayed PUT is not a new version */
        if (latest.len == op->tariff_json.len
            && memcmp(latest.data, op->tariff_json.data, latest.len) == 0)
        {
            op->tariff_version = version;
            return 0;
        }

        version++;

    } else if (rc == MDB_NOTFOUND) {
        version = 1;

    } else {
        return rc;
    }

    memcpy(k, op->tariff_id.data, op->tariff_id.len);
    k[op->tariff_id.len] = '\0';
    evb_put_be32(k + op->tariff_id.len + 1, version);

    evb_put_be64(t, (uint64_t) op->now);

    evb_enc_reset(&w->enc);
    evb_enc_raw(&w->enc, t, 8);
    evb_enc_raw(&w->enc, op->tariff_json.data, op->tariff_json.len);
    if (w->enc.oom) {
        return ENOMEM;
    }

    rc = evb_put(w->txn, w->st->dbi[EVB_DB_TARIFF_VERSIONS], k,
                 op->tariff_id.len + 5, w->enc.p, w->enc.len);
    if (rc != 0) {
        return rc;
    }

    evb_put_be32(b, version);

    rc = evb_put(w->txn, w->st->dbi[EVB_DB_TARIFFS], op->tariff_id.data,
                 op->tariff_id.len, b, 4);
    if (rc != 0) {
        return rc;
    }

    op->tariff_version = version;
    op->created = (version == 1);

    return 0;
}


/*
 * What a session is rated with: its tariff version and its charger's time
 * zone.  A tariff that is not (yet) defined leaves the session unrated
 * with a reason; meter data is never refused for a pricing problem.
 */
static int
evb_bill_prepare(evb_wctx_t *w, const evb_session_t *s,
    const evb_charger_t *c, evb_bill_t *b, evb_str_t *why)
{
    int        rc;
    char       msg[192];
    evb_op_t  *op = w->op;

    memset(b, 0, sizeof(evb_bill_t));
    b->tariff_id = s->tariff_id;
    b->tariff_version = s->tariff_version;
    b->time_zone = c->time_zone;
    b->conf = op->bill;
    b->cache = w->st->bill_cache;

    if (s->tariff_version == 0) {
        snprintf(msg, sizeof(msg), "tariff %.*s was not defined when the "
                 "session started", (int) s->tariff_id.len,
                 s->tariff_id.data);
        goto unrated;
    }

    rc = evb_load_tariff(w->st, w->txn, op->arena, s->tariff_id,
                         s->tariff_version, &b->tariff_json, NULL, NULL);
    if (rc == MDB_NOTFOUND) {
        snprintf(msg, sizeof(msg), "tariff %.*s version %u is missing",
                 (int) s->tariff_id.len, s->tariff_id.data,
                 (unsigned) s->tariff_version);
        goto unrated;
    }

    return rc;

unrated:

    why->len = strlen(msg);
    why->data = evb_arena_strdup(op->arena, msg, why->len);
    if (why->data == NULL) {
        return ENOMEM;
    }

    return MDB_NOTFOUND;
}


/* Not rated: no price (nor the rating state behind one) stays current. */
static void
evb_bill_unrated(evb_session_t *s, evb_str_t why)
{
    s->cost.data = "";
    s->cost.len = 0;
    s->meter.data = "";
    s->meter.len = 0;
    s->cost_error = why;
}


static int
evb_bill_note(evb_wctx_t *w, evb_session_t *s, evb_problem_e p,
    const char *detail)
{
    evb_str_t  why;

    if (p == EVB_OK) {
        s->cost_error.data = "";
        s->cost_error.len = 0;
        return 0;
    }

    /* a price that could not be computed is no price: never leave the
     * previous one looking current */
    why.len = strlen(detail);
    why.data = evb_arena_strdup(w->op->arena, detail, why.len);
    if (why.data == NULL) {
        return ENOMEM;
    }

    evb_bill_unrated(s, why);

    return 0;
}


/*
 * A stopped session: the final price from its raw readings, and its CDR.
 * A stop that would take the session past max_periods is refused; the
 * idle sweep (sweep) closes at the last reading, which was within the
 * bounds when it was stored, and closes a session stored beyond them
 * (older data, or bounds lowered since) unrated, after bounded work.
 */
static int
evb_bill_close(evb_wctx_t *w, evb_session_t *s, int sweep)
{
    int             rc;
    size_t          n;
    evb_bill_t      b;
    evb_str_t       cost, cdr, why;
    evb_charger_t   c;
    evb_problem_e   p;
    evb_msec_t      max;
    evb_reading_t  *readings;
    unsigned char   k[8];
    char            detail[192], span[32];

    if (w->op->bill == NULL) {
        return 0;
    }

    max = w->op->bill->policy.max_duration;

    if (sweep && max && s->stopped_at - s->started_at > max) {
        evb_span_text(span, sizeof(span), max);
        snprintf(detail, sizeof(detail), "the session spans more than %s "
                 "(evbill_session_max_duration); not rated", span);
        goto unrated;
    }

    rc = evb_load_charger(w->st, w->txn, w->op->arena, s->charger_id, &c);
    if (rc != 0) {
        return rc == MDB_NOTFOUND ? EVB_RC_CORRUPT : rc;
    }

    why.len = 0;
    rc = evb_bill_prepare(w, s, &c, &b, &why);
    if (rc == MDB_NOTFOUND) {
        evb_bill_unrated(s, why);
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    rc = evb_load_readings(w->st, w->txn, w->op->arena, s, &readings, &n);
    if (rc != 0) {
        return rc;
    }

    p = evb_bill_final(w->op->arena, &b, s, &c, readings, n, &cost, &cdr,
                       detail, sizeof(detail));

    if (p == EVB_P_SESSION_LIMIT) {
        if (!sweep) {
            return evb_fail(w->op, p, "%s; the session stays active",
                            detail);
        }

        goto unrated;
    }

    if (p != EVB_OK) {
        return evb_bill_note(w, s, p, detail);
    }

    s->cost = cost;

    evb_put_be64(k, s->sid);

    rc = evb_put(w->txn, w->st->dbi[EVB_DB_CDRS], k, 8, cdr.data, cdr.len);
    if (rc != 0) {
        return rc;
    }

    return evb_bill_note(w, s, EVB_OK, NULL);

unrated:

    /* closed without a price: no live cost left behind as if final */
    s->cost.data = "";
    s->cost.len = 0;

    return evb_bill_note(w, s, EVB_P_SESSION_LIMIT, detail);
}


/* a bound for a detail: "365 d", "6 h", "300 s" */
static void
evb_span_text(char *buf, size_t len, evb_msec_t ms)
{
    if (ms % 86400000 == 0) {
        snprintf(buf, len, "%lld d", (long long) (ms / 86400000));

    } else if (ms % 3600000 == 0) {
        snprintf(buf, len, "%lld h", (long long) (ms / 3600000));

    } else if (ms % 1000 == 0) {
        snprintf(buf, len, "%lld s", (long long) (ms / 1000));

    } else {
        snprintf(buf, len, "%lld ms", (long long) ms);
    }
}


/*
 * The server's clock bounds new timestamps: a charger's clock error or a
 * forged date cannot make the store keep (and rating price) years of
 * data.  Called only for what is not stored yet, so replays stay
 * duplicates whatever their age.  1 when the op failed.
 */
static int
evb_check_time(evb_op_t *op, evb_msec_t ts, const char *what)
{
    char  when[32], span[32];

    if (!op->check_time) {
        return 0;
    }

    if (ts < op->now - op->max_age) {
        when[evb_time_format_rfc3339(ts, when)] = '\0';
        evb_span_text(span, sizeof(span), op->max_age);
        evb_fail(op, EVB_P_TOO_OLD, "%s: timestamp %s is more than %s "
                 "before the server's clock (evbill_max_data_age)", what,
                 when, span);
        return 1;
    }

    if (ts > op->now + op->max_ahead) {
        when[evb_time_format_rfc3339(ts, when)] = '\0';
        evb_span_text(span, sizeof(span), op->max_ahead);
        evb_fail(op, EVB_P_IN_THE_FUTURE, "%s: timestamp %s is more than "
                 "%s ahead of the server's clock (evbill_signature_window)",
                 what, when, span);
        return 1;
    }

    return 0;
}


/* A session spans at most max_duration from its start; 1 when failed. */
static int
evb_check_span(evb_op_t *op, const evb_session_t *s, evb_msec_t ts,
    const char *what)
{
    char        span[32];
    evb_msec_t  max;

    max = op->bill ? op->bill->policy.max_duration : 0;

    if (max == 0 || ts - s->started_at <= max) {
        return 0;
    }

    evb_span_text(span, sizeof(span), max);
    evb_fail(op, EVB_P_SESSION_LIMIT, "%s: timestamp is more than %s after "
             "the session start (evbill_session_max_duration); stop the "
             "session and start a new one", what, span);

    return 1;
}


static int
evb_op_start(evb_wctx_t *w)
{
    int            rc;
    size_t         klen;
    evb_op_t      *op = w->op;
    evb_str_t      session_id;
    evb_start_t   *start = op->start;
    evb_bill_t     b;
    evb_str_t      tariff, why;
    evb_charger_t  c;
    evb_session_t  s;
    evb_problem_e  p;
    unsigned char  k[EVB_PAIR_MAX + 16], sk[8];
    char           detail[192];

    if (start == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no start given");
    }

    session_id = op->session_id.len ? op->session_id : start->session_id;

    if (!evb_id_ok(session_id)) {
        return evb_fail(op, EVB_P_INVALID_VALUE, "invalid session id");
    }

    rc = evb_check_charger(w, &c);
    if (rc != 0 || op->problem != EVB_OK) {
        return rc;
    }

    rc = evb_load_session(w->st, w->txn, op->arena, op->charger_id,
                          session_id, &s);
    if (rc == 0) {
        if (!evb_start_matches(start, &s)) {
            return evb_fail(op, EVB_P_SESSION_CONFLICT,
                            "session %.*s was started with other values",
                            (int) session_id.len, session_id.data);
        }

        op->session = s;
        return 0;
    }

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    if (evb_check_time(op, start->timestamp, "start")) {
        return 0;
    }

    memset(&s, 0, sizeof(s));

    if (start->tariff_id.len) {
        s.tariff_id = start->tariff_id;
        s.tariff_from_request = 1;

    } else if (c.tariff_id.len) {
        s.tariff_id = c.tariff_id;

    } else {
        return evb_fail(op, EVB_P_NO_TARIFF, "charger %.*s has no tariff "
                        "and the start names none",
                        (int) op->charger_id.len, op->charger_id.data);
    }

    rc = evb_next_sid(w, &s.sid);
    if (rc != 0) {
        return rc;
    }

    s.charger_id = op->charger_id;
    s.session_id = session_id;
    s.state = EVB_SESSION_ACTIVE;
    s.connector_id = start->connector_id;
    s.id_token = start->id_token;
    s.token_type = start->token_type;
    s.started_at = start->timestamp;
    s.meter_start_wh = start->meter_start_wh;
    s.start_ocmf = start->ocmf;
    s.last_seq = 0;
    s.last_ts = start->timestamp;
    s.last_energy_wh = start->meter_start_wh;
    s.updated_at = op->now;

    /* billed with the tariff version current at the start */
    if (op->bill) {
        rc = evb_load_tariff(w->st, w->txn, op->arena, s.tariff_id, 0,
                             &tariff, &s.tariff_version, NULL);
        if (rc != 0 && rc != MDB_NOTFOUND) {
            return rc;
        }

        why.len = 0;
        rc = evb_bill_prepare(w, &s, &c, &b, &why);

        if (rc == 0) {
            p = evb_bill_start(op->arena, &b, &s, &s.meter, &s.cost, detail,
                               sizeof(detail));
            rc = evb_bill_note(w, &s, p, detail);

        } else if (rc == MDB_NOTFOUND) {
            evb_bill_unrated(&s, why);
            rc = 0;
        }

        if (rc != 0) {
            return rc;
        }
    }

    rc = evb_save_session(w, &s);
    if (rc != 0) {
        return rc;
    }

    rc = evb_output_session(w);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(sk, s.sid);

    klen = evb_pair_key(k, op->charger_id, session_id);
    rc = evb_put(w->txn, w->st->dbi[EVB_DB_SESSION_NAMES], k, klen, sk, 8);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(k, evb_time_key(s.started_at));
    evb_put_be64(k + 8, s.sid);
    rc = evb_put(w->txn, w->st->dbi[EVB_DB_SESSION_TIME], k, 16, "", 0);
    if (rc != 0) {
        return rc;
    }

    memcpy(k, op->charger_id.data, op->charger_id.len);
    k[op->charger_id.len] = '\0';
    klen = op->charger_id.len + 1;
    evb_put_be64(k + klen, evb_time_key(s.started_at));
    evb_put_be64(k + klen + 8, s.sid);
    rc = evb_put(w->txn, w->st->dbi[EVB_DB_CHARGER_TIME], k, klen + 16,
                 "", 0);
    if (rc != 0) {
        return rc;
    }

    rc = evb_put(w->txn, w->st->dbi[EVB_DB_ACTIVE], sk, 8, "", 0);
    if (rc != 0) {
        return rc;
    }

    op->created = 1;

    return 0;
}


static int
evb_unknown_session(evb_op_t *op)
{
    return evb_fail(op, EVB_P_UNKNOWN_SESSION,
                    "no session %.*s on charger %.*s",
                    (int) op->session_id.len, op->session_id.data,
                    (int) op->charger_id.len, op->charger_id.data);
}


static int
evb_op_readings(evb_wctx_t *w)
{
    int             rc, dirty;
    size_t          i;
    MDB_val         v;
    evb_op_t       *op = w->op;
    evb_bill_t      b;
    evb_str_t       why;
    evb_charger_t   c;
    evb_session_t   s;
    evb_problem_e   p;
    evb_reading_t  *r, old;
    unsigned char   k[16];
    char            detail[192], what[32];

    rc = evb_load_session(w->st, w->txn, op->arena, op->charger_id,
                          op->session_id, &s);
    if (rc == MDB_NOTFOUND) {
        return evb_unknown_session(op);
    }

    if (rc != 0) {
        return rc;
    }

    if (op->nreadings && op->readings == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no readings given");
    }

    dirty = 0;
    evb_put_be64(k, s.sid);

    for (i = 0; i < op->nreadings; i++) {
        r = &op->readings[i];
        evb_put_be64(k + 8, r->seq);

        if (r->seq <= s.last_seq) {
            rc = evb_get(w->txn, w->st->dbi[EVB_DB_READINGS], k, 16, &v);
            if (rc == MDB_NOTFOUND) {
                return evb_fail(op, EVB_P_SEQ_CONFLICT,
                                "seq %llu is below the last seq %llu",
                                (unsigned long long) r->seq,
                                (unsigned long long) s.last_seq);
            }

            if (rc != 0) {
                return rc;
            }

            /* a view: compared before anything is written */
            rc = evb_dec_rc(evb_dec_reading(NULL, v.mv_data, v.mv_size,
                                            &old));
            if (rc != 0) {
                return rc;
            }

            if (!evb_reading_equal(r, &old)) {
                return evb_fail(op, EVB_P_SEQ_CONFLICT,
                                "seq %llu is already stored with other "
                                "values", (unsigned long long) r->seq);
            }

            op->duplicates++;
            continue;
        }

        if (s.state != EVB_SESSION_ACTIVE) {
            return evb_fail(op, EVB_P_SESSION_STOPPED,
                            "session %.*s is stopped; seq %llu is new",
                            (int) s.session_id.len, s.session_id.data,
                            (unsigned long long) r->seq);
        }

        snprintf(what, sizeof(what), "seq %llu",
                 (unsigned long long) r->seq);

        if (evb_check_time(op, r->timestamp, what)) {
            return 0;
        }

        if (r->timestamp < s.started_at) {
            return evb_fail(op, EVB_P_BEFORE_START,
                            "seq %llu: timestamp is before the session "
                            "start", (unsigned long long) r->seq);
        }

        if (r->timestamp < s.last_ts) {
            return evb_fail(op, EVB_P_TIME_BACKWARDS,
                            "seq %llu: timestamp is before that of seq %llu",
                            (unsigned long long) r->seq,
                            (unsigned long long) s.last_seq);
        }

        if (r->energy_wh < s.last_energy_wh) {
            return evb_fail(op, EVB_P_REGISTER_BACKWARDS,
                            "seq %llu: energy_wh %lld is below %lld",
                            (unsigned long long) r->seq,
                            (long long) r->energy_wh,
                            (long long) s.last_energy_wh);
        }

        if (evb_check_span(op, &s, r->timestamp, what)) {
            return 0;
        }

        evb_enc_reset(&w->enc);
        evb_enc_reading(&w->enc, r);
        if (w->enc.oom) {
            return ENOMEM;
        }

        rc = evb_put(w->txn, w->st->dbi[EVB_DB_READINGS], k, 16, w->enc.p,
                     w->enc.len);
        if (rc != 0) {
            return rc;
        }

        s.last_seq = r->seq;
        s.last_ts = r->timestamp;
        s.last_energy_wh = r->energy_wh;
        s.nreadings++;
        op->accepted++;
        dirty = 1;
    }

    if (dirty && op->bill && s.meter.len) {
        rc = evb_load_charger(w->st, w->txn, op->arena, s.charger_id, &c);
        if (rc != 0) {
            return rc == MDB_NOTFOUND ? EVB_RC_CORRUPT : rc;
        }

        why.len = 0;
        rc = evb_bill_prepare(w, &s, &c, &b, &why);

        if (rc == 0) {
            /* the accepted readings are the tail of the batch: new seqs
             * follow the duplicates, which are all below last_seq */
            p = evb_bill_readings(op->arena, &b, &s.meter,
                                  op->readings + (op->nreadings
                                                  - op->accepted),
                                  (size_t) op->accepted, &s.cost, detail,
                                  sizeof(detail));

            /* the bound on the work of pricing: refused, not noted */
            if (p == EVB_P_SESSION_LIMIT) {
                return evb_fail(op, p, "%s", detail);
            }

            rc = evb_bill_note(w, &s, p, detail);

        } else if (rc == MDB_NOTFOUND) {
            evb_bill_unrated(&s, why);
            rc = 0;
        }

        if (rc != 0) {
            return rc;
        }
    }

    if (dirty) {
        s.updated_at = op->now;

        rc = evb_save_session(w, &s);
        if (rc != 0) {
            return rc;
        }
    }

    /* s's strings were copied into the op's arena by the load */
    op->session = s;

    return 0;
}


/* sweep: the idle sweep closes; it cannot be refused (see bill_close) */
static int
evb_close_session(evb_wctx_t *w, evb_session_t *s, evb_msec_t at,
    int64_t meter, evb_str_t reason, evb_str_t ocmf, int sweep)
{
    int            rc;
    unsigned char  k[8];

    s->state = EVB_SESSION_STOPPED;
    s->stopped_at = at;
    s->meter_stop_wh = meter;
    s->stop_reason = reason;
    s->stop_ocmf = ocmf;
    s->updated_at = w->op->now;

    rc = evb_bill_close(w, s, sweep);
    if (rc != 0 || w->op->problem != EVB_OK) {
        return rc;
    }

    rc = evb_save_session(w, s);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(k, s->sid);

    return evb_del(w->txn, w->st->dbi[EVB_DB_ACTIVE], k, 8);
}


static int
evb_op_stop(evb_wctx_t *w)
{
    int            rc;
    char           when[32];
    evb_op_t      *op = w->op;
    evb_str_t      reason;
    evb_stop_t    *stop = op->stop;
    evb_session_t  s;

    static const evb_str_t  local = evb_str_lit("local");

    if (stop == NULL) {
        return evb_fail(op, EVB_P_INTERNAL, "no stop given");
    }

    rc = evb_load_session(w->st, w->txn, op->arena, op->charger_id,
                          op->session_id, &s);
    if (rc == MDB_NOTFOUND) {
        return evb_unknown_session(op);
    }

    if (rc != 0) {
        return rc;
    }

    if (s.state == EVB_SESSION_STOPPED) {
        if (!evb_stop_matches(stop, &s)) {
            when[evb_time_format_rfc3339(s.stopped_at, when)] = '\0';
            return evb_fail(op, EVB_P_STOP_CONFLICT,
                            "session was closed at %s with reason %.*s",
                            when, (int) s.stop_reason.len,
                            s.stop_reason.data);
        }

        op->session = s;
        return 0;
    }

    if (evb_check_time(op, stop->timestamp, "stop")) {
        return 0;
    }

    if (stop->timestamp < s.started_at) {
        return evb_fail(op, EVB_P_BEFORE_START,
                        "stop timestamp is before the session start");
    }

    if (stop->timestamp < s.last_ts) {
        return evb_fail(op, EVB_P_TIME_BACKWARDS,
                        "stop timestamp is before that of seq %llu",
                        (unsigned long long) s.last_seq);
    }

    if (stop->meter_stop_wh < s.last_energy_wh) {
        return evb_fail(op, EVB_P_REGISTER_BACKWARDS,
                        "meter_stop_wh %lld is below %lld",
                        (long long) stop->meter_stop_wh,
                        (long long) s.last_energy_wh);
    }

    if (evb_check_span(op, &s, stop->timestamp, "stop")) {
        return 0;
    }

    reason = stop->reason.len ? stop->reason : local;

    rc = evb_close_session(w, &s, stop->timestamp, stop->meter_stop_wh,
                           reason, stop->ocmf, 0);
    if (rc != 0 || op->problem != EVB_OK) {
        return rc;
    }

    /* reason and ocmf point into the request: output the stored copy,
     * still in w->enc from the save */
    return evb_output_session(w);
}


static int
evb_op_sweep(evb_wctx_t *w)
{
    int            rc;
    size_t         i, n, cap;
    uint64_t      *sids, *p;
    MDB_val        k, v;
    evb_op_t      *op = w->op;
    MDB_cursor    *cur;
    evb_arena_t   *scratch;
    evb_session_t  s;
    evb_msec_t     cutoff;

    static const evb_str_t  timeout = evb_str_lit("timeout");

    if (op->idle_timeout <= 0) {
        return evb_fail(op, EVB_P_INTERNAL, "idle timeout must be positive");
    }

    cutoff = op->now - op->idle_timeout;

    /* collect first: the loop below writes to the db being walked */
    rc = mdb_cursor_open(w->txn, w->st->dbi[EVB_DB_ACTIVE], &cur);
    if (rc != 0) {
        return rc;
    }

    sids = NULL;
    n = 0;
    cap = 0;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 8) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            p = realloc(sids, cap * sizeof(uint64_t));
            if (p == NULL) {
                rc = ENOMEM;
                break;
            }
            sids = p;
        }

        sids[n++] = evb_get_be64(k.mv_data);
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        free(sids);
        return rc;
    }

    scratch = evb_arena_create(4096);
    if (scratch == NULL) {
        free(sids);
        return ENOMEM;
    }

    rc = 0;

    for (i = 0; i < n; i++) {
        rc = evb_load_session_sid(w->st, w->txn, scratch, sids[i], &s);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc != 0) {
            break;
        }

        if (s.state != EVB_SESSION_ACTIVE || s.updated_at > cutoff) {
            continue;
        }

        rc = evb_close_session(w, &s, s.last_ts, s.last_energy_wh, timeout,
                               s.stop_ocmf, 1);
        if (rc != 0) {
            break;
        }

        op->swept++;
    }

    evb_arena_destroy(scratch);
    free(sids);

    return rc;
}


static int
evb_op_run(evb_wctx_t *w)
{
    switch (w->op->kind) {
    case EVB_OP_PUT_CHARGER:
        return evb_op_put_charger(w);
    case EVB_OP_RETIRE_CHARGER:
        return evb_op_retire_charger(w);
    case EVB_OP_PUT_KEY:
        return evb_op_put_key(w);
    case EVB_OP_RETIRE_KEY:
        return evb_op_retire_key(w);
    case EVB_OP_START:
        return evb_op_start(w);
    case EVB_OP_READINGS:
        return evb_op_readings(w);
    case EVB_OP_STOP:
        return evb_op_stop(w);
    case EVB_OP_SWEEP_IDLE:
        return evb_op_sweep(w);
    case EVB_OP_PUT_TARIFF:
        return evb_op_put_tariff(w);
    }

    return evb_fail(w->op, EVB_P_INTERNAL, "unknown store op %d",
                    (int) w->op->kind);
}


static void
evb_op_clear_outputs(evb_op_t *op)
{
    op->created = 0;
    memset(&op->session, 0, sizeof(op->session));
    op->accepted = 0;
    op->duplicates = 0;
    op->swept = 0;
}


/* write transactions */

static int
evb_remap(evb_store_t *st)
{
    int  rc;

    /* the caller holds write_lock, so no write txn is open here */
    if (pthread_rwlock_wrlock(&st->map_lock) != 0) {
        return EBUSY;
    }

    rc = mdb_env_set_mapsize(st->env, 0);

    pthread_rwlock_unlock(&st->map_lock);

    return rc;
}


static int
evb_write_begin(evb_store_t *st, MDB_txn **txn)
{
    int  rc;

    rc = mdb_txn_begin(st->env, NULL, 0, txn);

    if (rc == MDB_MAP_RESIZED) {
        /* another process grew the map: adopt its size, once */
        rc = evb_remap(st);
        if (rc == 0) {
            rc = mdb_txn_begin(st->env, NULL, 0, txn);
        }
    }

    return rc;
}


typedef struct {
    evb_op_t     **ops;
    size_t         n;
} evb_fixed_batch_t;


static size_t
evb_take_fixed(void *data, evb_op_t ***ops)
{
    evb_fixed_batch_t  *fb = data;

    *ops = fb->ops;

    return fb->n;
}


evb_problem_e
evb_store_apply(evb_store_t *store, evb_op_t **ops, size_t n, char *err,
    size_t errlen)
{
    evb_fixed_batch_t  fb;

    if (n == 0) {
        if (err && errlen) {
            err[0] = '\0';
        }

        return EVB_OK;
    }

    fb.ops = ops;
    fb.n = n;

    return evb_store_apply_take(store, evb_take_fixed, &fb, err, errlen);
}


/*
 * The ops are taken only once the write transaction has begun: while this
 * process waited for LMDB's write lock (another worker committing), more
 * requests queued, and they join this batch instead of waiting a whole
 * commit longer.
 */

evb_problem_e
evb_store_apply_take(evb_store_t *store, evb_ops_take_pt take, void *data,
    char *err, size_t errlen)
{
    int            rc, synced;
    size_t         i, n;
    evb_op_t     **ops;
    MDB_txn       *txn, *child;
    evb_op_t      *op;
    evb_wctx_t     w;
    evb_problem_e  p;
    const char    *where;

    if (err && errlen) {
        err[0] = '\0';
    }

    ops = NULL;
    n = 0;
    synced = 1;

    if (pthread_mutex_lock(&store->write_lock) != 0) {
        n = take(data, &ops);
        if (err && errlen) {
            snprintf(err, errlen, "store write lock failed");
        }
        p = EVB_P_STORE_UNAVAILABLE;
        goto failed_nolock;
    }

    txn = NULL;
    where = "begin";

    w.st = store;
    evb_enc_init(&w.enc);

    rc = evb_write_begin(store, &txn);
    if (rc != 0) {
        txn = NULL;
        n = take(data, &ops);
        goto failed;
    }

    n = take(data, &ops);

    if (n == 0) {
        mdb_txn_abort(txn);
        evb_enc_free(&w.enc);
        pthread_mutex_unlock(&store->write_lock);
        return EVB_OK;
    }

    for (i = 0; i < n; i++) {
        ops[i]->problem = EVB_OK;
        ops[i]->detail[0] = '\0';
        evb_op_clear_outputs(ops[i]);
    }

    for (i = 0; i < n; i++) {
        op = ops[i];

        where = "op";
        rc = mdb_txn_begin(store->env, txn, 0, &child);
        if (rc != 0) {
            goto failed;
        }

        w.txn = child;
        w.op = op;

        rc = evb_op_run(&w);

        if (rc == EVB_RC_CORRUPT || rc == ENOMEM) {
            /* damage or memory is this op's trouble only */
            mdb_txn_abort(child);
            evb_op_clear_outputs(op);
            op->problem = (rc == ENOMEM) ? EVB_P_INTERNAL
                                         : EVB_P_STORE_UNAVAILABLE;
            snprintf(op->detail, sizeof(op->detail), "%s",
                     evb_store_strerror(rc));
            continue;
        }

        if (rc != 0) {
            mdb_txn_abort(child);
            goto failed;
        }

        if (op->problem != EVB_OK) {
            mdb_txn_abort(child);
            evb_op_clear_outputs(op);
            continue;
        }

        rc = mdb_txn_commit(child);
        if (rc != 0) {
            goto failed;
        }
    }

    where = "commit";
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0) {
        goto failed;
    }

    /*
     * The environment runs with MDB_NOMETASYNC: the commit flushed the
     * data pages and wrote the meta page without waiting; LMDB's write
     * lock is free again, so the other worker's batch proceeds while this
     * flush makes ours durable.  No answer leaves before it returns, and a
     * crash before it can only undo this unanswered transaction.
     */
    where = "sync";
    rc = evb_store_sync_hook ? evb_store_sync_hook(store)
                             : mdb_env_sync(store->env, 1);
    if (rc != 0) {
        /* committed, maybe not on disk: "nothing was written" would be
         * wrong, the client must not take it as a refusal */
        synced = 0;
        goto failed;
    }

    evb_enc_free(&w.enc);
    pthread_mutex_unlock(&store->write_lock);

    return EVB_OK;

failed:

    if (txn) {
        mdb_txn_abort(txn);
    }

    evb_enc_free(&w.enc);
    pthread_mutex_unlock(&store->write_lock);

    p = (rc == MDB_MAP_FULL) ? EVB_P_STORE_FULL : EVB_P_STORE_UNAVAILABLE;

    if (err && errlen) {
        snprintf(err, errlen, "store write failed (%s): %s", where,
                 evb_store_strerror(rc));
    }

failed_nolock:

    for (i = 0; i < n; i++) {
        evb_op_clear_outputs(ops[i]);
        ops[i]->problem = p;
        snprintf(ops[i]->detail, sizeof(ops[i]->detail), "%s",
                 !synced ? "the write was committed but could not be "
                           "flushed to disk: it may be stored or not; "
                           "retrying is safe (writes are idempotent)"
                 : p == EVB_P_STORE_FULL ? "the store is full; nothing was "
                                           "written; the operator must grow "
                                           "evbill_store size="
                 : "the store could not commit; nothing was written; "
                   "retry later");
    }

    return p;
}


/* read transactions */

static int
evb_read_begin(evb_store_t *st, MDB_txn **txn)
{
    int  rc, attempt;

    if (pthread_rwlock_rdlock(&st->map_lock) != 0) {
        return EBUSY;
    }

    for (attempt = 0; /* void */; attempt++) {

        rc = -1;

        if (st->rtxn) {
            rc = mdb_txn_renew(st->rtxn);
            if (rc == 0) {
                *txn = st->rtxn;
                st->rtxn = NULL;
                return 0;
            }

            mdb_txn_abort(st->rtxn);
            st->rtxn = NULL;
        }

        if (rc != MDB_MAP_RESIZED && rc != MDB_READERS_FULL) {
            rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
            if (rc == 0) {
                return 0;
            }
        }

        if (attempt > 0) {
            break;
        }

        if (rc == MDB_READERS_FULL) {
            /* slots of killed processes; clear them and try once more */
            (void) mdb_reader_check(st->env, NULL);
            continue;
        }

        if (rc == MDB_MAP_RESIZED) {
            /* remapping must wait for this process's write txn to end */
            pthread_rwlock_unlock(&st->map_lock);

            if (pthread_mutex_lock(&st->write_lock) != 0) {
                return EBUSY;
            }

            rc = evb_remap(st);
            pthread_mutex_unlock(&st->write_lock);

            if (rc != 0 || pthread_rwlock_rdlock(&st->map_lock) != 0) {
                return rc ? rc : EBUSY;
            }

            continue;
        }

        break;
    }

    pthread_rwlock_unlock(&st->map_lock);

    return rc;
}


static void
evb_read_end(evb_store_t *st, MDB_txn *txn)
{
    if (st->rtxn == NULL) {
        mdb_txn_reset(txn);
        st->rtxn = txn;

    } else {
        mdb_txn_abort(txn);
    }

    pthread_rwlock_unlock(&st->map_lock);
}


/* open and close */

static int
evb_store_init_txn(evb_store_t *st, const char *path, char *err,
    size_t errlen)
{
    int            i, rc;
    MDB_txn       *txn;
    MDB_val        v;
    unsigned char  b[4];
    unsigned       version;

    static const char  name[] = "schema_version";

    /* a write txn even when all exists: the check and the creation of a
     * new store must be one step for workers opening it together */
    rc = evb_write_begin(st, &txn);
    if (rc != 0) {
        snprintf(err, errlen, "store at %s: cannot begin a transaction: %s",
                 path, mdb_strerror(rc));
        return -1;
    }

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_META], MDB_CREATE,
                      &st->dbi[EVB_DB_META]);
    if (rc != 0) {
        goto lmdb_failed;
    }

    rc = evb_get(txn, st->dbi[EVB_DB_META], name, sizeof(name) - 1, &v);

    if (rc == 0) {
        if (v.mv_size != 4) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "store at %s has a malformed schema "
                     "version; see docs/operations.md (upgrades)", path);
            return -1;
        }

        version = evb_get_be32(v.mv_data);

        if (version != EVB_SCHEMA_VERSION) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "store at %s has schema version %u, this "
                     "evbill build expects %u; see docs/operations.md "
                     "(upgrades)", path, version, EVB_SCHEMA_VERSION);
            return -1;
        }

    } else if (rc == MDB_NOTFOUND) {
        evb_put_be32(b, EVB_SCHEMA_VERSION);
        rc = evb_put(txn, st->dbi[EVB_DB_META], name, sizeof(name) - 1, b, 4);
        if (rc != 0) {
            goto lmdb_failed;
        }

    } else {
        goto lmdb_failed;
    }

    for (i = EVB_DB_META + 1; i < EVB_DB_COUNT; i++) {
        rc = mdb_dbi_open(txn, evb_db_names[i], MDB_CREATE, &st->dbi[i]);
        if (rc != 0) {
            goto lmdb_failed;
        }
    }

    rc = mdb_txn_commit(txn);
    if (rc == 0) {
        /* MDB_NOMETASYNC: make the schema durable like every write */
        rc = mdb_env_sync(st->env, 1);
    }

    if (rc != 0) {
        snprintf(err, errlen, "store at %s: cannot create the databases: %s",
                 path, mdb_strerror(rc));
        return -1;
    }

    return 0;

lmdb_failed:

    mdb_txn_abort(txn);
    snprintf(err, errlen, "store at %s: cannot open the databases: %s",
             path, mdb_strerror(rc));

    return -1;
}


int
evb_store_open(evb_store_t **store, const char *path, size_t map_size,
    unsigned max_readers, char *err, size_t errlen)
{
    int           rc;
    evb_store_t  *st;

    *store = NULL;

    st = calloc(1, sizeof(evb_store_t));
    if (st == NULL) {
        snprintf(err, errlen, "store at %s: out of memory", path);
        return -1;
    }

    if (pthread_rwlock_init(&st->map_lock, NULL) != 0) {
        free(st);
        snprintf(err, errlen, "store at %s: cannot create a lock", path);
        return -1;
    }

    if (pthread_mutex_init(&st->write_lock, NULL) != 0) {
        pthread_rwlock_destroy(&st->map_lock);
        free(st);
        snprintf(err, errlen, "store at %s: cannot create a lock", path);
        return -1;
    }

    st->bill_cache = evb_bill_cache_create();
    if (st->bill_cache == NULL) {
        pthread_mutex_destroy(&st->write_lock);
        pthread_rwlock_destroy(&st->map_lock);
        free(st);
        snprintf(err, errlen, "store at %s: out of memory", path);
        return -1;
    }

    rc = mdb_env_create(&st->env);
    if (rc != 0) {
        st->env = NULL;
        goto failed;
    }

    rc = mdb_env_set_maxdbs(st->env, EVB_DB_COUNT + 4);
    if (rc != 0) {
        goto failed;
    }

    if (map_size) {
        rc = mdb_env_set_mapsize(st->env, map_size);
        if (rc != 0) {
            goto failed;
        }
    }

    if (max_readers) {
        rc = mdb_env_set_maxreaders(st->env, max_readers);
        if (rc != 0) {
            goto failed;
        }
    }

    rc = mdb_env_open(st->env, path, MDB_NOTLS | MDB_NOMETASYNC, 0600);
    if (rc != 0) {
        goto failed;
    }

    /* slots left by killed workers of an earlier generation */
    rc = mdb_reader_check(st->env, NULL);
    if (rc != 0) {
        goto failed;
    }

    if (evb_store_init_txn(st, path, err, errlen) != 0) {
        evb_store_close(st);
        return -1;
    }

    *store = st;

    return 0;

failed:

    snprintf(err, errlen, "cannot open the store at %s: %s", path,
             mdb_strerror(rc));
    evb_store_close(st);

    return -1;
}


/*
 * For "nginx -t": read the schema version of an existing store without
 * changing anything (read-only, no lock file), so a mismatch fails the
 * test instead of every worker at start.  Without locks a concurrent
 * writer could in theory show an inconsistent tree; only the test run
 * uses this, never a start or reload.
 */

int
evb_store_check(const char *path, char *err, size_t errlen)
{
    int            rc;
    MDB_val        v;
    MDB_dbi        dbi;
    MDB_env       *env;
    MDB_txn       *txn;
    unsigned       version;
    char           file[4096];

    static const char  name[] = "schema_version";

    if (snprintf(file, sizeof(file), "%s/data.mdb", path)
        >= (int) sizeof(file))
    {
        return 0;
    }

    if (access(file, F_OK) != 0) {
        return 0;                   /* a new store: created at start */
    }

    rc = mdb_env_create(&env);
    if (rc != 0) {
        snprintf(err, errlen, "store at %s: %s", path, mdb_strerror(rc));
        return -1;
    }

    (void) mdb_env_set_maxdbs(env, EVB_DB_COUNT + 4);

    rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOTLS, 0600);
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);

        if (rc == 0) {
            rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_META], 0, &dbi);

            if (rc == 0) {
                rc = evb_get(txn, dbi, name, sizeof(name) - 1, &v);
            }

            if (rc == 0) {
                version = (v.mv_size == 4) ? evb_get_be32(v.mv_data) : 0;

                if (version != EVB_SCHEMA_VERSION) {
                    snprintf(err, errlen, "store at %s has schema version "
                             "%u, this evbill build expects %u; see "
                             "docs/operations.md (upgrades)", path, version,
                             EVB_SCHEMA_VERSION);
                    rc = -1;
                }
            }

            mdb_txn_abort(txn);
        }
    }

    mdb_env_close(env);

    if (rc == MDB_NOTFOUND) {
        return 0;                   /* no schema yet: written at start */
    }

    if (rc > 0 || (rc < 0 && rc != -1)) {
        snprintf(err, errlen, "cannot read the store at %s: %s", path,
                 mdb_strerror(rc));
        return -1;
    }

    return rc == -1 ? -1 : 0;
}


void
evb_store_close(evb_store_t *store)
{
    if (store == NULL) {
        return;
    }

    if (store->rtxn) {
        mdb_txn_abort(store->rtxn);
    }

    if (store->env) {
        mdb_env_close(store->env);
    }

    evb_bill_cache_free(store->bill_cache);
    pthread_mutex_destroy(&store->write_lock);
    pthread_rwlock_destroy(&store->map_lock);
    free(store);
}


int
evb_store_reader_check(evb_store_t *store)
{
    int  dead;

    if (mdb_reader_check(store->env, &dead) != 0) {
        return -1;
    }

    return dead;
}


/* reads */

evb_problem_e
evb_store_find_key(evb_store_t *store, evb_arena_t *a, evb_str_t key_id,
    evb_key_record_t *out)
{
    int            rc;
    MDB_txn       *txn;
    evb_charger_t  c;

    memset(out, 0, sizeof(*out));

    if (!evb_id_ok(key_id)) {
        return EVB_P_UNKNOWN_KEY;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_key(store, txn, a, key_id, out);

    if (rc == 0 && !out->retired) {
        rc = evb_load_charger(store, txn, a, out->charger_id, &c);
        if (rc == 0 && c.retired) {
            rc = MDB_NOTFOUND;
        }

    } else if (rc == 0) {
        rc = MDB_NOTFOUND;
    }

    evb_read_end(store, txn);

    if (rc != 0) {
        memset(out, 0, sizeof(*out));
    }

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_KEY : evb_rc_problem(rc);
}


static int
evb_load_charger_keys(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    evb_str_t charger_id, evb_key_record_t **keys, size_t *nkeys)
{
    int                rc;
    size_t             n, cap, plen;
    MDB_val            k, v;
    evb_str_t          key_id;
    MDB_cursor        *cur;
    evb_key_record_t  *list, *bigger;
    unsigned char      prefix[EVB_ID_MAX + 1];

    memcpy(prefix, charger_id.data, charger_id.len);
    prefix[charger_id.len] = '\0';
    plen = charger_id.len + 1;

    rc = mdb_cursor_open(txn, st->dbi[EVB_DB_CHARGER_KEYS], &cur);
    if (rc != 0) {
        return rc;
    }

    list = NULL;
    n = 0;
    cap = 0;

    k.mv_data = prefix;
    k.mv_size = plen;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size <= plen || memcmp(k.mv_data, prefix, plen) != 0) {
            break;
        }

        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            bigger = evb_arena_alloc(a, cap * sizeof(evb_key_record_t));
            if (bigger == NULL) {
                rc = ENOMEM;
                break;
            }

            if (n) {
                memcpy(bigger, list, n * sizeof(evb_key_record_t));
            }
            list = bigger;
        }

        key_id.data = (const char *) k.mv_data + plen;
        key_id.len = k.mv_size - plen;

        rc = evb_load_key(st, txn, a, key_id, &list[n]);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc != 0) {
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    *keys = list;
    *nkeys = n;

    return 0;
}


evb_problem_e
evb_store_get_charger(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_charger_t *out, evb_key_record_t **keys,
    size_t *nkeys)
{
    int                rc;
    size_t             n;
    MDB_txn           *txn;
    evb_key_record_t  *list;

    memset(out, 0, sizeof(*out));

    if (keys) {
        *keys = NULL;
    }

    if (nkeys) {
        *nkeys = 0;
    }

    if (!evb_id_ok(charger_id)) {
        return EVB_P_UNKNOWN_CHARGER;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_charger(store, txn, a, charger_id, out);

    if (rc == 0 && keys && nkeys) {
        rc = evb_load_charger_keys(store, txn, a, charger_id, &list, &n);
        if (rc == 0) {
            *keys = list;
            *nkeys = n;
        }
    }

    evb_read_end(store, txn);

    return rc == MDB_NOTFOUND ? EVB_P_UNKNOWN_CHARGER : evb_rc_problem(rc);
}


static int
evb_load_readings(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *nreadings)
{
    int             rc;
    size_t          n, cap;
    MDB_val         k, v;
    MDB_cursor     *cur;
    evb_reading_t  *list, *bigger;
    unsigned char   start[16];

    evb_put_be64(start, s->sid);
    evb_put_be64(start + 8, 0);

    rc = mdb_cursor_open(txn, st->dbi[EVB_DB_READINGS], &cur);
    if (rc != 0) {
        return rc;
    }

    cap = s->nreadings ? s->nreadings : 1;
    if (cap > 1000000) {
        cap = 1000000;
    }

    n = 0;
    list = evb_arena_alloc(a, cap * sizeof(evb_reading_t));
    if (list == NULL) {
        mdb_cursor_close(cur);
        return ENOMEM;
    }

    k.mv_data = start;
    k.mv_size = 16;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 16 || memcmp(k.mv_data, start, 8) != 0) {
            break;
        }

        if (n == cap) {
            cap *= 2;
            bigger = evb_arena_alloc(a, cap * sizeof(evb_reading_t));
            if (bigger == NULL) {
                rc = ENOMEM;
                break;
            }

            memcpy(bigger, list, n * sizeof(evb_reading_t));
            list = bigger;
        }

        rc = evb_dec_rc(evb_dec_reading(a, v.mv_data, v.mv_size, &list[n]));
        if (rc != 0) {
            break;
        }

        if (list[n].seq != evb_get_be64((unsigned char *) k.mv_data + 8)) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        n++;
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    *readings = list;
    *nreadings = n;

    return 0;
}


evb_problem_e
evb_store_get_session(evb_store_t *store, evb_arena_t *a,
    evb_str_t charger_id, evb_str_t session_id, evb_session_t *out,
    evb_reading_t **readings, size_t *nreadings)
{
    int      rc;
    MDB_txn *txn;

    memset(out, 0, sizeof(*out));

    if (readings) {
        *readings = NULL;
    }

    if (nreadings) {
        *nreadings = 0;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_session(store, txn, a, charger_id, session_id, out);

    if (rc == 0 && readings && nreadings) {
        rc = evb_load_readings(store, txn, a, out, readings, nreadings);
    }

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return EVB_P_UNKNOWN_SESSION;
    }

    return evb_rc_problem(rc);
}


evb_problem_e
evb_store_get_tariff(evb_store_t *store, evb_arena_t *a, evb_str_t tariff_id,
    uint32_t version, evb_str_t *json, uint32_t *version_out,
    evb_msec_t *created_at)
{
    int       rc;
    MDB_txn  *txn;

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_tariff(store, txn, a, tariff_id, version, json,
                         version_out, created_at);

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return EVB_P_UNKNOWN_TARIFF;
    }

    return evb_rc_problem(rc);
}


evb_problem_e
evb_store_get_cdr(evb_store_t *store, evb_arena_t *a, evb_str_t charger_id,
    evb_str_t session_id, evb_str_t *json)
{
    int            rc;
    MDB_val        v;
    MDB_txn       *txn;
    evb_session_t  s;
    unsigned char  k[8];

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = evb_load_session(store, txn, a, charger_id, session_id, &s);

    if (rc == MDB_NOTFOUND) {
        evb_read_end(store, txn);
        return EVB_P_UNKNOWN_SESSION;
    }

    if (rc == 0) {
        evb_put_be64(k, s.sid);
        rc = evb_get(txn, store->dbi[EVB_DB_CDRS], k, 8, &v);
    }

    if (rc == 0) {
        json->len = v.mv_size;
        json->data = evb_arena_strdup(a, v.mv_data, v.mv_size);
        if (json->data == NULL) {
            rc = ENOMEM;
        }
    }

    evb_read_end(store, txn);

    if (rc == MDB_NOTFOUND) {
        return EVB_P_UNKNOWN_CDR;
    }

    return evb_rc_problem(rc);
}


evb_problem_e
evb_store_list_sessions(evb_store_t *store, evb_arena_t *a,
    const evb_session_query_t *q, evb_session_t **items, size_t *n,
    char next[EVB_CURSOR_LEN + 1])
{
    int             rc, more;
    size_t          limit, plen, count;
    MDB_dbi         dbi;
    MDB_val         k, v;
    MDB_txn        *txn;
    MDB_cursor     *cur;
    evb_session_t  *list, s;
    unsigned char   seek[EVB_ID_MAX + 1 + 16], last[16];

    *items = NULL;
    *n = 0;
    next[0] = '\0';

    if (q->state != 0 && q->state != EVB_SESSION_ACTIVE
        && q->state != EVB_SESSION_STOPPED)
    {
        return EVB_P_INVALID_QUERY;
    }

    if (q->charger_id.len) {
        if (!evb_id_ok(q->charger_id)) {
            return EVB_OK;        /* no such charger: nothing to list */
        }

        dbi = store->dbi[EVB_DB_CHARGER_TIME];
        memcpy(seek, q->charger_id.data, q->charger_id.len);
        seek[q->charger_id.len] = '\0';
        plen = q->charger_id.len + 1;

    } else {
        dbi = store->dbi[EVB_DB_SESSION_TIME];
        plen = 0;
    }

    if (q->after.len) {
        if (q->after.len != EVB_CURSOR_LEN
            || evb_hex_decode(q->after.data, q->after.len, seek + plen)
               != EVB_CURSOR_LEN / 2)
        {
            return EVB_P_INVALID_QUERY;
        }

    } else {
        /* above any stored time key */
        memset(seek + plen, 0xff, 16);
    }

    limit = q->limit ? q->limit : EVB_LIST_DEFAULT;
    if (limit > EVB_LIST_MAX) {
        limit = EVB_LIST_MAX;
    }

    list = evb_arena_alloc(a, limit * sizeof(evb_session_t));
    if (list == NULL) {
        return EVB_P_INTERNAL;
    }

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0) {
        evb_read_end(store, txn);
        return evb_rc_problem(rc);
    }

    /* position on the last key below seek */
    k.mv_data = seek;
    k.mv_size = plen + 16;

    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);

    } else if (rc == MDB_NOTFOUND) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }

    count = 0;
    more = 0;

    for (/* void */; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
        if (k.mv_size != plen + 16 || memcmp(k.mv_data, seek, plen) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        rc = evb_load_session_sid(store, txn, a,
                 evb_get_be64((unsigned char *) k.mv_data + plen + 8), &s);
        if (rc == MDB_NOTFOUND) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc != 0) {
            break;
        }

        if (q->state != 0 && (int) s.state != q->state) {
            continue;
        }

        if (count == limit) {
            more = 1;
            break;
        }

        list[count++] = s;
        memcpy(last, (unsigned char *) k.mv_data + plen, 16);
    }

    mdb_cursor_close(cur);
    evb_read_end(store, txn);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        return evb_rc_problem(rc);
    }

    if (more) {
        evb_hex_encode(last, 16, next);
        next[EVB_CURSOR_LEN] = '\0';
    }

    *items = list;
    *n = count;

    return EVB_OK;
}


evb_problem_e
evb_store_stat(evb_store_t *store, evb_store_stat_t *st)
{
    int            rc;
    MDB_txn       *txn;
    MDB_val        v;
    MDB_stat       ms;
    MDB_envinfo    info;

    static const char  name[] = "schema_version";

    memset(st, 0, sizeof(*st));

    rc = evb_read_begin(store, &txn);
    if (rc != 0) {
        return evb_rc_problem(rc);
    }

    rc = mdb_env_info(store->env, &info);
    if (rc == 0) {
        rc = mdb_env_stat(store->env, &ms);
    }

    if (rc == 0) {
        st->txn_id = info.me_last_txnid;
        st->map_size = info.me_mapsize;
        st->map_used = ((uint64_t) info.me_last_pgno + 1) * ms.ms_psize;
        st->readers_used = info.me_numreaders;
        st->max_readers = info.me_maxreaders;

        rc = mdb_stat(txn, store->dbi[EVB_DB_CHARGERS], &ms);
    }

    if (rc == 0) {
        st->chargers = ms.ms_entries;
        rc = mdb_stat(txn, store->dbi[EVB_DB_KEYS], &ms);
    }

    if (rc == 0) {
        st->keys = ms.ms_entries;
        rc = mdb_stat(txn, store->dbi[EVB_DB_SESSIONS], &ms);
    }

    if (rc == 0) {
        st->sessions = ms.ms_entries;
        rc = mdb_stat(txn, store->dbi[EVB_DB_READINGS], &ms);
    }

    if (rc == 0) {
        st->readings = ms.ms_entries;
        rc = mdb_stat(txn, store->dbi[EVB_DB_TARIFF_VERSIONS], &ms);
    }

    if (rc == 0) {
        st->tariff_versions = ms.ms_entries;
        rc = mdb_stat(txn, store->dbi[EVB_DB_CDRS], &ms);
    }

    if (rc == 0) {
        st->cdrs = ms.ms_entries;
        rc = evb_get(txn, store->dbi[EVB_DB_META], name, sizeof(name) - 1,
                     &v);
        if (rc == 0 && v.mv_size == 4) {
            st->schema_version = evb_get_be32(v.mv_data);
        }

        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }
    }

    evb_read_end(store, txn);

    return evb_rc_problem(rc);
}
