/*
 * The LMDB store: open/create/reopen, schema check, every op and its
 * problems, batch atomicity, duplicates, map full, listing, sweep, stat.
 */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <lmdb.h>

#include "tap.h"
#include "../../lmdb/evb_store.h"
#include "../../lmdb/evb_codec.h"
#include "../../src/ops/evb_ops.h"
#include "../../src/core/evb_crypto.h"


#define S(lit)   evb_str_t_of(lit)
#define T0       1767225600000LL       /* 2026-01-01T00:00:00Z */


static evb_arena_t    *arena;
static unsigned char   mkey[EVB_MASTER_KEY_LEN];


static evb_str_t
evb_str_t_of(const char *s)
{
    evb_str_t  r;

    r.data = s;
    r.len = strlen(s);

    return r;
}


static int
str_is(evb_str_t s, const char *want)
{
    return s.data != NULL && s.len == strlen(want)
           && memcmp(s.data, want, s.len) == 0;
}


/*
 * The tests were written against one op struct with a field for every
 * kind of write; top_t keeps that shape for them and top_apply() turns
 * each into its src/ops payload, applies the batch and copies the
 * outputs back.
 */
typedef struct {
    evb_op_kind_e        kind;
    evb_msec_t           now;
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_str_t            key_id;
    evb_charger_t       *charger;
    evb_str_t           *sealed_keys;
    evb_str_t            sealed;
    const unsigned char *master_key;
    evb_key_t           *key;
    evb_start_t         *start;
    evb_reading_t       *readings;
    size_t               nreadings;
    evb_stop_t          *stop;
    evb_msec_t           idle_timeout;
    unsigned             check_time:1;
    evb_msec_t           max_age;
    evb_msec_t           max_ahead;
    evb_str_t            tariff_id;
    evb_str_t            tariff_json;
    evb_str_t            reason;
    const evb_bill_conf_t  *bill;

    evb_arena_t         *arena;
    evb_problem_e        problem;
    char                 detail[192];
    unsigned             created:1;
    evb_session_t        session;
    uint64_t             accepted;
    uint64_t             duplicates;
    uint64_t             swept;
    uint64_t             failed;
    uint64_t             examined;
    uint64_t             moved;
    unsigned             more;
    unsigned             has_after;
    evb_activity_t       after;
    uint32_t             tariff_version;
} top_t;


static void
top_limits(evb_op_limits_t *l, const top_t *t)
{
    l->bill = t->bill;
    l->check_time = t->check_time;
    l->max_age = t->max_age;
    l->max_ahead = t->max_ahead;
}


static void
top_to(evb_op_any_t *o, const top_t *t)
{
    switch (t->kind) {
    case EVB_OP_PUT_CHARGER:
        evb_op_put_charger_init(&o->put_charger, t->now, t->arena);
        o->put_charger.charger_id = t->charger_id;
        o->put_charger.charger = t->charger;
        o->put_charger.sealed_keys = t->sealed_keys;
        o->put_charger.master_key = t->master_key;
        break;
    case EVB_OP_RETIRE_CHARGER:
        evb_op_retire_charger_init(&o->retire_charger, t->now, t->arena);
        o->retire_charger.charger_id = t->charger_id;
        break;
    case EVB_OP_PUT_KEY:
        evb_op_put_key_init(&o->put_key, t->now, t->arena);
        o->put_key.charger_id = t->charger_id;
        o->put_key.key_id = t->key_id;
        o->put_key.key = t->key;
        o->put_key.sealed = t->sealed;
        o->put_key.master_key = t->master_key;
        break;
    case EVB_OP_RETIRE_KEY:
        evb_op_retire_key_init(&o->retire_key, t->now, t->arena);
        o->retire_key.charger_id = t->charger_id;
        o->retire_key.key_id = t->key_id;
        break;
    case EVB_OP_START:
        evb_op_start_init(&o->start, t->now, t->arena);
        top_limits(&o->start.limits, t);
        o->start.charger_id = t->charger_id;
        o->start.session_id = t->session_id;
        o->start.start = t->start;
        break;
    case EVB_OP_READINGS:
        evb_op_readings_init(&o->readings, t->now, t->arena);
        top_limits(&o->readings.limits, t);
        o->readings.charger_id = t->charger_id;
        o->readings.session_id = t->session_id;
        o->readings.readings = t->readings;
        o->readings.nreadings = t->nreadings;
        break;
    case EVB_OP_STOP:
        evb_op_stop_init(&o->stop, t->now, t->arena);
        top_limits(&o->stop.limits, t);
        o->stop.charger_id = t->charger_id;
        o->stop.session_id = t->session_id;
        o->stop.stop = t->stop;
        break;
    case EVB_OP_SWEEP_IDLE:
        evb_op_sweep_init(&o->sweep, t->now, t->arena);
        o->sweep.bill = t->bill;
        o->sweep.idle_timeout = t->idle_timeout;
        o->sweep.after = t->after;
        o->sweep.has_after = t->has_after;
        break;
    case EVB_OP_VOID:
        evb_op_void_init(&o->void_, t->now, t->arena);
        o->void_.charger_id = t->charger_id;
        o->void_.session_id = t->session_id;
        o->void_.reason = t->reason;
        break;
    case EVB_OP_PUT_TARIFF:
        evb_op_put_tariff_init(&o->put_tariff, t->now, t->arena);
        o->put_tariff.tariff_id = t->tariff_id;
        o->put_tariff.tariff_json = t->tariff_json;
        break;
    case EVB_OP_CREDIT:
        /* credits are tested through nginx (t/155-credit-notes.t) */
        evb_op_credit_init(&o->credit, t->now, t->arena);
        break;
    default:
        /* who is billed: t/unit/test_party.c */
        break;
    }
}


static void
top_from(top_t *t, const evb_op_any_t *o)
{
    t->problem = o->op.w.problem;
    memcpy(t->detail, o->op.w.detail, sizeof(t->detail));
    t->created = 0;
    memset(&t->session, 0, sizeof(t->session));
    t->accepted = 0;
    t->duplicates = 0;
    t->swept = 0;
    t->failed = 0;
    t->tariff_version = 0;

    switch (t->kind) {
    case EVB_OP_PUT_CHARGER:
        t->created = o->put_charger.created;
        break;
    case EVB_OP_PUT_KEY:
        t->created = o->put_key.created;
        break;
    case EVB_OP_START:
        t->created = o->start.created;
        t->session = o->start.session;
        break;
    case EVB_OP_READINGS:
        t->session = o->readings.session;
        t->accepted = o->readings.accepted;
        t->duplicates = o->readings.duplicates;
        break;
    case EVB_OP_STOP:
        t->session = o->stop.session;
        break;
    case EVB_OP_SWEEP_IDLE:
        t->swept = o->sweep.swept;
        t->failed = o->sweep.failed;
        t->examined = o->sweep.examined;
        t->moved = o->sweep.moved;
        t->more = o->sweep.more;
        t->after = o->sweep.after;
        t->has_after = o->sweep.has_after;
        break;
    case EVB_OP_VOID:
        t->session = o->void_.session;
        break;
    case EVB_OP_PUT_TARIFF:
        t->tariff_version = o->put_tariff.version;
        t->created = o->put_tariff.created;
        break;
    default:
        break;
    }
}


static evb_problem_e
top_apply(evb_store_t *st, top_t **ops, size_t n, char *err, size_t errlen)
{
    size_t          i;
    evb_wop_t     **w;
    evb_problem_e   p;
    evb_op_any_t   *o;

    o = calloc(n ? n : 1, sizeof(evb_op_any_t));
    w = calloc(n ? n : 1, sizeof(evb_wop_t *));
    if (o == NULL || w == NULL) {
        free(o);
        free(w);
        snprintf(err, errlen, "out of memory");
        return EVB_P_INTERNAL;
    }

    for (i = 0; i < n; i++) {
        top_to(&o[i], ops[i]);
        w[i] = &o[i].op.w;
    }

    p = evb_store_apply(st, w, n, err, errlen);

    for (i = 0; i < n; i++) {
        top_from(ops[i], &o[i]);
    }

    free(o);
    free(w);

    return p;
}


static void
op_init(top_t *op, evb_op_kind_e kind, evb_msec_t now)
{
    memset(op, 0, sizeof(*op));
    op->kind = kind;
    op->now = now;
    op->arena = arena;
    op->master_key = mkey;
}


static evb_problem_e
apply1(evb_store_t *st, top_t *op)
{
    char           err[256];
    evb_problem_e  p;

    p = top_apply(st, &op, 1, err, sizeof(err));
    if (p != EVB_OK) {
        printf("# apply: %s\n", err);
        return p;
    }

    if (op->problem != EVB_OK) {
        printf("# op problem %d: %s\n", (int) op->problem, op->detail);
    }

    return op->problem;
}


/* a key with a secret of 32 times c, sealed */
static void
make_key(evb_key_t *k, evb_str_t *sealed, const char *id, int c)
{
    unsigned char  *buf;

    memset(k, 0, sizeof(*k));
    k->key_id = S(id);
    k->secret_len = 32;
    memset(k->secret, c, 32);

    buf = evb_arena_alloc(arena, 32 + EVB_SEAL_OVERHEAD);
    if (buf == NULL
        || evb_seal(mkey, k->secret, 32, id, strlen(id), buf) != 0)
    {
        printf("Bail out! seal\n");
        exit(1);
    }

    sealed->data = (const char *) buf;
    sealed->len = 32 + EVB_SEAL_OVERHEAD;
}


static evb_problem_e
put_charger(evb_store_t *st, const char *id, const char *tariff,
    const char *key_id, int secret, evb_msec_t now, int *created)
{
    top_t       op;
    evb_key_t      k;
    evb_str_t      sealed;
    evb_charger_t  c;
    evb_problem_e  p;

    memset(&c, 0, sizeof(c));
    c.charger_id = S(id);
    c.doc = S("{\"evse_uid\":\"E1\"}");
    c.tariff_id = S(tariff ? tariff : "");
    c.time_zone = S("Europe/Berlin");

    op_init(&op, EVB_OP_PUT_CHARGER, now);
    op.charger_id = S(id);
    op.charger = &c;

    if (key_id) {
        make_key(&k, &sealed, key_id, secret);
        c.keys = &k;
        c.nkeys = 1;
        op.sealed_keys = &sealed;
    }

    p = apply1(st, &op);
    if (created) {
        *created = op.created;
    }

    return p;
}


static evb_problem_e
put_key(evb_store_t *st, const char *charger, const char *key_id,
    int secret)
{
    top_t   op;
    evb_key_t  k;

    op_init(&op, EVB_OP_PUT_KEY, T0);
    op.charger_id = S(charger);
    op.key_id = S(key_id);
    make_key(&k, &op.sealed, key_id, secret);
    op.key = &k;

    return apply1(st, &op);
}


static evb_problem_e
simple_op(evb_store_t *st, evb_op_kind_e kind, const char *charger,
    const char *key_id)
{
    top_t  op;

    op_init(&op, kind, T0 + 5);
    op.charger_id = S(charger);
    if (key_id) {
        op.key_id = S(key_id);
    }

    return apply1(st, &op);
}


static void
start_init(evb_start_t *s, const char *sid, evb_msec_t ts, int64_t meter)
{
    memset(s, 0, sizeof(*s));
    s->session_id = S(sid);
    s->connector_id = 1;
    s->id_token = S("TOKEN1");
    s->token_type = EVB_TOKEN_RFID;
    s->timestamp = ts;
    s->meter_start_wh = meter;
    s->tariff_id = S("");
    s->ocmf = S("");
}


static evb_problem_e
start(evb_store_t *st, const char *charger, evb_start_t *s, evb_msec_t now,
    top_t *out)
{
    top_t       op;
    evb_problem_e  p;

    op_init(&op, EVB_OP_START, now);
    op.charger_id = S(charger);
    op.session_id = s->session_id;
    op.start = s;

    p = apply1(st, &op);
    if (out) {
        *out = op;
    }

    return p;
}


static void
reading_init(evb_reading_t *r, uint64_t seq, evb_msec_t ts, int64_t wh)
{
    memset(r, 0, sizeof(*r));
    r->seq = seq;
    r->timestamp = ts;
    r->energy_wh = wh;
    r->state = EVB_READING_CHARGING;
    r->has_power = 1;
    r->power_w = 11000;
    r->ocmf = S("");
}


static void
readings_op(top_t *op, const char *charger, const char *session,
    evb_reading_t *r, size_t n, evb_msec_t now)
{
    op_init(op, EVB_OP_READINGS, now);
    op->charger_id = S(charger);
    op->session_id = S(session);
    op->readings = r;
    op->nreadings = n;
}


