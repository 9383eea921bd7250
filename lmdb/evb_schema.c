/*
 * Offline maintenance of a store, with nginx stopped: the schema steps
 * (evbill-store upgrade) and the consistency check (evbill-store check).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "evb_store.h"
#include "evb_codec.h"
#include "evb_store_int.h"


/*
 * Offline maintenance: the schema steps, upgrade and verify.
 *
 * A step migrates a store from version N to N + 1 inside one write
 * transaction, which also writes N + 1 as the schema version: a step is
 * done or not at all, and an interrupted upgrade resumes at the step
 * that did not commit.  To add a schema: raise EVB_SCHEMA_VERSION, add
 * the step at the end of evb_steps (docs/architecture.md).
 */

typedef struct {
    MDB_env            *env;
    int                 lfd;            /* lock.mdb, to see other users */
} evb_offline_t;

typedef int (*evb_step_pt)(MDB_txn *txn, unsigned long *items);

typedef struct {
    const char         *what;
    evb_step_pt         run;
} evb_step_t;


/* 1 -> 2: the activity index, from the active sessions */
static int
evb_step_activity(MDB_txn *txn, unsigned long *items)
{
    int            rc, has_live;
    MDB_dbi        active, sessions, activity, live;
    MDB_val        k, v;
    MDB_cursor    *cur;
    evb_arena_t   *a;
    evb_session_t  s;
    unsigned char  ak[16];

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_ACTIVE], MDB_CREATE, &active);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSIONS], MDB_CREATE,
                          &sessions);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_ACTIVITY], MDB_CREATE,
                          &activity);
    }
    /* run again on a later layout (a forged version): its live
     * records hold the times */
    has_live = 0;
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_LIVE], 0, &live);
        has_live = (rc == 0);
        rc = (rc == MDB_NOTFOUND) ? 0 : rc;
    }
    if (rc == 0) {
        rc = mdb_cursor_open(txn, active, &cur);
    }
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 8) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        rc = mdb_get(txn, sessions, &k, &v);
        if (rc != 0) {
            rc = (rc == MDB_NOTFOUND) ? EVB_RC_CORRUPT : rc;
            break;
        }

        /* an arena per session: the step's memory is one session's */
        a = evb_arena_create(4096);
        if (a == NULL) {
            rc = ENOMEM;
            break;
        }

        rc = evb_dec_rc(evb_dec_session(a, v.mv_data, v.mv_size, &s));

        if (rc == 0 && has_live) {
            rc = evb_live_apply(txn, live, a, &s);
        }

        if (rc == 0 && s.state == EVB_SESSION_ACTIVE
            && s.sweep_error.len == 0)
        {
            evb_put_be64(ak, evb_time_key(s.activity_at));
            evb_put_be64(ak + 8, s.sid);
            rc = evb_put(txn, activity, ak, 16, "", 0);
            (*items)++;
        }

        evb_arena_destroy(a);

        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


/*
 * 2 -> 3: who is billed: customers, tokens and the sessions' start
 * records, all new and empty.  Sessions stored before have no start
 * record: their CDRs keep using the charger record at stop.
 */
static int
evb_step_parties(MDB_txn *txn, unsigned long *items)
{
    int      i, rc;
    MDB_dbi  dbi;

    static const int  dbs[] = {
        EVB_DB_CUSTOMERS, EVB_DB_TOKENS, EVB_DB_SESSION_STARTS
    };

    for (i = 0; i < 3; i++) {
        rc = mdb_dbi_open(txn, evb_db_names[dbs[i]], MDB_CREATE, &dbi);
        if (rc != 0) {
            return rc;
        }

        (*items)++;
    }

    return 0;
}


/* 3 -> 4: the databases of invoices and credit notes, empty: sessions
 * stopped before the upgrade keep their CDR and get no invoice */
