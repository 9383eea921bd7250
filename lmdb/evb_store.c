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
 *   session_live    sid BE64 -> live record (schema 3: an open
 *                   session's hot fields; see evb_save_session)
 *   reading_log     rno BE64 -> reading log entry (schema 3: every
 *                   reading under a global number, appended; see
 *                   evb_store_log.c), reading_index sid || seq -> rno
 *                   for every EVB_LOG_SKIP-th reading of a session
 *   periods         sid BE64 || idx BE32 -> a closed charging period
 *                   (schema 3: bytes from src/ops, for the CDR)
 *   session_time    T || sid BE64 -> ""             (newest-first lists)
 *   charger_time    charger_id \0 T || sid BE64 -> "" (same, one charger)
 *   active          sid BE64 -> ""                  (the open sessions)
 *   tariffs         tariff_id -> BE32 latest version
 *   tariff_versions tariff_id \0 BE32 version -> BE64 created_at || JSON
 *   cdrs            sid BE64 -> the OCPI CDR (JSON) of a stopped session
 *   activity        A || sid BE64 -> ""             (schema 2: the idle
 *                   sweep's index; A is updated_at as a time key)
 *   customers       customer_id -> customer record  (schema 3, these
 *   tokens          UID -> token record              three: who is billed,
 *   session_starts  sid BE64 -> session start record evb_store_parties.c;
 *                   UID is the token uid in upper case)
 *   inv_counters .. credit_cdrs: invoices and credit notes (schema 4),
 *                   see evb_store_invoice.c
 *   feed            no BE64 -> a reference to a document (schema 6: the
 *                   feed for downstream systems, see evb_store_feed.h)
 *
 * activity holds exactly the active sessions without a sweep_error mark,
 * each under a time at or before its last write (activity_at, schema 3:
 * a commit of readings leaves the entry; the sweep moves an entry it
 * finds behind updated_at), so the idle sweep reads only the range
 * below its cutoff.  src/ops keeps it in step in the same transaction as
 * the session record (start, reading, stop, void, sweep close and mark);
 * `evbill-store check` verifies it against active and sessions.
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
 * in a nested transaction.  The store knows no business rule: an op is a
 * run function (src/ops/) over typed record access (evb_tx_*).  Whatever
 * an op's run returns other than EVB_OK (its refusal, a record that does
 * not decode, MDB_MAP_FULL on its own pages) aborts its child only; the
 * batch commits the others.  If the batch's commit fails (no op to
 * blame), the ops run again in halves, down to one op per transaction.
 *
 *   - list_sessions: limit 0 means EVB_LIST_LIMIT_DEFAULT; more than
 *     EVB_LIST_LIMIT_MAX is clamped (both in evb_model.h).
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
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"


const char  *const evb_db_names[EVB_DB_COUNT] = {
    "meta", "chargers", "keys", "charger_keys", "sessions",
    "session_names", "session_time", "charger_time", "active",
    "tariffs", "tariff_versions", "cdrs", "activity", "customers",
    "tokens", "session_starts",
    "inv_counters", "invoices", "credit_notes", "session_invoices",
    "invoice_time", "customer_invoices", "invoice_credits", "credit_cdrs",
    "reading_log", "reading_index", "session_live", "periods",
    "customer_sessions", "feed", "month_pending", "billing_runs",
    "payments", "payment_links", "payment_outbox", "payment_events",
    "charger_docs"
};


struct evb_store_s {
    MDB_env            *env;
    void               *wcache;        /* writer only, under write_lock */
    void              (*wcache_free)(void *);
    MDB_dbi             dbi[EVB_DB_COUNT];
    MDB_txn            *rtxn;          /* a reset read txn, event loop */
    pthread_rwlock_t    map_lock;
    pthread_mutex_t     write_lock;
};


static int evb_load_readings(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    const evb_session_t *s, evb_reading_t **readings, size_t *nreadings);


/* one op's nested write transaction */
struct evb_wtxn_s {
    evb_store_t        *st;
    MDB_txn            *txn;
    evb_buf_t           enc;           /* record encodings */
};