static void
stop_op(top_t *op, evb_stop_t *stop, const char *charger,
    const char *session, evb_msec_t ts, int64_t wh, evb_msec_t now)
{
    memset(stop, 0, sizeof(*stop));
    stop->timestamp = ts;
    stop->meter_stop_wh = wh;
    stop->reason = S("");
    stop->ocmf = S("");

    op_init(op, EVB_OP_STOP, now);
    op->charger_id = S(charger);
    op->session_id = S(session);
    op->stop = stop;
}


static char *
make_dir(void)
{
    static char  dirs[8][64];
    static int   n;
    char        *d;

    d = dirs[n++ % 8];
    strcpy(d, "/tmp/evb_store_XXXXXX");

    if (mkdtemp(d) == NULL) {
        printf("Bail out! mkdtemp\n");
        exit(1);
    }

    return d;
}


static void
remove_dir(const char *d)
{
    char  p[128];

    snprintf(p, sizeof(p), "%s/data.mdb", d);
    unlink(p);
    snprintf(p, sizeof(p), "%s/lock.mdb", d);
    unlink(p);
    rmdir(d);
}


/* raw LMDB: empty a named db of a closed store */
static int
raw_drop(const char *dir, const char *db)
{
    int       rc;
    MDB_env  *env;
    MDB_txn  *txn;
    MDB_dbi   dbi;

    rc = mdb_env_create(&env);
    if (rc != 0) {
        return rc;
    }

    mdb_env_set_maxdbs(env, 20);

    rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    }

    if (rc == 0) {
        rc = mdb_dbi_open(txn, db, 0, &dbi);

        if (rc == 0) {
            rc = mdb_drop(txn, dbi, 1);
        }

        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    mdb_env_close(env);

    return rc;
}


/* raw LMDB: put one value into a named db of a closed store */
static int
raw_put(const char *dir, const char *db, const void *k, size_t klen,
    const void *v, size_t vlen)
{
    int       rc;
    MDB_env  *env;
    MDB_txn  *txn;
    MDB_dbi   dbi;
    MDB_val   key, val;

    rc = mdb_env_create(&env);
    if (rc != 0) {
        return rc;
    }

    mdb_env_set_maxdbs(env, 20);

    rc = mdb_env_open(env, dir, MDB_NOTLS, 0600);
    if (rc == 0) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
    }

    if (rc == 0) {
        rc = mdb_dbi_open(txn, db, MDB_CREATE, &dbi);
        key.mv_data = (void *) k;
        key.mv_size = klen;
        val.mv_data = (void *) v;
        val.mv_size = vlen;

        if (rc == 0) {
            rc = mdb_put(txn, dbi, &key, &val, 0);
        }

        if (rc == 0) {
            rc = mdb_txn_commit(txn);

        } else {
            mdb_txn_abort(txn);
        }
    }

    mdb_env_close(env);

    return rc;
}


static void
test_open(void)
{
    char               err[256], want[256];
    const char        *dir;
    evb_store_t       *st;
    evb_store_stat_t   ss;
    unsigned char      v[4] = { 0, 0, 0, 2 };

    dir = make_dir();

    is_int(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)), 0,
           "open creates a new store");
    is_int(evb_store_stat(st, &ss), EVB_OK, "stat");
    is_int(ss.schema_version, EVB_SCHEMA_VERSION, "schema version written");
    is_int(ss.max_readers, 16, "max_readers applied");
    is_int(ss.map_size, 1 << 20, "map size applied");
    ok(ss.map_used > 0 && ss.map_used <= ss.map_size, "map used %llu",
       (unsigned long long) ss.map_used);
    is_int(evb_store_reader_check(st), 0, "no stale readers");
    evb_store_close(st);

    is_int(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)), 0,
           "reopen");
    evb_store_close(st);

    /* a store of a newer schema is refused, with the sentence */
    v[3] = EVB_SCHEMA_VERSION + 1;
    is_int(raw_put(dir, "meta", "schema_version", 14, v, 4), 0,
           "raw write of a newer schema version");
    is_int(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)), -1,
           "open refuses a newer schema version");
    ok(st == NULL, "no store handle on failure");
    snprintf(want, sizeof(want), "store at %s has schema version %d, newer "
             "than this evbill build's %d: it was written by a newer "
             "release; run that release or restore a backup taken before "
             "its upgrade", dir, EVB_SCHEMA_VERSION + 1, EVB_SCHEMA_VERSION);
    is_str(err, strlen(err), want, "newer schema sentence");
    is_int(evb_store_check(dir, err, sizeof(err)), -1,
           "nginx -t's check refuses it too");
    is_str(err, strlen(err), want, "... with the same sentence");

    /* an older one: the sentence names the exact command */
    v[3] = 1;
    is_int(raw_put(dir, "meta", "schema_version", 14, v, 4), 0,
           "raw write of schema version 1");
    is_int(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)), -1,
           "open refuses an older schema version");
    snprintf(want, sizeof(want), "store at %s has schema version 1, this "
             "evbill build needs %d: stop nginx, back up the store, then "
             "run \"evbill-store upgrade %s\"", dir, EVB_SCHEMA_VERSION,
             dir);
    is_str(err, strlen(err), want, "older schema sentence");
    remove_dir(dir);

    err[0] = '\0';
    is_int(evb_store_open(&st, "/tmp/evb-no-such-dir/x", 1 << 20, 16, err,
                          sizeof(err)), -1, "missing directory refused");
    ok(strstr(err, "/tmp/evb-no-such-dir/x") != NULL, "err names the path: %s",
       err);
}


static void
test_chargers_keys(evb_store_t *st)
{
    int                created;
    long               n;
    size_t             nkeys;
    top_t           op;
    evb_key_t          k;
    evb_charger_t      c;
    evb_key_record_t   kr, *keys;
    unsigned char      plain[64];

    created = -1;
    is_int(put_charger(st, "c1", "T1", "k1", 'a', T0, &created), EVB_OK,
           "put charger c1 with key k1");
    is_int(created, 1, "c1 created");

    is_int(put_charger(st, "c1", "T1", "k1", 'a', T0 + 1, &created), EVB_OK,
           "put c1 again with the same key and secret");
    is_int(created, 0, "c1 not created again");

    memset(&op, 0, sizeof(op));
    is_int(put_charger(st, "c1", "T1", "k1", 'b', T0 + 2, NULL),
           EVB_P_KEY_CONFLICT, "same key id, other secret: key conflict");
    is_int(put_charger(st, "c2", "T1", "k1", 'a', T0 + 2, NULL),
           EVB_P_KEY_CONFLICT, "key id of another charger: key conflict");
    is_int(evb_store_get_charger(st, arena, S("c2"), &c, &keys, &nkeys),
           EVB_P_UNKNOWN_CHARGER, "the failed put did not create c2");

    is_int(evb_store_find_key(st, arena, S("k1"), &kr), EVB_OK, "find k1");
    ok(str_is(kr.charger_id, "c1"), "k1 belongs to c1");
    ok(str_is(kr.key_id, "k1"), "key id copied");
    n = evb_open(mkey, (const unsigned char *) kr.sealed.data, kr.sealed.len,
                 "k1", 2, plain);
    ok(n == 32 && plain[0] == 'a' && plain[31] == 'a',
       "stored sealed secret opens to the first secret");
    is_int(evb_store_find_key(st, arena, S("nokey"), &kr), EVB_P_UNKNOWN_KEY,
           "unknown key");

    is_int(put_key(st, "c1", "k2", 'c'), EVB_OK, "put key k2 on c1");
    is_int(put_key(st, "c1", "k2", 'c'), EVB_OK, "put k2 again: no-op");
    is_int(put_key(st, "c1", "k2", 'd'), EVB_P_KEY_CONFLICT,
           "put k2 with another secret");
    is_int(put_key(st, "cX", "k3", 'c'), EVB_P_UNKNOWN_CHARGER,
           "put key on unknown charger");

    memset(&op, 0, sizeof(op));
    op_init(&op, EVB_OP_PUT_KEY, T0);
    op.charger_id = S("c1");
    op.key_id = S("k4");
    make_key(&k, &op.sealed, "k4", 'e');
    op.key = &k;
    is_int(apply1(st, &op), EVB_OK, "put k4");
    is_int(op.created, 1, "k4 created");

    is_int(evb_store_get_charger(st, arena, S("c1"), &c, &keys, &nkeys),
           EVB_OK, "get charger c1");
    ok(str_is(c.charger_id, "c1") && str_is(c.tariff_id, "T1")
       && str_is(c.time_zone, "Europe/Berlin")
       && str_is(c.doc, "{\"evse_uid\":\"E1\"}"), "charger fields");
    is_int(c.created_at, T0, "created_at kept from the first put");
    is_int(c.updated_at, T0 + 1, "updated_at of the last successful put");
    is_int(nkeys, 3, "c1 has three keys");
    ok(nkeys == 3 && str_is(keys[0].key_id, "k1")
       && str_is(keys[1].key_id, "k2") && str_is(keys[2].key_id, "k4"),
       "keys in id order");

    is_int(simple_op(st, EVB_OP_RETIRE_KEY, "c2", "k2"), EVB_P_UNKNOWN_KEY,
           "retire k2 under the wrong charger");
    is_int(simple_op(st, EVB_OP_RETIRE_KEY, "c1", "nokey"), EVB_P_UNKNOWN_KEY,
           "retire unknown key");
    is_int(simple_op(st, EVB_OP_RETIRE_KEY, "c1", "k2"), EVB_OK, "retire k2");
    is_int(simple_op(st, EVB_OP_RETIRE_KEY, "c1", "k2"), EVB_OK,
           "retire k2 again");
    is_int(evb_store_find_key(st, arena, S("k2"), &kr), EVB_P_UNKNOWN_KEY,
           "retired key is not found");
    is_int(put_key(st, "c1", "k2", 'c'), EVB_P_KEY_CONFLICT,
           "a retired key id cannot come back");
    is_int(evb_store_get_charger(st, arena, S("c1"), &c, &keys, &nkeys),
           EVB_OK, "get c1");
    ok(nkeys == 3 && keys[1].retired && keys[1].retired_at == T0 + 5
       && !keys[0].retired, "k2 shows retired with retired_at");

    is_int(simple_op(st, EVB_OP_RETIRE_CHARGER, "nope", NULL),
           EVB_P_UNKNOWN_CHARGER, "retire unknown charger");
}