static int
evb_step_invoices(MDB_txn *txn, unsigned long *items)
{
    int      i, rc;
    MDB_dbi  dbi;

    for (i = EVB_DB_INV_COUNTERS; i <= EVB_DB_CREDIT_CDRS; i++) {
        rc = mdb_dbi_open(txn, evb_db_names[i], MDB_CREATE, &dbi);
        if (rc != 0) {
            return rc;
        }

        (*items)++;
    }

    return 0;
}


/*
 * 4 -> 5: the ingest layout.  Every reading moves from readings (sid ||
 * seq keys) into the reading log, session by session in sid order (so
 * the log is appended), chained and sparsely indexed; each session is
 * stored again as a v4 record, an open one split into its cold and live
 * records; readings is dropped.  No closed period is known for an open
 * session: its stop rates it from its readings (the state's count of
 * closed periods does not match), a session that starts after the
 * upgrade from its state.
 */
static int
evb_step_ingest(MDB_txn *txn, unsigned long *items)
{
    int             rc;
    MDB_dbi         sessions, readings, log, index, live, periods;
    MDB_val         k, v, rk, rv;
    MDB_cursor     *cur, *rcur;
    evb_buf_t       enc;
    evb_arena_t    *a;
    evb_session_t   s, t, cold;
    evb_reading_t   r;
    unsigned char   start[16], sk[8];

    static const evb_str_t  none = { "", 0 };

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSIONS], MDB_CREATE,
                      &sessions);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "readings", MDB_CREATE, &readings);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_READING_LOG], MDB_CREATE,
                          &log);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_READING_INDEX],
                          MDB_CREATE, &index);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_LIVE],
                          MDB_CREATE, &live);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_PERIODS], MDB_CREATE,
                          &periods);
    }
    if (rc == 0) {
        rc = mdb_cursor_open(txn, sessions, &cur);
    }
    if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, readings, &rcur);
    if (rc != 0) {
        mdb_cursor_close(cur);
        return rc;
    }

    evb_buf_init(&enc);

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 8) {
            rc = EVB_RC_CORRUPT;
            break;
        }

        /* an arena per session: the step's memory is one session's */
        a = evb_arena_create(4096);
        if (a == NULL) {
            rc = ENOMEM;
            break;
        }

        rc = evb_dec_rc(evb_dec_session(a, v.mv_data, v.mv_size, &s));

        t = s;
        t.nreadings = 0;
        t.log_last = 0;

        /* the key as a copy: writes may move the page it is on */
        memcpy(sk, k.mv_data, 8);
        memcpy(start, sk, 8);
        memset(start + 8, 0, 8);
        rk.mv_data = start;
        rk.mv_size = 16;

        for (rc = (rc == 0) ? mdb_cursor_get(rcur, &rk, &rv, MDB_SET_RANGE)
                            : rc;
             rc == 0;
             rc = mdb_cursor_get(rcur, &rk, &rv, MDB_NEXT))
        {
            if (rk.mv_size != 16 || memcmp(rk.mv_data, start, 8) != 0) {
                break;
            }

            rc = evb_dec_rc(evb_dec_reading(a, rv.mv_data, rv.mv_size, &r));
            if (rc == 0 && r.seq != evb_get_be64((unsigned char *)
                                                 rk.mv_data + 8))
            {
                rc = EVB_RC_CORRUPT;
            }

            if (rc == 0) {
                rc = evb_log_append(txn, log, index, &enc, &t, &r);
            }

            if (rc != 0) {
                break;
            }

            t.nreadings++;
            (*items)++;
        }

        if (rc == MDB_NOTFOUND) {
            rc = 0;
        }

        if (rc == 0 && t.nreadings == 0 && s.log_last != 0) {
            /* already in the log (the step runs again on a forged
             * version): as it is */
            evb_arena_destroy(a);
            continue;
        }

        if (rc == 0 && t.nreadings != s.nreadings) {
            rc = EVB_RC_CORRUPT;
        }

        if (rc == 0) {
            s.log_last = t.log_last;
            cold = s;

            if (s.state == EVB_SESSION_ACTIVE) {
                cold.cost = none;
                cold.cost_error = none;
                cold.meter = none;

                evb_buf_reset(&enc);
                evb_enc_session_live(&enc, &s);
                rc = enc.oom ? ENOMEM
                             : evb_put(txn, live, sk, 8, enc.data, enc.len);
            }
        }

        if (rc == 0) {
            evb_buf_reset(&enc);
            evb_enc_session(&enc, &cold);
            /* a cursor's own put: the walk over sessions goes on */
            k.mv_data = sk;
            k.mv_size = 8;
            rv.mv_data = enc.data;
            rv.mv_size = enc.len;
            rc = enc.oom ? ENOMEM : mdb_cursor_put(cur, &k, &rv, MDB_CURRENT);
        }

        evb_arena_destroy(a);

        if (rc != 0) {
            break;
        }
    }

    mdb_cursor_close(rcur);
    mdb_cursor_close(cur);
    evb_buf_free(&enc);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    return mdb_drop(txn, readings, 1);
}