typedef evb_wtxn_t  evb_wctx_t;


int (*evb_store_sync_hook)(evb_store_t *store);
int (*evb_store_commit_hook)(evb_store_t *store, size_t nops);
unsigned long  evb_store_session_reads;


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


int
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


evb_problem_e
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

int
evb_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
    MDB_val  key;

    key.mv_data = (void *) k;
    key.mv_size = klen;

    return mdb_get(txn, dbi, &key, v);
}


int
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

/*
 * A record stored under its id (chargers, keys): the id is the key, not
 * part of the record, so the loader copies it into the decoded record's
 * id field.  One loader for both: they differ only in db and decoder.
 */
typedef int (*evb_dec_named_pt)(evb_arena_t *a, const void *data,
    size_t len, void *out);

static int
evb_load_named(evb_store_t *st, MDB_txn *txn, evb_arena_t *a, int db,
    evb_str_t id, evb_dec_named_pt dec, void *out, evb_str_t *id_field)
{
    int      rc;
    MDB_val  v;

    if (!evb_id_ok(id)) {
        return MDB_NOTFOUND;
    }

    rc = evb_get(txn, st->dbi[db], id.data, id.len, &v);
    if (rc != 0) {
        return rc;
    }

    rc = evb_dec_rc(dec(a, v.mv_data, v.mv_size, out));
    if (rc != 0) {
        return rc;
    }

    id_field->data = evb_arena_strdup(a, id.data, id.len);
    if (id_field->data == NULL) {
        return ENOMEM;
    }
    id_field->len = id.len;

    return 0;
}


static int
evb_dec_charger_any(evb_arena_t *a, const void *data, size_t len, void *out)
{
    return evb_dec_charger(a, data, len, out);
}


static int
evb_dec_key_any(evb_arena_t *a, const void *data, size_t len, void *out)
{
    return evb_dec_key(a, data, len, out);
}


static int
evb_load_charger(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    evb_str_t id, evb_charger_t *c)
{
    return evb_load_named(st, txn, a, EVB_DB_CHARGERS, id,
                          evb_dec_charger_any, c, &c->charger_id);
}