static void
test_sessions(evb_store_t *st)
{
    size_t          n;
    top_t        op, ops[2], *pops[2];
    evb_stop_t      stop;
    evb_start_t     s1, s2, s3, sx;
    evb_session_t   s;
    evb_reading_t   r[4], *rs;
    char            err[256];

    is_int(put_charger(st, "c3", NULL, "k30", 'x', T0, NULL), EVB_OK,
           "charger c3 without a tariff");

    start_init(&s1, "S1", T0 + 1000, 5000);
    s1.ocmf = S("OCMF|{}|{}");
    is_int(start(st, "c1", &s1, T0 + 1000, &op), EVB_OK, "start S1 on c1");
    ok(op.created, "S1 created");
    ok(op.session.sid == 1 && op.session.state == EVB_SESSION_ACTIVE
       && str_is(op.session.tariff_id, "T1") && !op.session.tariff_from_request
       && op.session.last_ts == T0 + 1000 && op.session.last_energy_wh == 5000
       && op.session.last_seq == 0 && str_is(op.session.charger_id, "c1")
       && str_is(op.session.session_id, "S1")
       && str_is(op.session.start_ocmf, "OCMF|{}|{}"),
       "S1 fields from the start and the charger tariff");
    ok(op.session.session_id.data != s1.session_id.data,
       "output strings are copies");

    is_int(start(st, "c1", &s1, T0 + 2000, &op), EVB_OK, "replayed start");
    ok(!op.created && op.session.sid == 1 && op.session.updated_at == T0 + 1000,
       "replay: not created, same session, not rewritten");

    /* the store's own id rule (one rule with the parser's) */
    start_init(&sx, ".", T0 + 1000, 5000);
    is_int(start(st, "c1", &sx, T0 + 1000, NULL), EVB_P_INVALID_VALUE,
           "session id \".\" refused at start");
    start_init(&sx, "..", T0 + 1000, 5000);
    is_int(start(st, "c1", &sx, T0 + 1000, NULL), EVB_P_INVALID_VALUE,
           "session id \"..\" refused at start");

    sx = s1;
    sx.meter_start_wh = 5001;
    is_int(start(st, "c1", &sx, T0 + 2000, NULL), EVB_P_SESSION_CONFLICT,
           "same session id, other values");
    is_int(start(st, "cX", &s1, T0, NULL), EVB_P_UNKNOWN_CHARGER,
           "start on unknown charger");

    start_init(&s2, "S2", T0 + 1000, 0);
    is_int(start(st, "c3", &s2, T0, NULL), EVB_P_NO_TARIFF,
           "no tariff anywhere");
    s2.tariff_id = S("T9");
    is_int(start(st, "c3", &s2, T0 + 1000, &op), EVB_OK,
           "start S2 with a request tariff");
    ok(str_is(op.session.tariff_id, "T9") && op.session.tariff_from_request
       && op.session.sid == 2, "tariff from the request");

    /* readings */
    reading_init(&r[0], 1, T0 + 2000, 5100);
    reading_init(&r[1], 2, T0 + 3000, 5200);
    reading_init(&r[2], 3, T0 + 3000, 5200);
    r[2].ocmf = S("OCMF|{\"a\":1}|{}");
    readings_op(&op, "c1", "S1", r, 3, T0 + 3100);
    is_int(apply1(st, &op), EVB_OK, "three readings");
    is_int(op.accepted, 3, "accepted 3");
    is_int(op.duplicates, 0, "no duplicates");
    ok(op.session.last_seq == 3 && op.session.last_energy_wh == 5200
       && op.session.nreadings == 3 && op.session.updated_at == T0 + 3100,
       "session progress updated");

    reading_init(&r[0], 2, T0 + 3000, 5200);
    reading_init(&r[1], 3, T0 + 3000, 5200);
    r[1].ocmf = S("OCMF|{\"a\":1}|{}");
    reading_init(&r[2], 4, T0 + 4000, 5300);
    readings_op(&op, "c1", "S1", r, 3, T0 + 4100);
    is_int(apply1(st, &op), EVB_OK, "replay 2,3 with new 4");
    ok(op.accepted == 1 && op.duplicates == 2, "accepted 1, duplicates 2");

    reading_init(&r[0], 3, T0 + 3000, 5201);
    readings_op(&op, "c1", "S1", r, 1, T0 + 4200);
    is_int(apply1(st, &op), EVB_P_SEQ_CONFLICT, "seq 3 with other values");
    ok(strstr(op.detail, "seq 3 is already stored") != NULL, "detail: %s",
       op.detail);

    reading_init(&r[0], 10, T0 + 5000, 5400);
    readings_op(&op, "c1", "S1", r, 1, T0 + 5100);
    is_int(apply1(st, &op), EVB_OK, "seq 10 after a gap");
    reading_init(&r[0], 7, T0 + 5000, 5400);
    readings_op(&op, "c1", "S1", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_SEQ_CONFLICT, "seq 7 in the gap");
    ok(strstr(op.detail, "seq 7 is below the last seq 10") != NULL,
       "detail: %s", op.detail);

    reading_init(&r[0], 11, T0 + 4999, 5400);
    readings_op(&op, "c1", "S1", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_TIME_BACKWARDS, "time backwards");
    reading_init(&r[0], 11, T0 + 5000, 5399);
    readings_op(&op, "c1", "S1", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_REGISTER_BACKWARDS, "register backwards");
    reading_init(&r[0], 1, T0 + 999, 0);
    readings_op(&op, "c3", "S2", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_BEFORE_START, "reading before start");
    readings_op(&op, "c1", "S9", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_UNKNOWN_SESSION, "unknown session");
    readings_op(&op, "c3", "S1", r, 1, T0 + 5200);
    is_int(apply1(st, &op), EVB_P_UNKNOWN_SESSION,
           "session id of another charger");

    /* one batch: op 0 fails at its second reading, op 1 succeeds */
    reading_init(&r[0], 11, T0 + 6000, 5500);
    reading_init(&r[1], 12, T0 + 7000, 5450);
    readings_op(&ops[0], "c1", "S1", r, 2, T0 + 7100);
    reading_init(&r[2], 1, T0 + 6000, 100);
    readings_op(&ops[1], "c3", "S2", &r[2], 1, T0 + 7100);
    pops[0] = &ops[0];
    pops[1] = &ops[1];
    is_int(top_apply(st, pops, 2, err, sizeof(err)), EVB_OK,
           "batch of two committed");
    is_int(ops[0].problem, EVB_P_REGISTER_BACKWARDS,
           "op 0: register backwards");
    is_int(ops[0].accepted, 0, "op 0 reports nothing accepted");
    is_int(ops[1].problem, EVB_OK, "op 1 ok");
    is_int(ops[1].accepted, 1, "op 1 accepted its reading");

    is_int(evb_store_get_session(st, arena, S("c1"), S("S1"), &s, &rs, &n),
           EVB_OK, "get S1 with readings");
    ok(s.last_seq == 10 && s.nreadings == 5, "S1 unchanged by the failed op");
    is_int(n, 5, "five readings stored");
    ok(n == 5 && rs[0].seq == 1 && rs[1].seq == 2 && rs[2].seq == 3
       && rs[3].seq == 4 && rs[4].seq == 10, "readings in seq order");
    ok(n == 5 && str_is(rs[2].ocmf, "OCMF|{\"a\":1}|{}") && rs[2].has_power
       && rs[2].power_w == 11000 && !rs[2].has_current
       && rs[2].energy_wh == 5200 && rs[2].timestamp == T0 + 3000,
       "reading values round-trip");
    is_int(evb_store_get_session(st, arena, S("c3"), S("S2"), &s, NULL, NULL),
           EVB_OK, "get S2 without readings");
    ok(s.last_seq == 1 && s.last_energy_wh == 100, "S2 got its reading");
    is_int(evb_store_get_session(st, arena, S("c3"), S("nope"), &s, NULL,
                                 NULL), EVB_P_UNKNOWN_SESSION,
           "get unknown session");

    /* stop */
    stop_op(&op, &stop, "c1", "S1", T0 + 4999, 6000, T0 + 8000);
    is_int(apply1(st, &op), EVB_P_TIME_BACKWARDS, "stop before last reading");
    stop_op(&op, &stop, "c1", "S1", T0 + 999, 6000, T0 + 8000);
    is_int(apply1(st, &op), EVB_P_BEFORE_START, "stop before start");
    stop_op(&op, &stop, "c1", "S1", T0 + 8000, 5399, T0 + 8000);
    is_int(apply1(st, &op), EVB_P_REGISTER_BACKWARDS, "stop register back");
    stop_op(&op, &stop, "c1", "S9", T0 + 8000, 6000, T0 + 8000);
    is_int(apply1(st, &op), EVB_P_UNKNOWN_SESSION, "stop unknown session");

    stop_op(&op, &stop, "c1", "S1", T0 + 8000, 6000, T0 + 8000);
    stop.ocmf = S("OCMF|end|{}");
    is_int(apply1(st, &op), EVB_OK, "stop S1");
    ok(op.session.state == EVB_SESSION_STOPPED
       && op.session.stopped_at == T0 + 8000
       && op.session.meter_stop_wh == 6000
       && str_is(op.session.stop_reason, "local")
       && str_is(op.session.stop_ocmf, "OCMF|end|{}")
       && op.session.stop_reason.data != stop.reason.data,
       "stopped with reason local, copies in the arena");
    is_int(apply1(st, &op), EVB_OK, "replayed stop");
    ok(op.session.state == EVB_SESSION_STOPPED, "replay returns the session");
    stop.meter_stop_wh = 6001;
    is_int(apply1(st, &op), EVB_P_STOP_CONFLICT, "other stop values");
    ok(strstr(op.detail, "closed at 2026-01-01T00:00:08.000Z with reason "
              "local") != NULL, "detail: %s", op.detail);

    reading_init(&r[0], 11, T0 + 9000, 7000);
    readings_op(&op, "c1", "S1", r, 1, T0 + 9000);
    is_int(apply1(st, &op), EVB_P_SESSION_STOPPED, "new reading after stop");
    reading_init(&r[0], 4, T0 + 4000, 5300);
    readings_op(&op, "c1", "S1", r, 1, T0 + 9000);
    is_int(apply1(st, &op), EVB_OK, "old reading replayed after stop");
    is_int(op.duplicates, 1, "counted as duplicate");

    /* retire and revive a charger */
    is_int(simple_op(st, EVB_OP_RETIRE_CHARGER, "c1", NULL), EVB_OK,
           "retire c1");
    is_int(simple_op(st, EVB_OP_RETIRE_CHARGER, "c1", NULL), EVB_OK,
           "retire c1 again");
    {
        evb_key_record_t  kr;

        is_int(evb_store_find_key(st, arena, S("k1"), &kr), EVB_P_UNKNOWN_KEY,
               "key of a retired charger is not found");
        start_init(&s3, "S3", T0 + 10000, 0);
        is_int(start(st, "c1", &s3, T0 + 10000, NULL), EVB_P_CHARGER_RETIRED,
               "start on a retired charger");
        is_int(put_key(st, "c1", "k9", 'z'), EVB_P_CHARGER_RETIRED,
               "put key on a retired charger");
        is_int(put_charger(st, "c1", "T1", NULL, 0, T0 + 11000, NULL), EVB_OK,
               "put revives c1");
        is_int(evb_store_find_key(st, arena, S("k1"), &kr), EVB_OK,
               "k1 usable again");
    }
}


/* schema 3's live record and reading log entry round-trip */
static void
test_codec_live(evb_buf_t *e)
{
    size_t          i;
    uint64_t        sid, prev;
    evb_session_t   s, out;
    evb_reading_t   r, rout;
    unsigned char   meter[1200];

    static const char  cost[] =
        "{\"currency\":\"EUR\",\"tariff_id\":\"T\xc3\xa9\","
        "\"tariff_version\":1,\"total_cost\":{\"excl_vat\":0.5,"
        "\"incl_vat\":0.595},\"total_energy\":0,\"rounded\":{\"total_cost\""
        ":{\"excl_vat\":0}}}";

    memset(meter, 0, sizeof(meter));
    for (i = 0; i < sizeof(meter); i += 97) {
        meter[i] = (unsigned char) (i | 1);
        meter[i + 1] = 0xff;
    }
    meter[sizeof(meter) - 1] = 7;

    memset(&s, 0, sizeof(s));
    s.meter_start_wh = 100;
    s.last_seq = 300;
    s.last_ts = T0 + 300000;
    s.last_energy_wh = 4500;
    s.nreadings = 299;
    s.updated_at = T0 + 300001;
    s.log_last = 123456789;
    s.activity_at = T0 - 5;
    s.cost = S(cost);
    s.cost_error = S("");
    s.meter.data = (const char *) meter;
    s.meter.len = sizeof(meter);

    evb_buf_reset(e);
    evb_enc_session_live(e, &s);
    ok(!e->oom && e->len < 300, "codec: live record %zu bytes (cost %zu, "
       "state %zu)", e->len, sizeof(cost) - 1, sizeof(meter));

    memset(&out, 0, sizeof(out));
    out.meter_start_wh = 100;
    is_int(evb_dec_session_live(arena, e->data, e->len, &out), EVB_DEC_OK,
           "codec: live record decodes");
    ok(out.last_seq == 300 && out.last_ts == T0 + 300000
       && out.last_energy_wh == 4500 && out.nreadings == 299
       && out.updated_at == T0 + 300001 && out.log_last == 123456789
       && out.activity_at == T0 - 5 && str_is(out.cost, cost)
       && out.cost_error.len == 0 && out.meter.len == sizeof(meter)
       && memcmp(out.meter.data, meter, sizeof(meter)) == 0,
       "codec: live record round-trips (cost with non-ASCII bytes, state)");
    is_int(evb_dec_session_live(arena, e->data, e->len - 1, &out),
           EVB_DEC_CORRUPT, "codec: a short live record is corrupt");

    memset(&r, 0, sizeof(r));
    r.seq = 77;
    r.timestamp = T0 + 1;
    r.energy_wh = 123456;
    r.state = EVB_READING_PARKED;
    r.has_current = 1;
    r.current_ua = -5;
    r.ocmf = S("OCMF|{}|{}");

    evb_buf_reset(e);
    evb_enc_log_reading(e, 42, 1000, 1003, &r);
    is_int(evb_dec_log_reading(arena, e->data, e->len, 1003, &sid, &prev,
                               &rout), EVB_DEC_OK, "codec: log entry decodes");
    ok(sid == 42 && prev == 1000 && evb_reading_equal(&r, &rout),
       "codec: log entry round-trips (%zu bytes)", e->len);
    is_int(evb_dec_log_reading(arena, e->data, e->len, 2, &sid, &prev,
                               &rout), EVB_DEC_CORRUPT,
           "codec: a log entry pointing ahead of itself is corrupt");
}