/* 6 -> 7: the feed for downstream systems, announcing every document
 * stored before (evb_feed_backfill) */
static int
evb_step_feed(MDB_txn *txn, unsigned long *items)
{
    return evb_feed_backfill(txn, items);
}


/* new databases, empty */
static int
evb_step_create(MDB_txn *txn, int first, int last, unsigned long *items)
{
    int      i, rc;
    MDB_dbi  dbi;

    for (i = first; i <= last; i++) {
        rc = mdb_dbi_open(txn, evb_db_names[i], MDB_CREATE, &dbi);
        if (rc != 0) {
            return rc;
        }

        (*items)++;
    }

    return 0;
}


/* 7 -> 8: the databases of monthly billing runs, empty: monthly
 * customers' sessions stopped before the upgrade stay without invoice */
static int
evb_step_runs(MDB_txn *txn, unsigned long *items)
{
    return evb_step_create(txn, EVB_DB_MONTH_PENDING, EVB_DB_BILLING_RUNS,
                           items);
}


/* 8 -> 9: the payment databases, empty (issue 11) */
static int
evb_step_payments(MDB_txn *txn, unsigned long *items)
{
    return evb_step_create(txn, EVB_DB_PAYMENTS, EVB_DB_PAYMENT_EVENTS,
                           items);
}


/*
 * 9 -> 10: the charger documents that start records (version 2) refer
 * to, new and empty; version 1 start records keep their own copy.
 */
static int
evb_step_charger_docs(MDB_txn *txn, unsigned long *items)
{
    int      rc;
    MDB_dbi  dbi;

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_CHARGER_DOCS], MDB_CREATE,
                      &dbi);
    if (rc == 0) {
        (*items)++;
    }

    return rc;
}


/* evb_steps[i] migrates version i + 1 to i + 2 */
static const evb_step_t  evb_steps[EVB_SCHEMA_VERSION - 1] = {
    { "activity index of open sessions (idle sweep)", evb_step_activity },
    { "customers, tokens and session starts (who is billed)",
      evb_step_parties },
    { "invoice and credit note databases", evb_step_invoices },
    { "reading log, live records of open sessions (ingest layout)",
      evb_step_ingest },
    { "sessions by customer (driver API)", evb_step_customer_sessions },
    { "feed for downstream systems (every CDR, invoice and credit note "
      "stored so far)", evb_step_feed },
    { "monthly billing runs (pending sessions, run records)",
      evb_step_runs },
    { "payments, their links, outbox and webhook events",
      evb_step_payments },
    { "charger documents of the session starts, stored once",
      evb_step_charger_docs },
};


static void
evb_offline_close(evb_offline_t *o)
{
    if (o->env) {
        mdb_env_close(o->env);
        o->env = NULL;
    }

    if (o->lfd >= 0) {
        (void) close(o->lfd);
        o->lfd = -1;
    }
}