static int
evb_load_key(evb_store_t *st, MDB_txn *txn, evb_arena_t *a, evb_str_t id,
    evb_key_record_t *k)
{
    return evb_load_named(st, txn, a, EVB_DB_KEYS, id, evb_dec_key_any, k,
                          &k->key_id);
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

    if (rc == 0) {
        rc = evb_live_apply(txn, st->dbi[EVB_DB_SESSION_LIVE], a, s);
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


/* the record just encoded into w->enc, stored under k */
static int
evb_put_enc(evb_wctx_t *w, int db, const void *k, size_t klen)
{
    if (w->enc.oom) {
        return ENOMEM;
    }

    return evb_put(w->txn, w->st->dbi[db], k, klen, w->enc.data, w->enc.len);
}


/* the hot part of an open session: its live record */
static int
evb_save_live(evb_wctx_t *w, const evb_session_t *s)
{
    unsigned char  k[8];

    evb_buf_reset(&w->enc);
    evb_enc_session_live(&w->enc, s);
    evb_put_be64(k, s->sid);

    return evb_put_enc(w, EVB_DB_SESSION_LIVE, k, 8);
}


/*
 * An open session is two records: the cold one (what its start and
 * close write) without the bulky hot fields, and the live one, which
 * is all a commit of readings rewrites.  A closed session is its cold
 * record alone.
 */
static int
evb_save_session(evb_wctx_t *w, const evb_session_t *s)
{
    int            rc;
    evb_session_t  cold;
    unsigned char  k[8];

    static const evb_str_t  none = { "", 0 };

    evb_put_be64(k, s->sid);

    if (s->state != EVB_SESSION_ACTIVE) {
        evb_buf_reset(&w->enc);
        evb_enc_session(&w->enc, s);

        rc = evb_put_enc(w, EVB_DB_SESSIONS, k, 8);
        if (rc == 0) {
            rc = evb_del(w->txn, w->st->dbi[EVB_DB_SESSION_LIVE], k, 8);
        }

        return rc;
    }

    cold = *s;
    cold.cost = none;
    cold.cost_error = none;
    cold.meter = none;

    evb_buf_reset(&w->enc);
    evb_enc_session(&w->enc, &cold);

    rc = evb_put_enc(w, EVB_DB_SESSIONS, k, 8);

    return rc ? rc : evb_save_live(w, s);
}


static int
evb_save_charger(evb_wctx_t *w, evb_str_t id, const evb_charger_t *c)
{
    evb_buf_reset(&w->enc);
    evb_enc_charger(&w->enc, c);

    return evb_put_enc(w, EVB_DB_CHARGERS, id.data, id.len);
}


static int
evb_save_key(evb_wctx_t *w, evb_str_t id, const evb_key_record_t *k)
{
    evb_buf_reset(&w->enc);
    evb_enc_key(&w->enc, k);

    return evb_put_enc(w, EVB_DB_KEYS, id.data, id.len);
}


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


/* typed record access for src/ops/ */

evb_problem_e
evb_tx_error(evb_wop_t *op, int rc)
{
    evb_problem_e  p;

    p = evb_rc_problem(rc);
    if (p == EVB_OK) {
        p = EVB_P_STORE_UNAVAILABLE;
    }

    if (p == EVB_P_STORE_FULL) {
        snprintf(op->detail, sizeof(op->detail), "the store is full; this "
                 "write was not stored; the operator must grow "
                 "evbill_store size=");

    } else {
        snprintf(op->detail, sizeof(op->detail), "%s",
                 evb_store_strerror(rc));
    }

    return p;
}


int
evb_tx_nest(evb_wtxn_t *tx, evb_wtxn_t **child)
{
    int          rc;
    evb_wtxn_t  *c;

    c = malloc(sizeof(evb_wtxn_t));
    if (c == NULL) {
        return ENOMEM;
    }

    c->st = tx->st;
    evb_buf_init(&c->enc);

    rc = mdb_txn_begin(tx->st->env, tx->txn, 0, &c->txn);
    if (rc != 0) {
        free(c);
        return rc;
    }

    *child = c;

    return 0;
}


int
evb_tx_commit(evb_wtxn_t *child)
{
    int  rc;

    rc = mdb_txn_commit(child->txn);
    evb_buf_free(&child->enc);
    free(child);

    return rc;
}


void
evb_tx_abort(evb_wtxn_t *child)
{
    mdb_txn_abort(child->txn);
    evb_buf_free(&child->enc);
    free(child);
}


void *
evb_tx_cache(evb_wtxn_t *tx)
{
    return tx->st->wcache;
}


void
evb_tx_set_cache(evb_wtxn_t *tx, void *cache, void (*free_fn)(void *))
{
    tx->st->wcache = cache;
    tx->st->wcache_free = free_fn;
}


MDB_txn *
evb_tx_mdb(evb_wtxn_t *tx)
{
    return tx->txn;
}


MDB_dbi
evb_tx_dbi(evb_wtxn_t *tx, int db)
{
    return tx->st->dbi[db];
}


evb_buf_t *
evb_tx_enc(evb_wtxn_t *tx)
{
    return &tx->enc;
}


MDB_dbi
evb_store_dbi(evb_store_t *st, int db)
{
    return st->dbi[db];
}


int
evb_tx_get_charger(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_charger_t *c)
{
    return evb_load_charger(tx->st, tx->txn, a, id, c);
}


int
evb_tx_put_charger(evb_wtxn_t *tx, evb_str_t id, const evb_charger_t *c)
{
    return evb_save_charger(tx, id, c);
}


int
evb_tx_get_key(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    evb_key_record_t *k)
{
    return evb_load_key(tx->st, tx->txn, a, id, k);
}


int
evb_tx_put_key(evb_wtxn_t *tx, evb_str_t id, const evb_key_record_t *k)
{
    return evb_save_key(tx, id, k);
}


int
evb_tx_link_key(evb_wtxn_t *tx, evb_str_t charger_id, evb_str_t key_id)
{
    size_t         klen;
    unsigned char  pk[EVB_PAIR_MAX];

    if (!evb_id_ok(charger_id) || !evb_id_ok(key_id)) {
        return EVB_RC_CORRUPT;
    }

    klen = evb_pair_key(pk, charger_id, key_id);

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_CHARGER_KEYS], pk, klen,
                   "", 0);
}