static void
test_sweep(evb_store_t *st)
{
    top_t       op;
    evb_start_t    s;
    evb_reading_t  r;
    evb_session_t  ss;

    start_init(&s, "W1", T0 + 20000, 100);
    is_int(start(st, "c3", &s, T0 + 20000, NULL), EVB_P_NO_TARIFF,
           "W1 needs a tariff");
    s.tariff_id = S("T2");
    is_int(start(st, "c3", &s, T0 + 20000, NULL), EVB_OK, "start W1");
    reading_init(&r, 1, T0 + 21000, 150);
    readings_op(&op, "c3", "W1", &r, 1, T0 + 21000);
    is_int(apply1(st, &op), EVB_OK, "W1 reading");

    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 21000 + 59999);
    op.idle_timeout = 60000;
    is_int(apply1(st, &op), EVB_OK, "sweep before the timeout");
    is_int(op.swept, 1, "only S2 (idle since T0+7.1s) swept");
    /* W1's entry stayed at its start (a reading writes only the live
     * record): the sweep reads it, finds the reading and moves it */
    is_int(op.examined, 2, "S2 and W1's entry read");
    is_int(op.moved, 1, "W1's entry moved to its last write, not closed");
    is_int(evb_store_get_session(st, arena, S("c3"), S("W1"), &ss, NULL,
                                 NULL), EVB_OK, "get W1");
    is_int(ss.state, EVB_SESSION_ACTIVE, "W1 still active");

    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 21000 + 60000);
    op.idle_timeout = 60000;
    is_int(apply1(st, &op), EVB_OK, "sweep at the timeout");
    is_int(op.swept, 1, "W1 swept");
    is_int(evb_store_get_session(st, arena, S("c3"), S("W1"), &ss, NULL,
                                 NULL), EVB_OK, "get W1");
    ok(ss.state == EVB_SESSION_STOPPED && ss.stopped_at == T0 + 21000
       && ss.meter_stop_wh == 150 && str_is(ss.stop_reason, "timeout"),
       "closed at the last reading with reason timeout");

    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 999999);
    op.idle_timeout = 60000;
    is_int(apply1(st, &op), EVB_OK, "sweep again");
    is_int(op.swept, 0, "nothing left to sweep");
}


static void
test_list(evb_store_t *st)
{
    int                  i;
    size_t               n;
    char                 next[EVB_CURSOR_LEN + 1], id[16];
    evb_start_t          s[5];
    evb_session_t       *items;
    evb_session_query_t  q;

    is_int(put_charger(st, "c4", "T4", NULL, 0, T0, NULL), EVB_OK,
           "charger c4");

    /* L0..L4: L1 and L2 share a start time; L2 is created later */
    for (i = 0; i < 5; i++) {
        snprintf(id, sizeof(id), "L%d", i);
        start_init(&s[i], evb_arena_strdup(arena, id, strlen(id)),
                   T0 + 100000 + (i == 2 ? 1 : i) * 1000, 0);
        is_int(start(st, "c4", &s[i], T0 + 100000, NULL), EVB_OK,
               "start %s", id);
    }

    memset(&q, 0, sizeof(q));
    q.charger_id = S("c4");
    q.limit = 2;
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "list c4, 2 per page");
    ok(n == 2 && str_is(items[0].session_id, "L4")
       && str_is(items[1].session_id, "L3"), "page 1: L4 L3");
    is_int(strlen(next), EVB_CURSOR_LEN, "a cursor follows");

    q.after = S(evb_arena_strdup(arena, next, strlen(next)));
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "page 2");
    ok(n == 2 && str_is(items[0].session_id, "L2")
       && str_is(items[1].session_id, "L1"),
       "page 2: L2 L1 (same time, newer first)");

    q.after = S(evb_arena_strdup(arena, next, strlen(next)));
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "page 3");
    ok(n == 1 && str_is(items[0].session_id, "L0"), "page 3: L0");
    is_str(next, strlen(next), "", "no cursor at the end");

    q.after = S("");
    q.limit = 5;
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "exactly limit items");
    is_int(n, 5, "five");
    is_str(next, strlen(next), "", "no cursor when nothing more matches");

    /* all chargers: the newest is L4, then by time the others */
    memset(&q, 0, sizeof(q));
    q.limit = 3;
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "list all");
    ok(n == 3 && str_is(items[0].session_id, "L4")
       && str_is(items[2].session_id, "L2"), "all chargers, newest first");

    q.state = EVB_SESSION_STOPPED;
    q.limit = 10;
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "list stopped");
    ok(n == 3 && str_is(items[0].session_id, "W1")
       && str_is(items[1].session_id, "S2")
       && str_is(items[2].session_id, "S1"), "stopped: W1 S2 S1");
    for (i = 0; i < (int) n; i++) {
        if (items[i].state != EVB_SESSION_STOPPED) {
            break;
        }
    }
    is_int(i, (int) n, "all listed are stopped");

    q.state = EVB_SESSION_ACTIVE;
    q.charger_id = S("c3");
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next), EVB_OK,
           "list active on c3");
    is_int(n, 0, "none");

    q.after = S("zz");
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next),
           EVB_P_INVALID_QUERY, "short cursor");
    q.after = S("0123456789abcdef0123456789abcdeg");
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next),
           EVB_P_INVALID_QUERY, "non-hex cursor");
    q.after = S("");
    q.state = 7;
    is_int(evb_store_list_sessions(st, arena, &q, &items, &n, next),
           EVB_P_INVALID_QUERY, "bad state filter");
}


static void
test_stat(evb_store_t *st)
{
    evb_store_stat_t  ss;

    is_int(evb_store_stat(st, &ss), EVB_OK, "stat");
    is_int(ss.chargers, 3, "3 chargers (c1 c3 c4)");
    is_int(ss.keys, 4, "4 keys (k1 k2 k4 k30)");
    is_int(ss.sessions, 8, "8 sessions");
    is_int(ss.readings, 7, "7 readings");
    ok(ss.txn_id > 10, "txn id %llu", (unsigned long long) ss.txn_id);
    ok(ss.readers_used >= 1, "readers used %u", ss.readers_used);
}


static int
sync_fails(evb_store_t *st)
{
    return EIO;
}


/* A flush that fails after the commit: 503 store-unavailable, but the
 * detail must not say nothing was written; a retry is a replay. */
static void
test_sync_failure(evb_store_t *st)
{
    char           err[256];
    top_t          op, ops[2], *pops[2];
    evb_start_t    s1, s2;
    evb_session_t  s;

    start_init(&s1, "SYNC1", T0 + 1000, 100);

    evb_store_sync_hook = sync_fails;
    is_int(start(st, "c1", &s1, T0 + 1000, &op), EVB_P_STORE_UNAVAILABLE,
           "sync failure: store-unavailable");
    evb_store_sync_hook = NULL;

    ok(strstr(op.detail, "may be stored") != NULL
       && strstr(op.detail, "retrying is safe") != NULL
       && strstr(op.detail, "nothing was written") == NULL,
       "sync failure: the detail says the write may be stored: %s",
       op.detail);

    is_int(evb_store_get_session(st, arena, S("c1"), S("SYNC1"), &s, NULL,
                                 NULL), EVB_OK,
           "sync failure: the committed session is there");

    is_int(start(st, "c1", &s1, T0 + 2000, &op), EVB_OK,
           "sync failure: the retry succeeds");
    ok(!op.created, "sync failure: the retry is a replay");

    /* a batch with a refused op: the refusal stays its own answer */
    start_init(&s2, "SYNC2", T0 + 3000, 100);
    op_init(&ops[0], EVB_OP_START, T0 + 3000);
    ops[0].charger_id = S("c1");
    ops[0].session_id = s2.session_id;
    ops[0].start = &s2;
    op_init(&ops[1], EVB_OP_RETIRE_CHARGER, T0 + 3000);
    ops[1].charger_id = S("no-such-charger");
    pops[0] = &ops[0];
    pops[1] = &ops[1];

    evb_store_sync_hook = sync_fails;
    is_int(top_apply(st, pops, 2, err, sizeof(err)), EVB_P_STORE_UNAVAILABLE,
           "sync failure in a batch: the batch's problem");
    evb_store_sync_hook = NULL;

    is_int(ops[0].problem, EVB_P_STORE_UNAVAILABLE,
           "sync failure in a batch: the stored op may be stored");
    is_int(ops[1].problem, EVB_P_UNKNOWN_CHARGER,
           "sync failure in a batch: the refused op keeps its refusal");
}


/*
 * A rating failure that passes the door: 100000 EUR/kWh, so 10^8 kWh
 * cost more than int64 holds at 10^-6.  The session must lose its old
 * cost (not keep it beside a cost_error), and the stop stores no CDR.
 */
static void
test_rating_failure(void)
{
    char             err[256], *dir;
    top_t         op;
    evb_stop_t       stop;
    evb_str_t        cdr;
    evb_start_t      s1;
    evb_store_t     *st;
    evb_reading_t    r;
    evb_bill_conf_t  conf;

    static const char  tariff[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"DEAR\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":100000,"
        "\"vat\":19.0,\"step_size\":1}]}]}";

    dir = make_dir();
    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        printf("Bail out! open: %s\n", err);
        exit(1);
    }

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    conf.cpo_country = S("DE");
    conf.cpo_party = S("EXA");

    is_int(put_charger(st, "r1", "DEAR", "kr1", 'r', T0, NULL), EVB_OK,
           "rating failure: charger");

    op_init(&op, EVB_OP_PUT_TARIFF, T0);
    op.tariff_id = S("DEAR");
    op.tariff_json = S(tariff);
    is_int(apply1(st, &op), EVB_OK, "rating failure: tariff");

    start_init(&s1, "R1", T0 + 1000, 1000);
    op_init(&op, EVB_OP_START, T0 + 1000);
    op.charger_id = S("r1");
    op.session_id = s1.session_id;
    op.start = &s1;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "rating failure: start");
    ok(op.session.cost.len > 0, "rating failure: the start has a cost");

    reading_init(&r, 1, T0 + 61000, 2000);
    readings_op(&op, "r1", "R1", &r, 1, T0 + 61000);
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "rating failure: reading 1");
    ok(op.session.cost.len > 0 && op.session.cost_error.len == 0,
       "rating failure: reading 1 is rated");

    reading_init(&r, 2, T0 + 121000, 100000002000LL);
    readings_op(&op, "r1", "R1", &r, 1, T0 + 121000);
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "rating failure: reading 2 is stored");
    ok(op.session.cost.len == 0, "rating failure: reading 2 clears the cost");
    ok(op.session.cost_error.len > 0, "rating failure: with a cost_error");
    ok(op.session.meter.len == 0,
       "rating failure: and the rating state (no later partial price)");

    stop_op(&op, &stop, "r1", "R1", T0 + 181000, 100000002000LL,
            T0 + 181000);
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "rating failure: the stop is stored");
    ok(op.session.state == EVB_SESSION_STOPPED && op.session.cost.len == 0
       && op.session.cost_error.len > 0,
       "rating failure: the stop has no stale cost, and a cost_error");
    is_int(evb_store_get_cdr(st, arena, S("r1"), S("R1"), &cdr),
           EVB_P_UNKNOWN_CDR, "rating failure: no CDR stored");

    evb_store_close(st);
    remove_dir(dir);
}


/* A session record whose registers break the writer's invariants is
 * corrupt, not rendered: its differences could overflow int64. */
static int
codec_session(int64_t start, int64_t last, int64_t stop, int stopped)
{
    int            rc;
    evb_buf_t      e;
    evb_session_t  s, out;

    memset(&s, 0, sizeof(s));
    s.sid = 7;
    s.charger_id = S("c1");
    s.session_id = S("S1");
    s.state = stopped ? EVB_SESSION_STOPPED : EVB_SESSION_ACTIVE;
    s.connector_id = 1;
    s.id_token = S("tok");
    s.started_at = T0;
    s.stopped_at = stopped ? T0 + 1000 : 0;
    s.meter_start_wh = start;
    s.meter_stop_wh = stop;
    s.last_energy_wh = last;
    s.last_ts = T0;

    evb_buf_init(&e);
    evb_enc_session(&e, &s);
    rc = e.oom ? EVB_DEC_NOMEM : evb_dec_session(arena, e.data, e.len, &out);
    evb_buf_free(&e);

    return rc;
}