/* exclusive: refuse (-2) when another process has the store open */
static int
evb_offline_open(evb_offline_t *o, const char *path, unsigned flags,
    int exclusive, char *err, size_t errlen)
{
    int           rc;
    char          file[4096];
    size_t        used, want;
    MDB_stat      ms;
    MDB_envinfo   info;
    struct flock  fl;

    o->env = NULL;
    o->lfd = -1;

    if (snprintf(file, sizeof(file), "%s/data.mdb", path)
        >= (int) sizeof(file) || access(file, F_OK) != 0)
    {
        snprintf(err, errlen, "no store at %s (no data.mdb)", path);
        return -1;
    }

    rc = mdb_env_create(&o->env);
    if (rc != 0) {
        o->env = NULL;
        goto failed;
    }

    (void) mdb_env_set_maxdbs(o->env, EVB_DB_COUNT + 4);

    rc = mdb_env_open(o->env, path, flags, 0600);
    if (rc != 0) {
        goto failed;
    }

    /*
     * In use?  Every process with the environment open holds a shared
     * fcntl lock on byte 0 of lock.mdb for as long as it has it open
     * (LMDB's own liveness lock); F_GETLK reports other processes' locks
     * only, so our own does not count.
     */
    /* kept open until the environment is closed: closing any descriptor
     * of lock.mdb would drop this process's LMDB locks on it */
    if (exclusive) {
        snprintf(file, sizeof(file), "%s/lock.mdb", path);
        o->lfd = open(file, O_RDONLY);
    }

    if (exclusive && o->lfd < 0) {
        snprintf(err, errlen, "store at %s: cannot open its lock.mdb: %s",
                 path, strerror(errno));
        evb_offline_close(o);
        return -1;
    }

    /* room for a step's new records: LMDB keeps the map size of the
     * last writer, which may have been just enough */
    if (!(flags & MDB_RDONLY)) {
        rc = mdb_env_info(o->env, &info);
        if (rc == 0 && mdb_env_stat(o->env, &ms) == 0) {
            used = (info.me_last_pgno + 1) * (size_t) ms.ms_psize;
            want = used + used / 4 + ((size_t) 64 << 20);

            if (want > info.me_mapsize) {
                rc = mdb_env_set_mapsize(o->env, want);
            }
        }

        if (rc != 0) {
            goto failed;
        }
    }

    if (exclusive) {
        memset(&fl, 0, sizeof(fl));
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = 0;
        fl.l_len = 1;

        if (fcntl(o->lfd, F_GETLK, &fl) != 0) {
            snprintf(err, errlen, "store at %s: cannot test its lock: %s",
                     path, strerror(errno));
            evb_offline_close(o);
            return -1;
        }

        if (fl.l_type != F_UNLCK) {
            snprintf(err, errlen, "store at %s is in use by process %ld "
                     "(nginx?): stop nginx first", path, (long) fl.l_pid);
            evb_offline_close(o);
            return -2;
        }
    }

    return 0;

failed:

    snprintf(err, errlen, "cannot open the store at %s: %s", path,
             mdb_strerror(rc));
    evb_offline_close(o);

    return -1;
}


/* the schema version in txn: 0 when none was written yet */
static int
evb_read_version(MDB_txn *txn, unsigned *version)
{
    int      rc;
    MDB_dbi  meta;
    MDB_val  v;

    static const char  name[] = "schema_version";

    *version = 0;

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_META], 0, &meta);
    if (rc == 0) {
        rc = evb_get(txn, meta, name, sizeof(name) - 1, &v);
    }

    if (rc == MDB_NOTFOUND) {
        return 0;
    }

    if (rc != 0) {
        return rc;
    }

    if (v.mv_size != 4 || evb_get_be32(v.mv_data) == 0) {
        return EVB_RC_CORRUPT;
    }

    *version = evb_get_be32(v.mv_data);

    return 0;
}


int
evb_store_version(const char *path, unsigned *version, char *err,
    size_t errlen)
{
    int            rc;
    MDB_txn       *txn;
    evb_offline_t  o;

    /* reading is safe beside a running nginx */
    rc = evb_offline_open(&o, path, MDB_RDONLY | MDB_NOTLS, 0, err, errlen);
    if (rc != 0) {
        return -1;
    }

    rc = mdb_txn_begin(o.env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = evb_read_version(txn, version);
        mdb_txn_abort(txn);
    }

    evb_offline_close(&o);

    if (rc != 0) {
        snprintf(err, errlen, "cannot read the schema version of %s: %s",
                 path, evb_store_strerror(rc));
        return -1;
    }

    return 0;
}