int
evb_tx_get_session(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t charger_id,
    evb_str_t session_id, evb_session_t *s)
{
    return evb_load_session(tx->st, tx->txn, a, charger_id, session_id, s);
}


int
evb_tx_get_session_sid(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    evb_session_t *s)
{
    evb_store_session_reads++;

    return evb_load_session_sid(tx->st, tx->txn, a, sid, s);
}


int
evb_tx_put_session(evb_wtxn_t *tx, const evb_session_t *s, evb_arena_t *a,
    evb_session_t *out)
{
    int  rc;

    rc = evb_save_session(tx, s);
    if (rc != 0 || out == NULL) {
        return rc;
    }

    /* as stored, so nothing of it points into the request */
    return evb_load_session_sid(tx->st, tx->txn, a, s->sid, out);
}


int
evb_tx_put_session_live(evb_wtxn_t *tx, const evb_session_t *s)
{
    if (s->state != EVB_SESSION_ACTIVE) {
        return EVB_RC_CORRUPT;
    }

    return evb_save_live(tx, s);
}


int
evb_tx_next_sid(evb_wtxn_t *tx, uint64_t *sid)
{
    int            rc;
    MDB_val        v;
    unsigned char  b[8];

    static const char  name[] = "next_sid";

    rc = evb_get(tx->txn, tx->st->dbi[EVB_DB_META], name, sizeof(name) - 1,
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

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_META], name, sizeof(name) - 1,
                   b, 8);
}


int
evb_tx_index_session(evb_wtxn_t *tx, const evb_session_t *s)
{
    int            rc;
    size_t         klen;
    unsigned char  k[EVB_PAIR_MAX + 16], sk[8];

    if (!evb_id_ok(s->charger_id) || !evb_id_ok(s->session_id)) {
        return EVB_RC_CORRUPT;
    }

    evb_put_be64(sk, s->sid);

    klen = evb_pair_key(k, s->charger_id, s->session_id);
    rc = evb_put(tx->txn, tx->st->dbi[EVB_DB_SESSION_NAMES], k, klen, sk, 8);
    if (rc != 0) {
        return rc;
    }

    evb_put_be64(k, evb_time_key(s->started_at));
    evb_put_be64(k + 8, s->sid);
    rc = evb_put(tx->txn, tx->st->dbi[EVB_DB_SESSION_TIME], k, 16, "", 0);
    if (rc != 0) {
        return rc;
    }

    memcpy(k, s->charger_id.data, s->charger_id.len);
    k[s->charger_id.len] = '\0';
    klen = s->charger_id.len + 1;
    evb_put_be64(k + klen, evb_time_key(s->started_at));
    evb_put_be64(k + klen + 8, s->sid);
    rc = evb_put(tx->txn, tx->st->dbi[EVB_DB_CHARGER_TIME], k, klen + 16,
                 "", 0);
    if (rc != 0) {
        return rc;
    }

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_ACTIVE], sk, 8, "", 0);
}


int
evb_tx_unmark_active(evb_wtxn_t *tx, uint64_t sid)
{
    unsigned char  k[8];

    evb_put_be64(k, sid);

    return evb_del(tx->txn, tx->st->dbi[EVB_DB_ACTIVE], k, 8);
}


static void
evb_activity_key(unsigned char k[16], uint64_t sid, evb_msec_t at)
{
    evb_put_be64(k, evb_time_key(at));
    evb_put_be64(k + 8, sid);
}