static void
test_codec_invariants(void)
{
    is_int(codec_session(100, 200, 0, 0), EVB_DEC_OK, "codec: active ok");
    is_int(codec_session(100, 200, 300, 1), EVB_DEC_OK,
           "codec: stopped ok");
    is_int(codec_session(INT64_MIN + 1, INT64_MAX, 0, 0), EVB_DEC_CORRUPT,
           "codec: register difference overflowing int64 is corrupt");
    is_int(codec_session(-INT64_MAX, 0, INT64_MAX, 1), EVB_DEC_CORRUPT,
           "codec: stop difference overflowing int64 is corrupt");
    is_int(codec_session(100, 50, 0, 0), EVB_DEC_CORRUPT,
           "codec: last register below the start is corrupt");
    is_int(codec_session(100, 200, 150, 1), EVB_DEC_CORRUPT,
           "codec: stop register below the last reading is corrupt");
}


/* v3 appends void_reason and sweep_error; a v2 record still decodes */
static void
test_codec_v3(void)
{
    evb_buf_t      e;
    evb_session_t  s, out;

    memset(&s, 0, sizeof(s));
    s.sid = 9;
    s.charger_id = S("c1");
    s.session_id = S("V3");
    s.state = EVB_SESSION_STOPPED;
    s.id_token = S("tok");
    s.started_at = T0;
    s.stopped_at = T0;
    s.stop_reason = S("voided");
    s.void_reason = S("stuck");
    s.sweep_error = S("no CDR");

    evb_buf_init(&e);
    evb_enc_session(&e, &s);
    ok(!e.oom && (unsigned char) e.data[0] == EVB_REC_V4, "codec: v4 written");
    is_int(evb_dec_session(arena, e.data, e.len, &out), EVB_DEC_OK,
           "codec: v4 decodes");
    ok(str_is(out.void_reason, "stuck") && str_is(out.sweep_error, "no CDR"),
       "codec: v4 keeps void_reason and sweep_error");

    /* v3: without log_last and activity_at, which defaults to
     * updated_at (where schema 2 kept the activity entry) */
    s.updated_at = T0 + 5;
    evb_buf_reset(&e);
    evb_enc_session(&e, &s);
    e.data[0] = EVB_REC_V3;
    is_int(evb_dec_session(arena, e.data, e.len - 16, &out), EVB_DEC_OK,
           "codec: a v3 record decodes");
    ok(out.log_last == 0 && out.activity_at == T0 + 5,
       "codec: v3 has no log, its activity entry at updated_at");
    s.updated_at = 0;

    /* the same record as v2: without the two strings at the end */
    s.void_reason = S("");
    s.sweep_error = S("");
    evb_buf_reset(&e);
    evb_enc_session(&e, &s);
    e.data[0] = EVB_REC_V2;
    is_int(evb_dec_session(arena, e.data, e.len - 24, &out), EVB_DEC_OK,
           "codec: a v2 record decodes");
    ok(out.void_reason.len == 0 && out.sweep_error.len == 0
       && str_is(out.stop_reason, "voided"), "codec: v2 has no marks");

    test_codec_live(&e);
    is_int(evb_dec_session(arena, e.data, e.len, &out), EVB_DEC_CORRUPT,
           "codec: v2 with trailing bytes is corrupt");

    evb_buf_free(&e);
}


static void
test_corrupt(const char *dir)
{
    char            err[256];
    top_t        ops[2], *pops[2];
    evb_store_t    *st;
    evb_start_t     s;
    evb_charger_t   c;
    evb_key_t       k;

    /* a charger record that does not decode */
    is_int(raw_put(dir, "chargers", "c1", 2, "\x01\x00\x00", 3), 0,
           "raw write of a truncated charger record");

    is_int(evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)), 0,
           "reopen");
    if (st == NULL) {
        return;
    }

    is_int(evb_store_get_charger(st, arena, S("c1"), &c, NULL, NULL),
           EVB_P_STORE_UNAVAILABLE, "corrupt record: store unavailable");

    op_init(&ops[0], EVB_OP_PUT_KEY, T0);
    ops[0].charger_id = S("c1");
    ops[0].key_id = S("k77");
    make_key(&k, &ops[0].sealed, "k77", 'q');
    ops[0].key = &k;
    start_init(&s, "X1", T0 + 500000, 0);
    op_init(&ops[1], EVB_OP_START, T0);
    ops[1].charger_id = S("c4");
    ops[1].session_id = S("X1");
    ops[1].start = &s;
    pops[0] = &ops[0];
    pops[1] = &ops[1];
    is_int(top_apply(st, pops, 2, err, sizeof(err)), EVB_OK,
           "batch with a corrupt record commits");
    is_int(ops[0].problem, EVB_P_STORE_UNAVAILABLE, "that op fails");
    is_int(ops[1].problem, EVB_OK, "the other op succeeds");

    evb_store_close(st);
}


static void
test_map_full(void)
{
    int               i, j, full, stored;
    char              err[256], *ocmf;
    uint64_t          seq;
    const char       *dir;
    top_t             ops[3], *pops[3];
    evb_start_t       s;
    evb_store_t      *st;
    evb_reading_t     r[3];
    evb_session_t     ss;
    evb_store_stat_t  stat;
    evb_problem_e     p;

    dir = make_dir();

    /* small, but large enough for LMDB's own pages and our databases */
    if (evb_store_open(&st, dir, 256 * 1024, 16, err, sizeof(err)) != 0) {
        ok(0, "open small store: %s", err);
        return;
    }

    is_int(put_charger(st, "m1", "T1", NULL, 0, T0, NULL), EVB_OK,
           "charger m1");
    start_init(&s, "M1", T0, 0);
    is_int(start(st, "m1", &s, T0, NULL), EVB_OK, "start M1");

    ocmf = malloc(3000);
    if (ocmf == NULL) {
        return;
    }
    memset(ocmf, 'o', 2999);
    ocmf[2999] = '\0';

    seq = 0;
    full = 0;
    stored = 0;
    p = EVB_OK;

    for (i = 0; i < 1000 && !full; i++) {
        for (j = 0; j < 3; j++) {
            reading_init(&r[j], seq + 1 + j, T0 + 1000 * (seq + 1 + j),
                         (int64_t) (seq + 1 + j));
            r[j].ocmf = S(ocmf);
            readings_op(&ops[j], "m1", "M1", &r[j], 1, T0);
            pops[j] = &ops[j];
        }

        p = top_apply(st, pops, 3, err, sizeof(err));
        if (p != EVB_OK) {
            break;
        }

        for (j = 0; j < 3; j++) {
            if (ops[j].problem == EVB_P_STORE_FULL) {
                full = 1;

            } else if (ops[j].problem == EVB_OK) {
                stored++;
            }
        }

        seq += 3;
    }

    free(ocmf);

    is_int(p, EVB_OK, "a full store answers each op on its own");
    ok(full, "the store fills up: an op gets store-full");
    ok(strstr(ops[0].detail, "full") != NULL
       || strstr(ops[1].detail, "full") != NULL
       || strstr(ops[2].detail, "full") != NULL, "its detail says full");
    is_int(evb_store_get_session(st, arena, S("m1"), S("M1"), &ss, NULL,
                                 NULL), EVB_OK, "session readable");
    ok(stored > 0 && ss.nreadings == (uint64_t) stored,
       "every reading answered 2xx is stored (%d), no other",
       stored);

    /* a small op that fits may still go through or fail cleanly */
    p = simple_op(st, EVB_OP_RETIRE_CHARGER, "m1", NULL);
    ok(p == EVB_OK || p == EVB_P_STORE_FULL, "later op ok or full, no crash");
    is_int(evb_store_stat(st, &stat), EVB_OK, "stat after full");

    evb_store_close(st);
    remove_dir(dir);
}


/*
 * One op's MDB_MAP_FULL (someone's huge tariff) fails only that op: the
 * other ops of the same commit are stored and answered.
 */
static void
test_map_full_one_op(void)
{
    char              err[256], *big;
    size_t            n;
    const char       *dir;
    top_t             ops[3], *pops[3];
    evb_start_t       s;
    evb_store_t      *st;
    evb_session_t     ss;
    evb_store_stat_t  before, after;
    evb_str_t         json;
    evb_charger_t     c;
    evb_key_record_t *keys;

    dir = make_dir();

    if (evb_store_open(&st, dir, 256 * 1024, 16, err, sizeof(err)) != 0) {
        ok(0, "open small store: %s", err);
        return;
    }

    is_int(put_charger(st, "f1", "T1", NULL, 0, T0, NULL), EVB_OK,
           "map full, one op: charger f1");

    n = 1024 * 1024;
    big = malloc(n + 1);
    if (big == NULL) {
        return;
    }
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';

    start_init(&s, "F1", T0, 0);

    op_init(&ops[0], EVB_OP_START, T0);
    ops[0].charger_id = S("f1");
    ops[0].session_id = s.session_id;
    ops[0].start = &s;

    op_init(&ops[1], EVB_OP_PUT_TARIFF, T0);
    ops[1].tariff_id = S("HUGE");
    ops[1].tariff_json.data = big;
    ops[1].tariff_json.len = n;

    op_init(&ops[2], EVB_OP_PUT_TARIFF, T0);
    ops[2].tariff_id = S("SMALL");
    ops[2].tariff_json = S("{\"id\":\"SMALL\"}");

    pops[0] = &ops[0];
    pops[1] = &ops[1];
    pops[2] = &ops[2];

    is_int(evb_store_stat(st, &before), EVB_OK, "stat before");
    is_int(top_apply(st, pops, 3, err, sizeof(err)), EVB_OK,
           "the batch commits");
    is_int(ops[1].problem, EVB_P_STORE_FULL, "the huge tariff: store-full");
    ok(strstr(ops[1].detail, "full") != NULL, "detail: %s", ops[1].detail);
    is_int(ops[0].problem, EVB_OK, "the start of the same commit: ok");
    ok(ops[0].created, "... created");
    is_int(ops[2].problem, EVB_OK, "the small tariff of the same commit: ok");
    is_int(evb_store_stat(st, &after), EVB_OK, "stat after");
    is_int(after.txn_id, before.txn_id + 1, "one commit");

    is_int(evb_store_get_session(st, arena, S("f1"), S("F1"), &ss, NULL,
                                 NULL), EVB_OK, "the session is stored");
    is_int(evb_store_get_tariff(st, arena, S("SMALL"), 0, &json, NULL, NULL),
           EVB_OK, "the small tariff is stored");
    is_int(evb_store_get_tariff(st, arena, S("HUGE"), 0, &json, NULL, NULL),
           EVB_P_UNKNOWN_TARIFF, "the huge one is not");
    is_int(evb_store_get_charger(st, arena, S("f1"), &c, &keys, &n), EVB_OK,
           "the charger is intact");

    free(big);
    evb_store_close(st);
    remove_dir(dir);
}


static int     commit_calls;
static size_t  commit_fail_above;

static int
commit_fails(evb_store_t *st, size_t nops)
{
    commit_calls++;

    return nops > commit_fail_above ? MDB_MAP_FULL : 0;
}


/*
 * A commit that fails with no op to blame: the ops run again in smaller
 * transactions, each gets its own true answer.
 */
static void
test_commit_retry(void)
{
    int               i;
    char              err[256], name[8];
    const char       *dir;
    top_t             ops[3], *pops[3];
    evb_store_t      *st;
    evb_str_t         json;
    evb_store_stat_t  before, after;

    dir = make_dir();

    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "open: %s", err);
        return;
    }

    for (i = 0; i < 3; i++) {
        op_init(&ops[i], EVB_OP_PUT_TARIFF, T0);
        snprintf(name, sizeof(name), "RT%d", i);
        ops[i].tariff_id.data = evb_arena_strdup(arena, name, strlen(name));
        ops[i].tariff_id.len = strlen(name);
        ops[i].tariff_json = S("{\"x\":1}");
        pops[i] = &ops[i];
    }

    /* only one-op transactions commit */
    commit_calls = 0;
    commit_fail_above = 1;
    evb_store_commit_hook = commit_fails;

    is_int(evb_store_stat(st, &before), EVB_OK, "retry: stat");
    is_int(top_apply(st, pops, 3, err, sizeof(err)), EVB_OK,
           "retry: every op answered");
    ok(ops[0].problem == EVB_OK && ops[1].problem == EVB_OK
       && ops[2].problem == EVB_OK, "retry: each op stored on its own");
    is_int(commit_calls, 5, "retry: 3 ops, then halves 1 and 2, then 1 + 1");
    is_int(evb_store_stat(st, &after), EVB_OK, "retry: stat after");
    is_int(after.txn_id, before.txn_id + 3, "retry: three commits");

    for (i = 0; i < 3; i++) {
        ok(evb_store_get_tariff(st, arena, ops[i].tariff_id, 0, &json, NULL,
                                NULL) == EVB_OK, "retry: %.*s stored",
           (int) ops[i].tariff_id.len, ops[i].tariff_id.data);
    }

    /* nothing commits: each op gets store-full, nothing is stored */
    for (i = 0; i < 3; i++) {
        ops[i].tariff_json = S("{\"x\":2}");
    }

    commit_calls = 0;
    commit_fail_above = 0;

    is_int(top_apply(st, pops, 3, err, sizeof(err)), EVB_OK,
           "retry: answered though nothing commits");
    ok(ops[0].problem == EVB_P_STORE_FULL
       && ops[1].problem == EVB_P_STORE_FULL
       && ops[2].problem == EVB_P_STORE_FULL, "retry: each op store-full");
    is_int(commit_calls, 5, "retry: 3, then 1, then 2, then 1 + 1");
    is_int(evb_store_stat(st, &before), EVB_OK, "retry: stat");
    is_int(before.txn_id, after.txn_id, "retry: the store is unchanged");

    evb_store_commit_hook = NULL;

    evb_store_close(st);
    remove_dir(dir);
}