int
evb_store_upgrade(const char *path,
    void (*step)(void *data, unsigned from, unsigned to, const char *what,
                 unsigned long items),
    void *data, char *err, size_t errlen)
{
    int            rc;
    MDB_dbi        meta;
    MDB_txn       *txn;
    unsigned       version;
    unsigned long  items;
    evb_offline_t  o;
    unsigned char  b[4];

    static const char  name[] = "schema_version";

    rc = evb_offline_open(&o, path, 0, 1, err, errlen);
    if (rc != 0) {
        return rc;
    }

    for ( ;; ) {
        rc = mdb_txn_begin(o.env, NULL, 0, &txn);
        if (rc != 0) {
            break;
        }

        rc = evb_read_version(txn, &version);
        if (rc != 0) {
            mdb_txn_abort(txn);
            break;
        }

        if (version == 0 || version >= EVB_SCHEMA_VERSION) {
            mdb_txn_abort(txn);
            break;
        }

        items = 0;
        rc = evb_steps[version - 1].run(txn, &items);

        if (rc == 0) {
            rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_META], 0, &meta);
        }

        if (rc == 0) {
            evb_put_be32(b, version + 1);
            rc = evb_put(txn, meta, name, sizeof(name) - 1, b, 4);
        }

        if (rc != 0) {
            mdb_txn_abort(txn);
            snprintf(err, errlen, "store at %s: step %u to %u (%s) failed, "
                     "the store stays at %u: %s", path, version,
                     version + 1, evb_steps[version - 1].what, version,
                     evb_store_strerror(rc));
            evb_offline_close(&o);
            return -1;
        }

        rc = mdb_txn_commit(txn);
        if (rc == 0) {
            rc = mdb_env_sync(o.env, 1);
        }

        if (rc != 0) {
            snprintf(err, errlen, "store at %s: step %u to %u did not "
                     "commit: %s", path, version, version + 1,
                     mdb_strerror(rc));
            evb_offline_close(&o);
            return -1;
        }

        if (step) {
            step(data, version, version + 1, evb_steps[version - 1].what,
                 items);
        }
    }

    evb_offline_close(&o);

    if (rc != 0) {
        snprintf(err, errlen, "store at %s: %s", path,
                 evb_store_strerror(rc));
        return -1;
    }

    if (version == 0) {
        snprintf(err, errlen, "store at %s has no schema version (never "
                 "opened by evbill?)", path);
        return -1;
    }

    if (version > EVB_SCHEMA_VERSION) {
        evb_schema_error(err, errlen, path, version);
        return -3;
    }

    return 0;
}


/* verify: every record decodes, the indexes match the sessions */

typedef struct {
    void              (*problem)(void *data, const char *what);
    void               *data;
    long                n;
} evb_verify_t;


static void
evb_verify_note(evb_verify_t *vf, const char *fmt, uint64_t sid)
{
    char  buf[256];

    snprintf(buf, sizeof(buf), fmt, (unsigned long long) sid);
    vf->n++;

    if (vf->problem) {
        vf->problem(vf->data, buf);
    }
}