int
evb_tx_activity_put(evb_wtxn_t *tx, uint64_t sid, evb_msec_t at)
{
    unsigned char  k[16];

    evb_activity_key(k, sid, at);

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_ACTIVITY], k, 16, "", 0);
}


int
evb_tx_activity_del(evb_wtxn_t *tx, uint64_t sid, evb_msec_t at)
{
    unsigned char  k[16];

    evb_activity_key(k, sid, at);

    /* absent is fine: a marked session has no entry */
    return evb_del(tx->txn, tx->st->dbi[EVB_DB_ACTIVITY], k, 16);
}


int
evb_tx_activity_scan(evb_wtxn_t *tx, evb_msec_t cutoff,
    const evb_activity_t *after, evb_activity_t *out, size_t max,
    size_t *n, int *more)
{
    int            rc;
    MDB_val        k, v;
    MDB_cursor    *cur;
    MDB_cursor_op  how;
    unsigned char  start[16], end[8];

    *n = 0;
    *more = 0;

    evb_put_be64(end, evb_time_key(cutoff));

    rc = mdb_cursor_open(tx->txn, tx->st->dbi[EVB_DB_ACTIVITY], &cur);
    if (rc != 0) {
        return rc;
    }

    if (after) {
        evb_activity_key(start, after->sid, after->at);
        k.mv_data = start;
        k.mv_size = 16;
        how = MDB_SET_RANGE;

    } else {
        how = MDB_FIRST;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, how);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 16) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        if (after && memcmp(k.mv_data, start, 16) == 0) {
            continue;
        }

        /* at most cutoff: the time part's bytes compare as times */
        if (memcmp(k.mv_data, end, 8) > 0) {
            rc = MDB_NOTFOUND;
            break;
        }

        if (*n == max) {
            *more = 1;
            rc = MDB_NOTFOUND;
            break;
        }

        out[*n].sid = evb_get_be64((unsigned char *) k.mv_data + 8);
        out[*n].at = (evb_msec_t) (evb_get_be64(k.mv_data)
                                  ^ 0x8000000000000000ULL);
        (*n)++;
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


int
evb_tx_get_reading_view(evb_wtxn_t *tx, const evb_session_t *s,
    uint64_t seq, evb_reading_t *r)
{
    return evb_log_find(tx->txn, tx->st->dbi[EVB_DB_READING_LOG],
                        tx->st->dbi[EVB_DB_READING_INDEX], s, seq, r);
}


int
evb_tx_put_reading(evb_wtxn_t *tx, evb_session_t *s, const evb_reading_t *r)
{
    return evb_log_append(tx->txn, tx->st->dbi[EVB_DB_READING_LOG],
                          tx->st->dbi[EVB_DB_READING_INDEX], &tx->enc, s, r);
}


int
evb_tx_put_period(evb_wtxn_t *tx, uint64_t sid, uint32_t idx,
    evb_str_t period)
{
    unsigned char  k[12];

    evb_put_be64(k, sid);
    evb_put_be32(k + 8, idx);

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_PERIODS], k, 12, period.data,
                   period.len);
}


int
evb_tx_get_periods(evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid, size_t max,
    evb_str_t **periods, size_t *n)
{
    int             rc;
    size_t          cap;
    MDB_val         k, v;
    MDB_cursor     *cur;
    evb_str_t      *list, *bigger;
    unsigned char   start[12];

    *periods = NULL;
    *n = 0;

    evb_put_be64(start, sid);
    evb_put_be32(start + 8, 0);

    rc = mdb_cursor_open(tx->txn, tx->st->dbi[EVB_DB_PERIODS], &cur);
    if (rc != 0) {
        return rc;
    }

    list = NULL;
    cap = 0;

    k.mv_data = start;
    k.mv_size = 12;

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 12 || memcmp(k.mv_data, start, 8) != 0) {
            break;
        }

        /* stored in order from 0, without gaps */
        if (evb_get_be32((unsigned char *) k.mv_data + 8) != *n) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        if (*n == max) {
            rc = E2BIG;
            break;
        }

        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            bigger = evb_arena_alloc(a, cap * sizeof(evb_str_t));
            if (bigger == NULL) {
                rc = ENOMEM;
                break;
            }

            if (*n) {
                memcpy(bigger, list, *n * sizeof(evb_str_t));
            }
            list = bigger;
        }

        list[*n].len = v.mv_size;
        list[*n].data = evb_arena_strdup(a, v.mv_data, v.mv_size);
        if (list[*n].data == NULL) {
            rc = ENOMEM;
            break;
        }

        (*n)++;
    }

    mdb_cursor_close(cur);

    if (rc != 0 && rc != MDB_NOTFOUND) {
        *n = 0;
        return rc;
    }

    *periods = list;

    return 0;
}