static int  cache_calls;

static int
commit_fails_first_two(evb_store_t *st, size_t nops)
{
    return ++cache_calls <= 2 ? MDB_MAP_FULL : 0;
}


/*
 * A tariff version parsed inside a write that was then undone must not
 * price a later session: the version number comes back with other JSON.
 */
static void
test_bill_cache_undone(void)
{
    char             err[256], *dir;
    top_t            ops[2], *pops[2], op;
    evb_start_t      s1, s2;
    evb_store_t     *st;
    evb_reading_t    r;
    evb_bill_conf_t  conf;

    static const char  dear[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"CT\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":777,"
        "\"vat\":0,\"step_size\":1}]}]}";
    static const char  cheap[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"CT\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":2,"
        "\"vat\":0,\"step_size\":1}]}]}";

    dir = make_dir();
    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "open: %s", err);
        return;
    }

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    conf.cpo_country = S("DE");
    conf.cpo_party = S("EXA");

    is_int(put_charger(st, "ct1", "CT", NULL, 0, T0, NULL), EVB_OK,
           "cache: charger");

    /* the batch prices S1 with "dear" v1, then its commit fails; alone,
     * the PUT fails again and S1 starts unrated */
    op_init(&ops[0], EVB_OP_PUT_TARIFF, T0);
    ops[0].tariff_id = S("CT");
    ops[0].tariff_json = S(dear);
    start_init(&s1, "CS1", T0 + 1000, 0);
    op_init(&ops[1], EVB_OP_START, T0 + 1000);
    ops[1].charger_id = S("ct1");
    ops[1].session_id = s1.session_id;
    ops[1].start = &s1;
    ops[1].bill = &conf;
    pops[0] = &ops[0];
    pops[1] = &ops[1];

    cache_calls = 0;
    evb_store_commit_hook = commit_fails_first_two;
    is_int(top_apply(st, pops, 2, err, sizeof(err)), EVB_OK,
           "cache: every op answered");
    evb_store_commit_hook = NULL;
    is_int(ops[0].problem, EVB_P_STORE_FULL, "cache: the PUT did not fit");
    is_int(ops[1].problem, EVB_OK, "cache: the start is stored");

    /* v1 is now "cheap" */
    op_init(&op, EVB_OP_PUT_TARIFF, T0 + 2000);
    op.tariff_id = S("CT");
    op.tariff_json = S(cheap);
    is_int(apply1(st, &op), EVB_OK, "cache: PUT cheap");
    is_int((int) op.tariff_version, 1, "cache: as version 1");

    start_init(&s2, "CS2", T0 + 3000, 0);
    op_init(&op, EVB_OP_START, T0 + 3000);
    op.charger_id = S("ct1");
    op.session_id = s2.session_id;
    op.start = &s2;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "cache: start CS2");

    reading_init(&r, 1, T0 + 4000, 1000);
    readings_op(&op, "ct1", "CS2", &r, 1, T0 + 4000);
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "cache: 1 kWh for CS2");
    ok(op.session.cost.len > 0
       && strstr(op.session.cost.data,
                 "\"total_cost\":{\"excl_vat\":2,") != NULL,
       "cache: priced with the stored JSON (2 EUR), not the undone one: %.*s",
       (int) (op.session.cost.len > 200 ? 200 : op.session.cost.len),
       op.session.cost.data);

    evb_store_close(st);
    remove_dir(dir);
}


/*
 * The reading log: two sessions interleave 150 readings each (seq with
 * gaps, batches of 1..5); every seq is found again (a replay is a
 * duplicate, other values a conflict, a seq in a gap a conflict), the
 * readings come back in order, and evbill-store check agrees.
 */
static void
test_reading_log(void)
{
    int             i, k, j, bad;
    char            err[256], *dir, name[8];
    top_t           op;
    size_t          n;
    evb_start_t     s;
    evb_store_t    *st;
    evb_reading_t   r[2][150], one, *got;
    evb_session_t   ss;

    dir = make_dir();
    if (evb_store_open(&st, dir, 16 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "log: open: %s", err);
        return;
    }

    is_int(put_charger(st, "L1", NULL, NULL, 0, T0, NULL), EVB_OK,
           "log: charger");

    for (k = 0; k < 2; k++) {
        snprintf(name, sizeof(name), "LOG%d", k);
        start_init(&s, name, T0, 100);
        s.tariff_id = S("NONE");
        is_int(start(st, "L1", &s, T0, NULL), EVB_OK, "log: start %s", name);

        for (i = 0; i < 150; i++) {
            reading_init(&r[k][i], (uint64_t) (2 * i + 1 + k),
                         T0 + 1000 * (i + 1), 100 + 10 * i);
        }
    }

    /* interleaved batches: the sessions' readings share the log */
    bad = 0;
    for (i = 0, j = 1; i < 150; i += j, j = j % 5 + 1) {
        for (k = 0; k < 2; k++) {
            readings_op(&op, "L1", k ? "LOG1" : "LOG0", &r[k][i],
                        (size_t) (i + j <= 150 ? j : 150 - i),
                        T0 + 1000 * (i + 1));
            bad += apply1(st, &op) != EVB_OK;
        }
    }
    is_int(bad, 0, "log: 300 readings of two sessions, interleaved");

    for (k = 0; k < 2; k++) {
        bad = 0;
        for (i = 0; i < 150; i++) {
            /* every seq again: found, a duplicate */
            readings_op(&op, "L1", k ? "LOG1" : "LOG0", &r[k][i], 1,
                        T0 + 500000);
            bad += apply1(st, &op) != EVB_OK || op.duplicates != 1;
        }
        is_int(bad, 0, "log: session %d: each of its 150 seqs replayed is a "
               "duplicate", k);

        one = r[k][77];
        one.energy_wh += 1;
        readings_op(&op, "L1", k ? "LOG1" : "LOG0", &one, 1, T0 + 500000);
        is_int(apply1(st, &op), EVB_P_SEQ_CONFLICT,
               "log: session %d: seq %llu with other values: conflict", k,
               (unsigned long long) one.seq);

        /* a seq the session never had (the other's) */
        one = r[!k][40];
        readings_op(&op, "L1", k ? "LOG1" : "LOG0", &one, 1, T0 + 500000);
        is_int(apply1(st, &op), EVB_P_SEQ_CONFLICT,
               "log: session %d: a seq in a gap: conflict", k);

        is_int(evb_store_get_session(st, arena, S("L1"),
                                     S(k ? "LOG1" : "LOG0"), &ss, &got, &n),
               EVB_OK, "log: session %d: get with readings", k);
        bad = (n != 150);
        for (i = 0; !bad && i < 150; i++) {
            bad = !evb_reading_equal(&got[i], &r[k][i]);
        }
        ok(!bad, "log: session %d: its 150 readings, in order, as sent", k);
    }

    evb_store_close(st);

    is_int(evb_store_verify(dir, NULL, NULL, err, sizeof(err)), 0,
           "log: evbill-store check finds nothing");

    remove_dir(dir);
}


/*
 * The idle sweep: a session it cannot close is marked and skipped, the
 * others close; a void closes the stuck one without a CDR.
 */
static void
test_sweep_failure_and_void(void)
{
    char             err[256], *dir;
    top_t            op;
    evb_str_t        cdr;
    evb_start_t      s1, s2;
    evb_store_t     *st;
    evb_reading_t    r;
    evb_session_t    ss;
    evb_bill_conf_t  conf;
    unsigned char    k[16];
    uint64_t         txn;
    evb_store_stat_t stat;

    static const char  tariff[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"SW\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":100000,"
        "\"vat\":19.0,\"step_size\":1}]}]}";

    dir = make_dir();
    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "open: %s", err);
        return;
    }

    memset(&conf, 0, sizeof(conf));
    conf.policy.rounding = EVB_ROUND_HALF_UP;
    conf.cpo_country = S("DE");
    conf.cpo_party = S("EXA");

    is_int(put_charger(st, "w1", "SW", NULL, 0, T0, NULL), EVB_OK,
           "sweep failure: charger");

    op_init(&op, EVB_OP_PUT_TARIFF, T0);
    op.tariff_id = S("SW");
    op.tariff_json = S(tariff);
    is_int(apply1(st, &op), EVB_OK, "sweep failure: tariff");

    start_init(&s1, "BAD", T0 + 1000, 1000);
    op_init(&op, EVB_OP_START, T0 + 1000);
    op.charger_id = S("w1");
    op.session_id = s1.session_id;
    op.start = &s1;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "sweep failure: start BAD");

    start_init(&s2, "GOOD", T0 + 1000, 1000);
    op_init(&op, EVB_OP_START, T0 + 1000);
    op.charger_id = S("w1");
    op.session_id = s2.session_id;
    op.start = &s2;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "sweep failure: start GOOD");

    reading_init(&r, 1, T0 + 1500, 1200);
    readings_op(&op, "w1", "BAD", &r, 1, T0 + 1500);
    is_int(apply1(st, &op), EVB_OK, "sweep failure: BAD's reading 1");

    evb_store_close(st);

    /*
     * BAD (sid 1): a stored period too many, so its rating state is not
     * complete and its stop rates it from its readings; and its reading
     * (the log's first entry) does not decode: closing it fails.
     */
    evb_put_be64(k, 1);
    evb_put_be32(k + 8, 0);
    is_int(raw_put(dir, "periods", k, 12, "\x01", 1), 0,
           "sweep failure: a period BAD's state does not count");
    evb_put_be64(k, 1);
    is_int(raw_put(dir, "reading_log", k, 8, "\x01\x02", 2), 0,
           "sweep failure: damage BAD's reading");

    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "reopen: %s", err);
        return;
    }

    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 1000000);
    op.idle_timeout = 60000;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "sweep failure: the sweep succeeds");
    ok(op.swept == 1 && op.failed == 1, "one closed, one failed (%llu, %llu)",
       (unsigned long long) op.swept, (unsigned long long) op.failed);

    is_int(evb_store_get_session(st, arena, S("w1"), S("GOOD"), &ss, NULL,
                                 NULL), EVB_OK, "GOOD readable");
    ok(ss.state == EVB_SESSION_STOPPED && str_is(ss.stop_reason, "timeout"),
       "GOOD closed by the sweep");

    is_int(evb_store_get_session(st, arena, S("w1"), S("BAD"), &ss, NULL,
                                 NULL), EVB_OK, "BAD readable");
    ok(ss.state == EVB_SESSION_ACTIVE, "BAD still active");
    ok(ss.sweep_error.len > 0, "BAD marked: %.*s", (int) ss.sweep_error.len,
       ss.sweep_error.data);

    /* the next sweep skips it: nothing written */
    is_int(evb_store_stat(st, &stat), EVB_OK, "stat");
    txn = stat.txn_id;
    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 2000000);
    op.idle_timeout = 60000;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "second sweep");
    ok(op.swept == 0 && op.failed == 0, "BAD skipped, not retried");
    is_int(op.examined, 0, "the mark took BAD out of the activity index: "
           "not read again");
    is_int(evb_store_stat(st, &stat), EVB_OK, "stat");
    is_int(stat.txn_id, txn, "the second sweep wrote nothing");

    /* a new reading clears the mark */
    reading_init(&r, 2, T0 + 2000, 1500);
    readings_op(&op, "w1", "BAD", &r, 1, T0 + 2000);
    is_int(apply1(st, &op), EVB_OK, "a reading for BAD");
    is_int(evb_store_get_session(st, arena, S("w1"), S("BAD"), &ss, NULL,
                                 NULL), EVB_OK, "BAD readable");
    is_int((int) ss.sweep_error.len, 0, "the reading cleared the mark");

    /* void: closes without a price or a CDR */
    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("BAD");
    op.reason = S("");
    is_int(apply1(st, &op), EVB_P_INVALID_VALUE, "void: empty reason");

    /* the op refuses card data itself, whoever builds it (issue 11) */
    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("BAD");
    op.reason = S("paid with 4111 1111 1111 1111");
    is_int(apply1(st, &op), EVB_P_CARD_DATA, "void: a card number in the "
           "reason");
    ok(strstr(op.detail, "4111") == NULL && strstr(op.detail, "card") != NULL,
       "void: the detail does not repeat it: %s", op.detail);

    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("NOPE");
    op.reason = S("stuck");
    is_int(apply1(st, &op), EVB_P_UNKNOWN_SESSION, "void: unknown session");

    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("BAD");
    op.reason = S("meter replaced, readings lost");
    is_int(apply1(st, &op), EVB_OK, "void BAD");
    ok(op.session.state == EVB_SESSION_STOPPED
       && str_is(op.session.stop_reason, "voided")
       && str_is(op.session.void_reason, "meter replaced, readings lost"),
       "void: stopped, reason voided, void_reason kept");
    ok(op.session.cost.len == 0 && op.session.stopped_at == T0 + 2000
       && op.session.meter_stop_wh == 1500,
       "void: no price, closed at the last reading");
    is_int(evb_store_get_cdr(st, arena, S("w1"), S("BAD"), &cdr),
           EVB_P_UNKNOWN_CDR, "void: no CDR");

    is_int(evb_store_stat(st, &stat), EVB_OK, "stat");
    txn = stat.txn_id;
    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("BAD");
    op.reason = S("again");
    is_int(apply1(st, &op), EVB_P_SESSION_STOPPED, "void twice: conflict");
    op_init(&op, EVB_OP_VOID, T0 + 3000000);
    op.charger_id = S("w1");
    op.session_id = S("GOOD");
    op.reason = S("late");
    is_int(apply1(st, &op), EVB_P_SESSION_STOPPED, "void a stopped one");
    is_int(evb_store_stat(st, &stat), EVB_OK, "stat");
    is_int(stat.txn_id, txn, "refused voids wrote nothing");

    op_init(&op, EVB_OP_SWEEP_IDLE, T0 + 9000000);
    op.idle_timeout = 60000;
    op.bill = &conf;
    is_int(apply1(st, &op), EVB_OK, "a sweep after the void");
    ok(op.swept == 0 && op.failed == 0, "nothing left to sweep");
    is_int(op.examined, 0, "the void took it out of the activity index");

    evb_store_close(st);
    remove_dir(dir);
}