static int
evb_verify_txn(MDB_txn *txn, unsigned version, evb_verify_t *vf)
{
    int             rc, has_activity, has_log;
    size_t          nr;
    MDB_dbi         sessions, active, activity, live, log;
    MDB_val         k, v, x;
    MDB_cursor     *cur;
    uint64_t        sid;
    evb_arena_t    *a;
    evb_session_t   s;
    evb_reading_t  *rs;
    unsigned char   ak[16];

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSIONS], 0, &sessions);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_ACTIVE], 0, &active);
    }
    if (rc == MDB_NOTFOUND) {
        return 0;                   /* no session was ever written */
    }
    if (rc != 0) {
        return rc;
    }

    has_activity = (version >= 2);

    if (has_activity) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_ACTIVITY], 0, &activity);
        if (rc != 0) {
            return rc;
        }
    }

    has_log = (version >= 5);       /* the ingest layout */

    if (has_log) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_LIVE], 0, &live);
        if (rc == 0) {
            rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_READING_LOG], 0,
                              &log);
        }
        if (rc != 0) {
            return rc;
        }
    }

    /* sessions -> active, activity */
    rc = mdb_cursor_open(txn, sessions, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        sid = (k.mv_size == 8) ? evb_get_be64(k.mv_data) : 0;

        a = evb_arena_create(4096);
        if (a == NULL) {
            rc = ENOMEM;
            break;
        }

        if (k.mv_size != 8
            || evb_dec_session(a, v.mv_data, v.mv_size, &s) != EVB_DEC_OK
            || s.sid != sid)
        {
            evb_verify_note(vf, "session %llu: record does not decode", sid);
            evb_arena_destroy(a);
            continue;
        }

        if (has_log) {
            if (evb_live_apply(txn, live, a, &s) != 0) {
                evb_verify_note(vf, "session %llu: live record does not "
                                "decode", sid);
                evb_arena_destroy(a);
                continue;
            }

            if (s.state == EVB_SESSION_ACTIVE && mdb_get(txn, live, &k, &x)
                != 0)
            {
                evb_verify_note(vf, "session %llu: open without a live "
                                "record", sid);
            }

            /* every reading decodes, chained in seq order, as many as
             * the session counts */
            if (evb_log_load(txn, log, a, &s, &rs, &nr) != 0) {
                evb_verify_note(vf, "session %llu: its readings in the "
                                "reading log do not match its count", sid);
            }
        }

        if (s.state == EVB_SESSION_ACTIVE) {
            if (mdb_get(txn, active, &k, &x) != 0) {
                evb_verify_note(vf, "session %llu: open but not in active",
                                sid);
            }

            if (has_activity && s.sweep_error.len == 0) {
                evb_put_be64(ak, evb_time_key(s.activity_at));
                evb_put_be64(ak + 8, sid);

                if (evb_get(txn, activity, ak, 16, &x) != 0
                    || s.activity_at > s.updated_at)
                {
                    evb_verify_note(vf, "session %llu: open but not in the "
                                    "activity index at its activity_at",
                                    sid);
                }
            }

        } else if (mdb_get(txn, active, &k, &x) == 0) {
            evb_verify_note(vf, "session %llu: stopped but in active", sid);
        }

        evb_arena_destroy(a);
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    if (!has_activity) {
        return 0;
    }

    /* activity -> sessions: no entry without its open, unmarked session
     * at that time */
    rc = mdb_cursor_open(txn, activity, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        if (k.mv_size != 16) {
            evb_verify_note(vf, "activity index: a malformed key (%llu)",
                            (uint64_t) k.mv_size);
            continue;
        }

        sid = evb_get_be64((unsigned char *) k.mv_data + 8);
        evb_put_be64(ak, sid);

        a = evb_arena_create(4096);
        if (a == NULL) {
            rc = ENOMEM;
            break;
        }

        if (evb_get(txn, sessions, ak, 8, &x) != 0
            || evb_dec_session(a, x.mv_data, x.mv_size, &s) != EVB_DEC_OK
            || (has_log && evb_live_apply(txn, live, a, &s) != 0))
        {
            evb_verify_note(vf, "activity index: session %llu is missing",
                            sid);

        } else if (s.state != EVB_SESSION_ACTIVE || s.sweep_error.len
                   || evb_time_key(s.activity_at)
                      != evb_get_be64(k.mv_data))
        {
            evb_verify_note(vf, "activity index: entry of session %llu is "
                            "stale (stopped, marked or moved)", sid);
        }

        evb_arena_destroy(a);
    }

    mdb_cursor_close(cur);

    if (rc != MDB_NOTFOUND) {
        return rc;
    }

    return version >= 4 ? evb_store_invoice_verify(txn, vf->problem,
                                                   vf->data, &vf->n)
                        : 0;
}