int
evb_tx_get_readings(evb_wtxn_t *tx, evb_arena_t *a, const evb_session_t *s,
    evb_reading_t **readings, size_t *n)
{
    return evb_load_readings(tx->st, tx->txn, a, s, readings, n);
}


int
evb_tx_put_cdr(evb_wtxn_t *tx, uint64_t sid, evb_str_t cdr)
{
    int            rc, fresh;
    MDB_val        v;
    unsigned char  k[8];

    evb_put_be64(k, sid);

    /* the feed announces a CDR once: the put that adds its invoice's
     * reference in the same op is the same document */
    rc = evb_get(tx->txn, tx->st->dbi[EVB_DB_CDRS], k, 8, &v);
    if (rc != 0 && rc != MDB_NOTFOUND) {
        return rc;
    }

    fresh = (rc == MDB_NOTFOUND);

    rc = evb_put(tx->txn, tx->st->dbi[EVB_DB_CDRS], k, 8, cdr.data,
                 cdr.len);

    return (rc == 0 && fresh) ? evb_tx_feed(tx, EVB_FEED_SRC_CDR, k, 8) : rc;
}


int
evb_tx_get_tariff(evb_wtxn_t *tx, evb_arena_t *a, evb_str_t id,
    uint32_t version, evb_str_t *json, uint32_t *found,
    evb_msec_t *created_at)
{
    return evb_load_tariff(tx->st, tx->txn, a, id, version, json, found,
                           created_at);
}


int
evb_tx_put_tariff(evb_wtxn_t *tx, evb_str_t id, uint32_t version,
    evb_msec_t created_at, evb_str_t json)
{
    int            rc;
    unsigned char  k[EVB_ID_MAX + 1 + 4], b[4], t[8];

    if (!evb_id_ok(id)) {
        return EVB_RC_CORRUPT;
    }

    memcpy(k, id.data, id.len);
    k[id.len] = '\0';
    evb_put_be32(k + id.len + 1, version);

    evb_put_be64(t, (uint64_t) created_at);

    evb_buf_reset(&tx->enc);
    evb_buf_append(&tx->enc, t, 8);
    evb_buf_append(&tx->enc, json.data, json.len);
    if (tx->enc.oom) {
        return ENOMEM;
    }

    rc = evb_put(tx->txn, tx->st->dbi[EVB_DB_TARIFF_VERSIONS], k, id.len + 5,
                 tx->enc.data, tx->enc.len);
    if (rc != 0) {
        return rc;
    }

    evb_put_be32(b, version);

    return evb_put(tx->txn, tx->st->dbi[EVB_DB_TARIFFS], id.data, id.len,
                   b, 4);
}



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
    evb_wop_t    **ops;
    size_t         n;
} evb_fixed_batch_t;


static size_t
evb_take_fixed(void *data, evb_wop_t ***ops)
{
    evb_fixed_batch_t  *fb = data;

    *ops = fb->ops;

    return fb->n;
}