/* several processes create one new store at once, as nginx workers do */
static void
test_concurrent_open(void)
{
    int                i, status, good;
    char               err[256];
    pid_t              pids[4];
    const char        *dir;
    evb_store_t       *st;
    evb_store_stat_t   ss;

    dir = make_dir();
    fflush(stdout);

    for (i = 0; i < 4; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            if (evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err))
                != 0)
            {
                _exit(1);
            }
            status = put_charger(st, "p1", "T1", NULL, 0, T0, NULL);
            evb_store_close(st);
            _exit(status == EVB_OK ? 0 : 2);
        }
    }

    good = 0;
    for (i = 0; i < 4; i++) {
        if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i]
            && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        {
            good++;
        }
    }

    is_int(good, 4, "four processes opened a new store at once");

    if (evb_store_open(&st, dir, 1 << 20, 16, err, sizeof(err)) == 0) {
        is_int(evb_store_stat(st, &ss), EVB_OK, "stat");
        ok(ss.schema_version == EVB_SCHEMA_VERSION && ss.chargers == 1,
           "one schema version, one charger");
        evb_store_close(st);

    } else {
        ok(0, "open after the race: %s", err);
    }

    remove_dir(dir);
}


/* another process grows the map beyond ours: MDB_MAP_RESIZED is handled */
static void
test_map_resized(void)
{
    int                status;
    char               err[256], *ocmf;
    pid_t              pid;
    size_t             n, i;
    uint64_t           seq;
    const char        *dir;
    top_t           op;
    evb_start_t        s;
    evb_store_t       *st, *big;
    evb_reading_t      r, *rs;
    evb_session_t      ss;
    evb_store_stat_t   stat;

    dir = make_dir();

    if (evb_store_open(&st, dir, 256 * 1024, 16, err, sizeof(err)) != 0) {
        ok(0, "open: %s", err);
        return;
    }

    is_int(put_charger(st, "g1", "T1", NULL, 0, T0, NULL), EVB_OK,
           "charger g1");
    start_init(&s, "G1", T0, 0);
    is_int(start(st, "g1", &s, T0, NULL), EVB_OK, "start G1");
    is_int(evb_store_get_session(st, arena, S("g1"), S("G1"), &ss, NULL,
                                 NULL), EVB_OK, "read before growth");

    fflush(stdout);
    pid = fork();

    if (pid == 0) {
        /* the child never touches the parent's environment */
        if (evb_store_open(&big, dir, 4 << 20, 16, err, sizeof(err)) != 0) {
            _exit(1);
        }

        ocmf = malloc(3001);
        if (ocmf == NULL) {
            _exit(2);
        }
        memset(ocmf, 'g', 3000);
        ocmf[3000] = '\0';

        for (seq = 1; seq <= 200; seq++) {
            reading_init(&r, seq, T0 + (evb_msec_t) seq, (int64_t) seq);
            r.ocmf = S(ocmf);
            readings_op(&op, "g1", "G1", &r, 1, T0);
            if (top_apply(big, (top_t *[]) { &op }, 1, err,
                                sizeof(err)) != EVB_OK
                || op.problem != EVB_OK)
            {
                printf("# child: seq %llu: %s / %d %s\n",
                       (unsigned long long) seq, err, (int) op.problem,
                       op.detail);
                fflush(stdout);
                _exit(3);
            }
        }

        evb_store_close(big);
        _exit(0);
    }

    ok(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status)
       && WEXITSTATUS(status) == 0, "another process wrote past our map");

    is_int(evb_store_get_session(st, arena, S("g1"), S("G1"), &ss, &rs, &n),
           EVB_OK, "read after growth");
    is_int(n, 200, "all readings of the other process seen");
    for (i = 0; i < n && rs[i].seq == i + 1 && rs[i].ocmf.len == 3000; i++) {
        /* void */
    }
    is_int(i, 200, "readings intact");

    reading_init(&r, 201, T0 + 201, 201);
    readings_op(&op, "g1", "G1", &r, 1, T0);
    is_int(apply1(st, &op), EVB_OK, "write after growth");
    is_int(evb_store_stat(st, &stat), EVB_OK, "stat");
    ok(stat.map_size >= (4 << 20), "map size adopted: %llu",
       (unsigned long long) stat.map_size);

    evb_store_close(st);
    remove_dir(dir);
}


/*
 * Bounds (issue 6): new timestamps within [now - max_age, now +
 * max_ahead], replays of stored data whatever their age, the span of a
 * session within the bill policy's max_duration.
 */

#define DAY  86400000LL
#define NOW  (T0 + 400 * DAY)

static evb_bill_conf_t  bounds_bill;


static void
bounded(top_t *op)
{
    op->check_time = 1;
    op->max_age = 365 * DAY;
    op->max_ahead = 300000;
    op->bill = &bounds_bill;
}


static evb_problem_e
bstart(evb_store_t *st, evb_start_t *s, evb_msec_t now, int *created)
{
    top_t       op;
    evb_problem_e  p;

    op_init(&op, EVB_OP_START, now);
    bounded(&op);
    op.charger_id = S("b1");
    op.session_id = s->session_id;
    op.start = s;

    p = apply1(st, &op);
    if (created) {
        *created = op.created;
    }

    return p;
}


static evb_problem_e
breadings(evb_store_t *st, const char *sid, evb_reading_t *r, size_t n,
    evb_msec_t now, top_t *out)
{
    top_t  op;

    readings_op(&op, "b1", sid, r, n, now);
    bounded(&op);

    op.problem = apply1(st, &op);
    if (out) {
        *out = op;
    }

    return op.problem;
}


static evb_problem_e
bstop(evb_store_t *st, const char *sid, evb_msec_t ts, int64_t wh,
    evb_msec_t now)
{
    top_t    op;
    evb_stop_t  stop;

    stop_op(&op, &stop, "b1", sid, ts, wh, now);
    bounded(&op);

    return apply1(st, &op);
}


static void
test_bounds(void)
{
    int            created;
    char           err[256];
    const char    *dir;
    top_t       op, ops[2], *pops[2];
    evb_start_t    s;
    evb_store_t   *st;
    evb_reading_t  r[2];
    evb_session_t  ss;

    memset(&bounds_bill, 0, sizeof(bounds_bill));
    bounds_bill.policy.rounding = EVB_ROUND_HALF_UP;
    bounds_bill.policy.max_duration = 3600000;
    bounds_bill.policy.max_periods = 5;

    dir = make_dir();

    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "open bounds store: %s", err);
        return;
    }

    /* tariff TB is never defined: sessions are stored, not rated */
    is_int(put_charger(st, "b1", "TB", NULL, 0, NOW, NULL), EVB_OK,
           "bounds: charger b1");

    start_init(&s, "B0", NOW - 365 * DAY - 1, 0);
    is_int(bstart(st, &s, NOW, NULL), EVB_P_TOO_OLD,
           "start 365 days + 1 ms old: too-old");
    start_init(&s, "B0", NOW + 300001, 0);
    is_int(bstart(st, &s, NOW, NULL), EVB_P_IN_THE_FUTURE,
           "start 300 s + 1 ms ahead: in-the-future");
    is_int(evb_store_get_session(st, arena, S("b1"), S("B0"), &ss, NULL,
                                 NULL), EVB_P_UNKNOWN_SESSION,
           "refused starts stored nothing");
    start_init(&s, "B0", NOW + 300000, 0);
    is_int(bstart(st, &s, NOW, NULL), EVB_OK, "start 300 s ahead: accepted");

    /* a session at the oldest instant allowed, replayed 10 days later */
    start_init(&s, "B1", NOW - 365 * DAY, 0);
    is_int(bstart(st, &s, NOW, &created), EVB_OK,
           "start exactly 365 days old: accepted");
    reading_init(&r[0], 1, NOW - 365 * DAY + 1000, 100);
    is_int(breadings(st, "B1", r, 1, NOW, NULL), EVB_OK, "its reading");

    is_int(bstart(st, &s, NOW + 10 * DAY, &created), EVB_OK,
           "the start replayed when too old: 200");
    ok(!created, "... not created again");
    is_int(breadings(st, "B1", r, 1, NOW + 10 * DAY, &op), EVB_OK,
           "the reading replayed when too old: accepted");
    ok(op.duplicates == 1 && op.accepted == 0, "... as a duplicate");
    reading_init(&r[1], 2, NOW - 365 * DAY + 2000, 200);
    is_int(breadings(st, "B1", r, 2, NOW + 10 * DAY, NULL), EVB_P_TOO_OLD,
           "a batch of the duplicate and a new reading as old: too-old");
    is_int(bstop(st, "B1", NOW - 365 * DAY + 2000, 200, NOW + 10 * DAY),
           EVB_P_TOO_OLD, "a stop as old: too-old");
    is_int(evb_store_get_session(st, arena, S("b1"), S("B1"), &ss, NULL,
                                 NULL), EVB_OK, "B1");
    ok(ss.state == EVB_SESSION_ACTIVE && ss.last_seq == 1,
       "B1: still active at seq 1");
    is_int(bstop(st, "B1", NOW - 365 * DAY + 2000, 200, NOW), EVB_OK,
           "the stop when it was recent");
    is_int(bstop(st, "B1", NOW - 365 * DAY + 2000, 200, NOW + 10 * DAY),
           EVB_OK, "that stop replayed when too old: 200");

    /* a batch with one reading ahead is refused whole */
    start_init(&s, "B2", NOW - 60000, 0);
    is_int(bstart(st, &s, NOW, NULL), EVB_OK, "start B2");
    reading_init(&r[0], 1, NOW - 30000, 100);
    reading_init(&r[1], 2, NOW + 400000, 200);
    is_int(breadings(st, "B2", r, 2, NOW, NULL), EVB_P_IN_THE_FUTURE,
           "a batch with a reading 400 s ahead: in-the-future");
    is_int(bstop(st, "B2", NOW + 400000, 200, NOW), EVB_P_IN_THE_FUTURE,
           "a stop 400 s ahead: in-the-future");
    is_int(evb_store_get_session(st, arena, S("b1"), S("B2"), &ss, NULL,
                                 NULL), EVB_OK, "B2");
    ok(ss.state == EVB_SESSION_ACTIVE && ss.last_seq == 0,
       "B2: the batch stored nothing");

    /* the span: max_duration 1 h, even unrated */
    start_init(&s, "B3", NOW - 2 * 3600000, 0);
    is_int(bstart(st, &s, NOW, NULL), EVB_OK, "start B3 two hours ago");
    reading_init(&r[0], 1, NOW - 3600000, 100);
    is_int(breadings(st, "B3", r, 1, NOW, NULL), EVB_OK,
           "a reading 1 h after the start");
    reading_init(&r[0], 2, NOW - 3600000 + 1, 110);
    is_int(breadings(st, "B3", r, 1, NOW, NULL), EVB_P_SESSION_LIMIT,
           "a reading 1 h + 1 ms after the start: session-limit");
    is_int(bstop(st, "B3", NOW - 3600000 + 1, 110, NOW), EVB_P_SESSION_LIMIT,
           "a stop 1 h + 1 ms after the start: session-limit");
    is_int(evb_store_get_session(st, arena, S("b1"), S("B3"), &ss, NULL,
                                 NULL), EVB_OK, "B3");
    ok(ss.state == EVB_SESSION_ACTIVE && ss.last_seq == 1,
       "B3: nothing of the refused ones stored");
    is_int(bstop(st, "B3", NOW - 3600000, 110, NOW), EVB_OK,
           "the stop at the bound");

    /* one batch: the refused op leaves the other one alone */
    start_init(&s, "B4", NOW, 0);
    reading_init(&r[0], 1, NOW + 400000, 100);
    op_init(&ops[0], EVB_OP_START, NOW);
    bounded(&ops[0]);
    ops[0].charger_id = S("b1");
    ops[0].session_id = s.session_id;
    ops[0].start = &s;
    readings_op(&ops[1], "b1", "B2", r, 1, NOW);
    bounded(&ops[1]);
    pops[0] = &ops[1];
    pops[1] = &ops[0];
    is_int(top_apply(st, pops, 2, err, sizeof(err)), EVB_OK,
           "a batch of a refused reading and a start commits");
    ok(ops[1].problem == EVB_P_IN_THE_FUTURE && ops[0].problem == EVB_OK
       && ops[0].created, "... the reading refused, the start created");

    evb_store_close(st);
    remove_dir(dir);
}