/* schema 3: every session start decodes and has its session; schema
 * 10: a version 2 record's charger document is there */
static int
evb_verify_starts(MDB_txn *txn, evb_verify_t *vf)
{
    int                  rc, drc, has_ref;
    MDB_dbi              starts, sessions, docs;
    MDB_val              k, v, x;
    MDB_cursor          *cur;
    uint64_t             sid;
    evb_arena_t         *a;
    unsigned char        ref[12];
    evb_session_start_t  st;

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSION_STARTS], 0, &starts);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_SESSIONS], 0, &sessions);
    }
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    if (rc != 0) {
        return rc;
    }

    rc = mdb_dbi_open(txn, evb_db_names[EVB_DB_CHARGER_DOCS], 0, &docs);
    if (rc == MDB_NOTFOUND) {
        docs = 0;               /* before schema 10: no version 2 records */

    } else if (rc != 0) {
        return rc;
    }

    rc = mdb_cursor_open(txn, starts, &cur);
    if (rc != 0) {
        return rc;
    }

    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    {
        sid = (k.mv_size == 8) ? evb_get_be64(k.mv_data) : 0;

        /* a new arena per record: the sweep's lesson, memory stays flat */
        a = evb_arena_create(4096);
        if (a == NULL) {
            rc = ENOMEM;
            break;
        }

        drc = (k.mv_size == 8)
              ? evb_dec_session_start_ref(a, &v, &st, ref, &has_ref)
              : EVB_RC_CORRUPT;

        evb_arena_destroy(a);

        if (drc == ENOMEM) {
            rc = ENOMEM;
            break;
        }

        if (drc != 0 || st.sid != sid) {
            evb_verify_note(vf, "session start %llu: record does not "
                            "decode", sid);

        } else if (has_ref) {
            x.mv_size = sizeof(ref);
            x.mv_data = ref;

            if (docs == 0 || mdb_get(txn, docs, &x, &x) != 0) {
                evb_verify_note(vf, "session start %llu: its charger "
                                "document is missing", sid);
            }
        }

        if (k.mv_size == 8 && mdb_get(txn, sessions, &k, &x) != 0) {
            evb_verify_note(vf, "session start %llu: no such session", sid);
        }
    }

    mdb_cursor_close(cur);

    return rc == MDB_NOTFOUND ? 0 : rc;
}


long
evb_store_verify(const char *path,
    void (*problem)(void *data, const char *what), void *data, char *err,
    size_t errlen)
{
    int            rc;
    MDB_txn       *txn;
    unsigned       version;
    evb_verify_t   vf;
    evb_offline_t  o;

    /* a read transaction is a consistent snapshot: fine beside nginx */
    rc = evb_offline_open(&o, path, MDB_RDONLY | MDB_NOTLS, 0, err, errlen);
    if (rc != 0) {
        return -1;
    }

    vf.problem = problem;
    vf.data = data;
    vf.n = 0;

    rc = mdb_txn_begin(o.env, NULL, MDB_RDONLY, &txn);
    if (rc == 0) {
        rc = evb_read_version(txn, &version);

        if (rc == 0) {
            rc = evb_verify_txn(txn, version, &vf);
        }

        if (rc == 0 && version >= 3) {
            rc = evb_verify_starts(txn, &vf);
        }

        if (rc == 0 && version >= 6) {
            rc = evb_store_driver_verify(txn, vf.problem, vf.data, &vf.n);
        }

        if (rc == 0 && version >= 7) {
            rc = evb_store_feed_verify(txn, vf.problem, vf.data, &vf.n);
        }

        mdb_txn_abort(txn);
    }

    evb_offline_close(&o);

    if (rc != 0) {
        snprintf(err, errlen, "cannot read the store at %s: %s", path,
                 evb_store_strerror(rc));
        return -1;
    }

    return vf.n;
}