evb_problem_e
evb_store_apply(evb_store_t *store, evb_wop_t **ops, size_t n, char *err,
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


static void
evb_op_answer(evb_wop_t *op, evb_problem_e p)
{
    if (op->clear) {
        op->clear(op);
    }

    op->problem = p;

    if (op->detail[0] == '\0') {
        snprintf(op->detail, sizeof(op->detail), "%s",
                 evb_problem_info(p)->title);
    }
}


/*
 * Run ops[0..n) in txn, each in a nested transaction, and commit txn.
 * An op's own failure aborts only its child and answers that op.  A
 * non-zero return is a failure of txn itself (nothing of it was stored;
 * txn is gone): no op is to blame.
 */
static int
evb_commit_ops(evb_store_t *st, MDB_txn *txn, evb_wop_t **ops, size_t n,
    evb_wtxn_t *tx)
{
    int            rc;
    size_t         i;
    MDB_txn       *child;
    evb_wop_t     *op;
    evb_problem_e  p;

    for (i = 0; i < n; i++) {
        op = ops[i];

        op->problem = EVB_OK;
        op->detail[0] = '\0';
        if (op->clear) {
            op->clear(op);
        }

        rc = mdb_txn_begin(st->env, txn, 0, &child);
        if (rc != 0) {
            mdb_txn_abort(txn);
            return rc;
        }

        tx->txn = child;

        p = op->run(op, tx);

        if (p != EVB_OK) {
            mdb_txn_abort(child);
            evb_op_answer(op, p);
            continue;
        }

        rc = mdb_txn_commit(child);
        if (rc != 0) {
            /* LMDB aborted the child: only this op's writes are gone */
            op->detail[0] = '\0';
            evb_op_answer(op, evb_tx_error(op, rc));
        }
    }

    tx->txn = NULL;

    rc = evb_store_commit_hook ? evb_store_commit_hook(st, n) : 0;
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }

    return mdb_txn_commit(txn);
}


/*
 * Part of a batch whose commit failed: this part in a transaction of its
 * own; if that fails too, its halves, down to one op per transaction, so
 * each op learns whether it was its own write that did not fit.  At
 * most 2n - 1 transactions.
 */
static void
evb_commit_split(evb_store_t *st, evb_wop_t **ops, size_t n, evb_wtxn_t *tx)
{
    int       rc;
    size_t    half;
    MDB_txn  *txn;

    rc = evb_write_begin(st, &txn);
    if (rc == 0) {
        rc = evb_commit_ops(st, txn, ops, n, tx);
        if (rc == 0) {
            return;
        }
    }

    if (n > 1) {
        half = n / 2;
        evb_commit_split(st, ops, half, tx);
        evb_commit_split(st, ops + half, n - half, tx);
        return;
    }

    ops[0]->detail[0] = '\0';
    evb_op_answer(ops[0], evb_tx_error(ops[0], rc));
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
    int            rc;
    size_t         i, n;
    MDB_txn       *txn;
    evb_wop_t    **ops;
    evb_wtxn_t     tx;
    evb_problem_e  p;

    if (err && errlen) {
        err[0] = '\0';
    }

    ops = NULL;

    if (pthread_mutex_lock(&store->write_lock) != 0) {
        n = take(data, &ops);
        if (err && errlen) {
            snprintf(err, errlen, "store write lock failed");
        }

        p = EVB_P_STORE_UNAVAILABLE;

        for (i = 0; i < n; i++) {
            if (ops[i]->clear) {
                ops[i]->clear(ops[i]);
            }
            ops[i]->problem = p;
            snprintf(ops[i]->detail, sizeof(ops[i]->detail), "the store "
                     "could not commit; nothing was written; retry later");
        }

        return p;
    }

    tx.st = store;
    tx.txn = NULL;
    evb_buf_init(&tx.enc);

    rc = evb_write_begin(store, &txn);

    n = take(data, &ops);

    if (rc != 0) {
        p = evb_rc_problem(rc);
        if (err && errlen) {
            snprintf(err, errlen, "store write failed (begin): %s",
                     evb_store_strerror(rc));
        }

        for (i = 0; i < n; i++) {
            if (ops[i]->clear) {
                ops[i]->clear(ops[i]);
            }
            ops[i]->problem = p;
            snprintf(ops[i]->detail, sizeof(ops[i]->detail), "%s",
                     p == EVB_P_STORE_FULL
                     ? "the store is full; nothing was written; the "
                       "operator must grow evbill_store size="
                     : "the store could not commit; nothing was written; "
                       "retry later");
        }

        goto done;
    }

    if (n == 0) {
        mdb_txn_abort(txn);
        p = EVB_OK;
        goto done;
    }

    rc = evb_commit_ops(store, txn, ops, n, &tx);

    if (rc != 0 && n == 1) {
        ops[0]->detail[0] = '\0';
        evb_op_answer(ops[0], evb_tx_error(ops[0], rc));

    } else if (rc != 0) {
        /* nothing of the batch is stored and no op is to blame */
        evb_commit_split(store, ops, n / 2, &tx);
        evb_commit_split(store, ops + n / 2, n - n / 2, &tx);
    }

    /*
     * The environment runs with MDB_NOMETASYNC: the commit flushed the
     * data pages and wrote the meta page without waiting; LMDB's write
     * lock is free again, so the other worker's batch proceeds while this
     * flush makes ours durable.  No answer leaves before it returns, and a
     * crash before it can only undo this unanswered transaction.
     */
    rc = evb_store_sync_hook ? evb_store_sync_hook(store)
                             : mdb_env_sync(store->env, 1);
    if (rc != 0) {
        /* committed, maybe not on disk: "nothing was written" would be
         * wrong, the client must not take it as a refusal; refused ops
         * wrote nothing and keep their own answers */
        p = EVB_P_STORE_UNAVAILABLE;

        if (err && errlen) {
            snprintf(err, errlen, "store write failed (sync): %s",
                     evb_store_strerror(rc));
        }

        for (i = 0; i < n; i++) {
            if (ops[i]->problem != EVB_OK) {
                continue;
            }

            if (ops[i]->clear) {
                ops[i]->clear(ops[i]);
            }
            ops[i]->problem = p;
            snprintf(ops[i]->detail, sizeof(ops[i]->detail), "the write was "
                     "committed but could not be flushed to disk: it may be "
                     "stored or not; retrying is safe (writes are "
                     "idempotent)");
        }

        goto done;
    }

    p = EVB_OK;

done:

    evb_buf_free(&tx.enc);
    pthread_mutex_unlock(&store->write_lock);

    return p;
}