/*
 * The idle sweep at scale: with many open sessions and a few idle ones,
 * a sweep reads only the idle ones (through the activity index), and
 * closes at most EVB_SWEEP_CHUNK per op; more chunks follow from
 * "after" until none is left.  Then the upgrade from schema 1 rebuilds
 * the index of a store that has none.
 */
#define SCALE_OPEN   5000
#define SCALE_IDLE   5

static void
test_sweep_scale(void)
{
    char            err[256], *dir, (*names)[16];
    size_t          i, j, n;
    top_t          *ops, **pops, op;
    evb_start_t    *starts;
    evb_store_t    *st;
    evb_msec_t      t1;
    unsigned        version;
    unsigned long   reads;
    uint64_t        swept, chunks, most;
    unsigned char   v[4] = { 0, 0, 0, 1 };

    static const char  tariff[] =
        "{\"country_code\":\"DE\",\"party_id\":\"EXA\",\"id\":\"SC\","
        "\"currency\":\"EUR\",\"type\":\"REGULAR\","
        "\"last_updated\":\"2026-01-01T00:00:00Z\",\"elements\":["
        "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":100000,"
        "\"vat\":19.0,\"step_size\":1}]}]}";

    dir = make_dir();
    if (evb_store_open(&st, dir, 256 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "scale: open: %s", err);
        return;
    }

    ops = calloc(SCALE_OPEN, sizeof(top_t));
    pops = calloc(SCALE_OPEN, sizeof(top_t *));
    starts = calloc(SCALE_OPEN, sizeof(evb_start_t));
    names = calloc(SCALE_OPEN, sizeof(*names));
    if (ops == NULL || pops == NULL || starts == NULL || names == NULL) {
        ok(0, "scale: memory");
        return;
    }

    op_init(&op, EVB_OP_PUT_TARIFF, T0);
    op.tariff_id = S("SC");
    op.tariff_json = S(tariff);
    is_int(apply1(st, &op), EVB_OK, "scale: tariff");
    is_int(put_charger(st, "scale", "SC", NULL, 0, T0, NULL), EVB_OK,
           "scale: charger");

    /* SCALE_IDLE sessions start at T0, the others an hour later */
    t1 = T0 + 3600000;

    for (i = 0; i < SCALE_OPEN; i++) {
        snprintf(names[i], sizeof(names[i]), "S%zu", i);
        start_init(&starts[i], names[i], i < SCALE_IDLE ? T0 : t1, 100);
        op_init(&ops[i], EVB_OP_START, i < SCALE_IDLE ? T0 : t1);
        ops[i].charger_id = S("scale");
        ops[i].session_id = starts[i].session_id;
        ops[i].start = &starts[i];
        pops[i] = &ops[i];
    }

    /* the idle ones first (their own batch: another now) */
    ok(top_apply(st, pops, SCALE_IDLE, err, sizeof(err)) == EVB_OK
       && ops[0].problem == EVB_OK, "scale: %d idle sessions", SCALE_IDLE);

    for (i = SCALE_IDLE; i < SCALE_OPEN; i += n) {
        n = SCALE_OPEN - i < 500 ? SCALE_OPEN - i : 500;
        if (top_apply(st, pops + i, n, err, sizeof(err)) != EVB_OK) {
            break;
        }
        for (j = i; j < i + n && ops[j].problem == EVB_OK; j++) { }
        if (j != i + n) {
            break;
        }
    }
    is_int(i, SCALE_OPEN, "scale: %d open sessions", SCALE_OPEN);

    /* 30 minutes after t1: only the SCALE_IDLE are an hour old */
    reads = evb_store_session_reads;
    op_init(&op, EVB_OP_SWEEP_IDLE, t1 + 1800000);
    op.idle_timeout = 3600000;
    is_int(apply1(st, &op), EVB_OK, "scale: sweep");
    is_int(op.swept, SCALE_IDLE, "scale: the idle ones closed");
    is_int(op.examined, SCALE_IDLE, "scale: only they were read from the "
           "index");
    is_int(evb_store_session_reads - reads, SCALE_IDLE,
           "scale: only their records were read");
    ok(!op.more, "scale: no more chunks");

    /* nothing idle: nothing read */
    reads = evb_store_session_reads;
    op_init(&op, EVB_OP_SWEEP_IDLE, t1 + 1800000);
    op.idle_timeout = 3600000;
    is_int(apply1(st, &op), EVB_OK, "scale: sweep again");
    ok(op.swept == 0 && op.examined == 0
       && evb_store_session_reads == reads, "scale: nothing read");

    /* all of them idle: chunks of at most EVB_SWEEP_CHUNK */
    swept = 0;
    chunks = 0;
    most = 0;
    memset(&op, 0, sizeof(op));

    do {
        evb_activity_t  after = op.after;
        unsigned        has_after = op.has_after;

        reads = evb_store_session_reads;
        op_init(&op, EVB_OP_SWEEP_IDLE, t1 + 7200000);
        op.idle_timeout = 3600000;
        op.after = after;
        op.has_after = has_after;
        if (apply1(st, &op) != EVB_OK) {
            break;
        }
        swept += op.swept;
        chunks++;
        if (evb_store_session_reads - reads > most) {
            most = evb_store_session_reads - reads;
        }
    } while (op.more && chunks < 1000);

    is_int(swept, SCALE_OPEN - SCALE_IDLE, "scale: all the others closed");
    is_int(chunks, (SCALE_OPEN - SCALE_IDLE + EVB_SWEEP_CHUNK - 1)
                   / EVB_SWEEP_CHUNK, "scale: in chunks of %d",
           EVB_SWEEP_CHUNK);
    is_int(most, EVB_SWEEP_CHUNK, "scale: no chunk read more than %d",
           EVB_SWEEP_CHUNK);

    is_int(evb_store_verify(dir, NULL, NULL, err, sizeof(err)), 0,
           "scale: verify finds the index consistent");

    /* a schema-1 store: no activity index.  Keep a few open sessions,
     * then take the index away and the version back */
    for (i = 0; i < 3; i++) {
        snprintf(names[i], sizeof(names[i]), "U%zu", i);
        start_init(&starts[i], names[i], t1, 100);
        is_int(start(st, "scale", &starts[i], t1, NULL), EVB_OK,
               "upgrade: open session %zu", i);
    }
    evb_store_close(st);

    is_int(raw_drop(dir, "activity"), 0, "upgrade: drop the index");
    is_int(raw_put(dir, "meta", "schema_version", 14, v, 4), 0,
           "upgrade: back to schema 1");
    is_int(evb_store_version(dir, &version, err, sizeof(err)), 0,
           "upgrade: version read");
    is_int(version, 1, "upgrade: schema 1");

    is_int(evb_store_upgrade(dir, NULL, NULL, err, sizeof(err)), 0,
           "upgrade: done");
    is_int(evb_store_version(dir, &version, err, sizeof(err)), 0,
           "upgrade: version read again");
    is_int(version, EVB_SCHEMA_VERSION, "upgrade: at this build's schema");
    is_int(evb_store_verify(dir, NULL, NULL, err, sizeof(err)), 0,
           "upgrade: consistent");
    is_int(evb_store_upgrade(dir, NULL, NULL, err, sizeof(err)), 0,
           "upgrade: again is a no-op");

    if (evb_store_open(&st, dir, 256 << 20, 16, err, sizeof(err)) != 0) {
        ok(0, "upgrade: open: %s", err);

    } else {
        op_init(&op, EVB_OP_SWEEP_IDLE, t1 + 7200000);
        op.idle_timeout = 3600000;
        is_int(apply1(st, &op), EVB_OK, "upgrade: sweep");
        ok(op.swept == 3 && op.examined == 3,
           "upgrade: the index from the step finds the open sessions");

        /* in use: upgrade refuses (this process holds it open) --
         * fcntl locks of one's own process do not conflict, so that
         * case is tested through nginx (t/67-upgrade.t) */
        evb_store_close(st);
    }

    /* a newer store is refused */
    v[3] = EVB_SCHEMA_VERSION + 1;
    is_int(raw_put(dir, "meta", "schema_version", 14, v, 4), 0,
           "upgrade: a newer schema");
    is_int(evb_store_upgrade(dir, NULL, NULL, err, sizeof(err)), -3,
           "upgrade: refuses a newer schema");

    free(ops);
    free(pops);
    free(starts);
    free(names);
    remove_dir(dir);
}


int
main(void)
{
    int           i;
    char          err[256];
    const char   *dir;
    evb_store_t  *st;
    evb_session_t s;

    for (i = 0; i < EVB_MASTER_KEY_LEN; i++) {
        mkey[i] = (unsigned char) (i * 7 + 1);
    }

    arena = evb_arena_create(16384);
    if (arena == NULL) {
        printf("Bail out! arena\n");
        return 1;
    }

    test_open();

    dir = make_dir();
    if (evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)) != 0) {
        printf("Bail out! open: %s\n", err);
        return 1;
    }

    test_chargers_keys(st);
    test_sessions(st);
    test_sweep(st);
    test_list(st);
    test_stat(st);
    evb_store_close(st);

    is_int(evb_store_open(&st, dir, 8 << 20, 16, err, sizeof(err)), 0,
           "reopen after close");
    if (st) {
        is_int(evb_store_get_session(st, arena, S("c1"), S("S1"), &s, NULL,
                                     NULL), EVB_OK, "S1 survives reopen");
        ok(s.state == EVB_SESSION_STOPPED && s.last_seq == 10,
           "with its state");
        test_stat(st);
        test_sync_failure(st);
        evb_store_close(st);
    }

    test_corrupt(dir);
    remove_dir(dir);

    test_bounds();
    test_codec_invariants();
    test_codec_v3();
    test_rating_failure();

    test_map_full();
    test_map_full_one_op();
    test_commit_retry();
    test_sweep_failure_and_void();
    test_reading_log();
    test_sweep_scale();
    test_bill_cache_undone();
    test_concurrent_open();
    test_map_resized();

    evb_arena_destroy(arena);

    tap_plan(tap_n);

    return tap_done();
}