/* read transactions */

int
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


void
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

/* The sentence for a store of another schema: an older one names the
 * exact command that upgrades it. */
void
evb_schema_error(char *err, size_t errlen, const char *path,
    unsigned version)
{
    if (version == 0) {
        snprintf(err, errlen, "store at %s has a malformed schema version; "
                 "see docs/operations.md (upgrades)", path);

    } else if (version < EVB_SCHEMA_VERSION) {
        snprintf(err, errlen, "store at %s has schema version %u, this "
                 "evbill build needs %u: stop nginx, back up the store, "
                 "then run \"evbill-store upgrade %s\"", path, version,
                 EVB_SCHEMA_VERSION, path);

    } else {
        snprintf(err, errlen, "store at %s has schema version %u, newer "
                 "than this evbill build's %u: it was written by a newer "
                 "release; run that release or restore a backup taken "
                 "before its upgrade", path, version, EVB_SCHEMA_VERSION);
    }
}


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
            evb_schema_error(err, errlen, path, version);
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
                    evb_schema_error(err, errlen, path, version);
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

    if (store->wcache && store->wcache_free) {
        store->wcache_free(store->wcache);
    }

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
    return evb_log_load(txn, st->dbi[EVB_DB_READING_LOG], a, s, readings,
                        nreadings);
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


int
evb_store_load_sid(evb_store_t *st, MDB_txn *txn, evb_arena_t *a,
    uint64_t sid, evb_session_t *s)
{
    return evb_load_session_sid(st, txn, a, sid, s);
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

    limit = q->limit ? q->limit : EVB_LIST_LIMIT_DEFAULT;
    if (limit > EVB_LIST_LIMIT_MAX) {
        limit = EVB_LIST_LIMIT_MAX;
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
        rc = mdb_stat(txn, store->dbi[EVB_DB_READING_LOG], &ms);
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


