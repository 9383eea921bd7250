/*
 * evbill ops: sessions (start, readings, stop, the idle sweep, void) and
 * the billing glue that prices them through src/core/evb_bill.
 *
 * Semantics decided here:
 *   - A stored reading is never rewritten; a replayed seq is a duplicate
 *     if its values are equal, else a conflict.  Replays do not count as
 *     activity for the idle sweep (nothing is written).
 *   - The idle sweep closes active sessions whose updated_at (the time of
 *     the last write to them) is at least idle_timeout old, at their last
 *     reading's time and register, with reason "timeout", each in a
 *     transaction of its own; one it cannot close gets sweep_error and is
 *     skipped until a write to it (which clears the mark) or a void.
 *     It finds them through the activity index (lmdb: active sessions
 *     without a mark, by updated_at), at most EVB_SWEEP_CHUNK per op; a
 *     marked session leaves the index (so sweeps do not read it again)
 *     and a write to it puts it back.
 *   - A void closes an active session at its last reading with reason
 *     "voided" and the operator's void_reason, without a price or a CDR.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evb_ops.h"
#include "../core/evb_pan.h"


unsigned long  evb_ops_final_replays;


/* parsed tariffs live with the store, for the writer only */
static evb_bill_cache_t *
evb_ops_bill_cache(evb_wtxn_t *tx)
{
    evb_bill_cache_t  *c;

    c = evb_tx_cache(tx);

    if (c == NULL) {
        c = evb_bill_cache_create();
        if (c != NULL) {
            evb_tx_set_cache(tx, c, (void (*)(void *)) evb_bill_cache_free);
        }
    }

    /* NULL: parse every time */
    return c;
}


static evb_str_t
evb_ops_strdup(evb_arena_t *a, const char *s)
{
    evb_str_t  r;

    r.len = strlen(s);
    r.data = evb_arena_strdup(a, s, r.len);
    if (r.data == NULL) {
        r.len = 0;
    }

    return r;
}


/*
 * What a session is rated with: its tariff version and its charger's time
 * zone.  A tariff that is not (yet) defined leaves the session unrated
 * with a reason (*why, rc EVB_ST_NOTFOUND); meter data is never refused
 * for a pricing problem.  Returns 0, EVB_ST_NOTFOUND or a store error.
 */
static int
evb_bill_prepare(evb_op_t *op, evb_wtxn_t *tx, const evb_bill_conf_t *conf,
    const evb_session_t *s, const evb_charger_t *c, evb_bill_t *b,
    evb_str_t *why)
{
    int   rc;
    char  msg[192];

    memset(b, 0, sizeof(evb_bill_t));
    b->tariff_id = s->tariff_id;
    b->tariff_version = s->tariff_version;
    b->time_zone = c->time_zone;
    b->conf = conf;
    b->cache = evb_ops_bill_cache(tx);

    if (s->tariff_version == 0) {
        snprintf(msg, sizeof(msg), "tariff %.*s was not defined when the "
                 "session started", (int) s->tariff_id.len,
                 s->tariff_id.data);
        goto unrated;
    }

    rc = evb_tx_get_tariff(tx, op->arena, s->tariff_id, s->tariff_version,
                           &b->tariff_json, NULL, NULL);
    if (rc == EVB_ST_NOTFOUND) {
        snprintf(msg, sizeof(msg), "tariff %.*s version %u is missing",
                 (int) s->tariff_id.len, s->tariff_id.data,
                 (unsigned) s->tariff_version);
        goto unrated;
    }

    return rc;

unrated:

    *why = evb_ops_strdup(op->arena, msg);
    if (why->len == 0) {
        return ENOMEM;
    }

    return EVB_ST_NOTFOUND;
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
evb_bill_note(evb_op_t *op, evb_session_t *s, evb_problem_e p,
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
    why = evb_ops_strdup(op->arena, detail);
    if (why.len == 0) {
        return ENOMEM;
    }

    evb_bill_unrated(s, why);

    return 0;
}


/*
 * Closed without reaching the invoice hook (unrated, a rating failure,
 * a void): nothing will be captured, so an ad hoc hold is released in
 * this transaction rather than left authorised until it lapses.
 */
static evb_problem_e
evb_bill_release(evb_op_t *op, evb_wtxn_t *tx, const evb_session_t *s)
{
    int  rc;

    rc = evb_pay_at_close(op, tx, s->sid, s->cost_error, 0, NULL);

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/*
 * A stopped session: the final price and its CDR, from the rating state
 * kept with it and the periods it closed (no reading is read again under
 * the write lock); from its raw readings only when that state is not
 * complete (the session was unrated while open, or is older data).
 * A stop that would take the session past max_periods is refused; the
 * idle sweep (sweep) closes at the last reading, which was within the
 * bounds when it was stored, and closes a session stored beyond them
 * (older data, or bounds lowered since) unrated, after bounded work.
 */
static evb_problem_e
evb_bill_close(evb_op_t *op, evb_wtxn_t *tx, const evb_bill_conf_t *conf,
    evb_session_t *s, int sweep)
{
    int                   rc, found;
    size_t                n, nclosed;
    evb_bill_t            b;
    evb_str_t             cost, cdr, why, *closed;
    evb_charger_t         c;
    evb_session_start_t   st;
    evb_problem_e         p;
    evb_msec_t            max;
    evb_reading_t        *readings;
    evb_rate_result_t     res;
    evb_bill_detail_t     bill;
    char                  detail[192], span[32];

    if (conf == NULL) {
        return EVB_OK;
    }

    max = conf->policy.max_duration;

    if (sweep && max && s->stopped_at - s->started_at > max) {
        evb_span_text(span, sizeof(span), max);
        snprintf(detail, sizeof(detail), "the session spans more than %s "
                 "(evbill_session_max_duration); not rated", span);
        goto unrated;
    }

    /* the location, EVSE, time zone and token of the start (OCPI) */
    rc = evb_party_charger_at_start(op, tx, s, &c, &st, &found);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    why.len = 0;
    rc = evb_bill_prepare(op, tx, conf, s, &c, &b, &why);
    b.start = found ? &st : NULL;
    if (rc == EVB_ST_NOTFOUND) {
        evb_bill_unrated(s, why);
        return evb_bill_release(op, tx, s);
    }

    closed = NULL;
    nclosed = 0;

    if (rc == 0) {
        /* more than max_periods stored: not this build's state */
        rc = evb_tx_get_periods(tx, op->arena, s->sid,
                                conf->policy.max_periods
                                ? (size_t) conf->policy.max_periods
                                : (size_t) -1, &closed, &nclosed);
        if (rc == E2BIG) {
            rc = 0;
            nclosed = (size_t) -1;
        }
    }

    /* the rounded bill line by line, for the invoice */
    if (rc == 0 && conf->invoice != NULL) {
        b.out = evb_arena_alloc(op->arena, sizeof(evb_bill_out_t));
        rc = b.out ? 0 : ENOMEM;

        if (b.out) {
            b.out->set = 0;
        }
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (evb_bill_state_usable(s, nclosed)) {
        p = evb_bill_final_state(op->arena, &b, s, &c, closed, nclosed,
                                 &cost, &cdr, &res, &bill, detail,
                                 sizeof(detail));

    } else {
        evb_ops_final_replays++;

        rc = evb_tx_get_readings(tx, op->arena, s, &readings, &n);
        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        p = evb_bill_final(op->arena, &b, s, &c, readings, n, &cost, &cdr,
                           &res, &bill, detail, sizeof(detail));
    }

    if (p == EVB_P_SESSION_LIMIT) {
        if (!sweep) {
            return evb_refuse(op, p, "%s; the session stays active", detail);
        }

        goto unrated;
    }

    if (p != EVB_OK) {
        rc = evb_bill_note(op, s, p, detail);
        return rc ? evb_op_store_error(op, rc) : evb_bill_release(op, tx, s);
    }

    s->cost = cost;

    rc = evb_tx_put_cdr(tx, s->sid, cdr);
    if (rc == 0) {
        rc = evb_bill_note(op, s, EVB_OK, NULL);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    return evb_invoice_at_close(op, tx, conf, s, found ? &st : NULL, &c, cdr,
                                b.out);

unrated:

    /* closed without a price: no live cost left behind as if final */
    s->cost.data = "";
    s->cost.len = 0;

    rc = evb_bill_note(op, s, EVB_P_SESSION_LIMIT, detail);

    return rc ? evb_op_store_error(op, rc) : evb_bill_release(op, tx, s);
}


/*
 * The server's clock bounds new timestamps: a charger's clock error or a
 * forged date cannot make the store keep (and rating price) years of
 * data.  Called only for what is not stored yet, so replays stay
 * duplicates whatever their age.
 */
static evb_problem_e
evb_check_time(evb_op_t *op, const evb_op_limits_t *l, evb_msec_t ts,
    const char *what)
{
    char  when[32], span[32];

    if (!l->check_time) {
        return EVB_OK;
    }

    if (ts < op->now - l->max_age) {
        when[evb_time_format_rfc3339(ts, when)] = '\0';
        evb_span_text(span, sizeof(span), l->max_age);
        return evb_refuse(op, EVB_P_TOO_OLD, "%s: timestamp %s is more "
                          "than %s before the server's clock "
                          "(evbill_max_data_age)", what, when, span);
    }

    if (ts > op->now + l->max_ahead) {
        when[evb_time_format_rfc3339(ts, when)] = '\0';
        evb_span_text(span, sizeof(span), l->max_ahead);
        return evb_refuse(op, EVB_P_IN_THE_FUTURE, "%s: timestamp %s is "
                          "more than %s ahead of the server's clock "
                          "(evbill_signature_window)", what, when, span);
    }

    return EVB_OK;
}


/* A session spans at most max_duration from its start. */
static evb_problem_e
evb_check_span(evb_op_t *op, const evb_op_limits_t *l,
    const evb_session_t *s, evb_msec_t ts, const char *what)
{
    char        span[32];
    evb_msec_t  max;

    max = l->bill ? l->bill->policy.max_duration : 0;

    if (max == 0 || ts - s->started_at <= max) {
        return EVB_OK;
    }

    evb_span_text(span, sizeof(span), max);

    return evb_refuse(op, EVB_P_SESSION_LIMIT, "%s: timestamp is more than "
                      "%s after the session start "
                      "(evbill_session_max_duration); stop the session and "
                      "start a new one", what, span);
}


static evb_problem_e
evb_check_charger(evb_op_t *op, evb_wtxn_t *tx, evb_str_t id,
    evb_charger_t *c)
{
    int  rc;

    rc = evb_tx_get_charger(tx, op->arena, id, c);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_CHARGER, "no charger %.*s",
                          (int) id.len, id.data);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    if (c->retired) {
        return evb_refuse(op, EVB_P_CHARGER_RETIRED, "charger %.*s is "
                          "retired", (int) id.len, id.data);
    }

    return EVB_OK;
}


static evb_problem_e
evb_load_named(evb_op_t *op, evb_wtxn_t *tx, evb_str_t charger_id,
    evb_str_t session_id, evb_session_t *s)
{
    int  rc;

    rc = evb_tx_get_session(tx, op->arena, charger_id, session_id, s);
    if (rc == EVB_ST_NOTFOUND) {
        return evb_refuse(op, EVB_P_UNKNOWN_SESSION,
                          "no session %.*s on charger %.*s",
                          (int) session_id.len, session_id.data,
                          (int) charger_id.len, charger_id.data);
    }

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


/* start */

static void
evb_op_start_clear(evb_wop_t *w)
{
    evb_op_start_t  *o = (evb_op_start_t *) w;

    o->created = 0;
    memset(&o->session, 0, sizeof(o->session));
}


static evb_problem_e
evb_op_start_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int              rc;
    evb_str_t        session_id, tariff, why;
    evb_bill_t       b;
    evb_charger_t    c;
    evb_session_t    s;
    evb_problem_e    p;
    evb_op_start_t  *o = (evb_op_start_t *) w;
    evb_start_t     *start = o->start;
    evb_op_t        *op = &o->op;
    char             detail[192];

    if (start == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "no start given");
    }

    session_id = o->session_id.len ? o->session_id : start->session_id;

    if (!evb_id_valid(session_id.data, session_id.len)) {
        return evb_refuse(op, EVB_P_INVALID_VALUE, "invalid session id");
    }

    p = evb_check_charger(op, tx, o->charger_id, &c);
    if (p != EVB_OK) {
        return p;
    }

    rc = evb_tx_get_session(tx, op->arena, o->charger_id, session_id, &s);
    if (rc == 0) {
        if (!evb_start_matches(start, &s)) {
            return evb_refuse(op, EVB_P_SESSION_CONFLICT,
                              "session %.*s was started with other values",
                              (int) session_id.len, session_id.data);
        }

        o->session = s;
        return EVB_OK;
    }

    if (rc != EVB_ST_NOTFOUND) {
        return evb_op_store_error(op, rc);
    }

    p = evb_check_time(op, &o->limits, start->timestamp, "start");
    if (p != EVB_OK) {
        return p;
    }

    memset(&s, 0, sizeof(s));

    if (start->tariff_id.len) {
        s.tariff_id = start->tariff_id;
        s.tariff_from_request = 1;

    } else if (c.tariff_id.len) {
        s.tariff_id = c.tariff_id;

    } else {
        return evb_refuse(op, EVB_P_NO_TARIFF, "charger %.*s has no tariff "
                          "and the start names none",
                          (int) o->charger_id.len, o->charger_id.data);
    }

    rc = evb_tx_next_sid(tx, &s.sid);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    s.charger_id = o->charger_id;
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
    s.activity_at = op->now;

    /* an ad hoc driver pays through the payment named as id_token */
    if (o->payments && s.token_type == EVB_TOKEN_AD_HOC_USER) {
        p = evb_pay_claim(op, tx, &s);
        if (p != EVB_OK) {
            return p;
        }
    }

    /* billed with the tariff version current at the start */
    if (o->limits.bill) {
        rc = evb_tx_get_tariff(tx, op->arena, s.tariff_id, 0, &tariff,
                               &s.tariff_version, NULL);
        if (rc != 0 && rc != EVB_ST_NOTFOUND) {
            return evb_op_store_error(op, rc);
        }

        why.len = 0;
        rc = evb_bill_prepare(op, tx, o->limits.bill, &s, &c, &b, &why);

        if (rc == 0) {
            p = evb_bill_start(op->arena, &b, &s, &s.meter, &s.cost, detail,
                               sizeof(detail));
            rc = evb_bill_note(op, &s, p, detail);

        } else if (rc == EVB_ST_NOTFOUND) {
            evb_bill_unrated(&s, why);
            rc = 0;
        }

        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }
    }

    rc = evb_tx_put_session(tx, &s, op->arena, &o->session);
    if (rc == 0) {
        rc = evb_tx_index_session(tx, &s);
    }

    if (rc == 0) {
        rc = evb_tx_activity_put(tx, s.sid, s.updated_at);
    }

    /* the token, customer and charger as at the start (CDR, invoice) */
    if (rc == 0) {
        rc = evb_party_session_start(op, tx, &s, &c);
    }

    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    o->created = 1;

    return EVB_OK;
}


/* readings: the whole batch or nothing (one op, one transaction) */

/* s (as loaded) stops or gets a sweep mark: it leaves the index */
static int
evb_activity_leave(evb_wtxn_t *tx, const evb_session_t *s)
{
    return evb_tx_activity_del(tx, s->sid, s->activity_at);
}


/* the periods rating closed in this op, kept for the CDR at stop */
static int
evb_bill_keep_closed(evb_wtxn_t *tx, const evb_session_t *s,
    const evb_bill_closed_t *closed)
{
    int     rc;
    size_t  i;

    for (i = 0; i < closed->n; i++) {
        if (closed->first + i >= UINT32_MAX) {
            return EVB_ST_NOTFOUND;     /* beyond the key: not kept */
        }

        rc = evb_tx_put_period(tx, s->sid, (uint32_t) (closed->first + i),
                               closed->items[i]);
        if (rc != 0) {
            return rc;
        }
    }

    return 0;
}


static void
evb_op_readings_clear(evb_wop_t *w)
{
    evb_op_readings_t  *o = (evb_op_readings_t *) w;

    memset(&o->session, 0, sizeof(o->session));
    o->accepted = 0;
    o->duplicates = 0;
}


static evb_problem_e
evb_op_readings_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int                 rc, dirty, found, marked;
    size_t              i;
    evb_bill_t          b;
    evb_str_t           why;
    evb_bill_closed_t   closed;
    evb_charger_t       c;
    evb_session_t       s;
    evb_problem_e       p;
    evb_reading_t      *r, old;
    evb_op_readings_t  *o = (evb_op_readings_t *) w;
    evb_op_t           *op = &o->op;
    char                detail[192], what[32];

    p = evb_load_named(op, tx, o->charger_id, o->session_id, &s);
    if (p != EVB_OK) {
        return p;
    }

    if (o->nreadings && o->readings == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "no readings given");
    }

    dirty = 0;

    for (i = 0; i < o->nreadings; i++) {
        r = &o->readings[i];

        if (r->seq <= s.last_seq) {
            /* a view: compared before anything is written */
            rc = evb_tx_get_reading_view(tx, &s, r->seq, &old);
            if (rc == EVB_ST_NOTFOUND) {
                return evb_refuse(op, EVB_P_SEQ_CONFLICT,
                                  "seq %llu is below the last seq %llu",
                                  (unsigned long long) r->seq,
                                  (unsigned long long) s.last_seq);
            }

            if (rc != 0) {
                return evb_op_store_error(op, rc);
            }

            if (!evb_reading_equal(r, &old)) {
                return evb_refuse(op, EVB_P_SEQ_CONFLICT,
                                  "seq %llu is already stored with other "
                                  "values", (unsigned long long) r->seq);
            }

            o->duplicates++;
            continue;
        }

        if (s.state != EVB_SESSION_ACTIVE) {
            return evb_refuse(op, EVB_P_SESSION_STOPPED,
                              "session %.*s is stopped; seq %llu is new",
                              (int) s.session_id.len, s.session_id.data,
                              (unsigned long long) r->seq);
        }

        snprintf(what, sizeof(what), "seq %llu",
                 (unsigned long long) r->seq);

        p = evb_check_time(op, &o->limits, r->timestamp, what);
        if (p != EVB_OK) {
            return p;
        }

        if (r->timestamp < s.started_at) {
            return evb_refuse(op, EVB_P_BEFORE_START,
                              "seq %llu: timestamp is before the session "
                              "start", (unsigned long long) r->seq);
        }

        if (r->timestamp < s.last_ts) {
            return evb_refuse(op, EVB_P_TIME_BACKWARDS,
                              "seq %llu: timestamp is before that of seq "
                              "%llu", (unsigned long long) r->seq,
                              (unsigned long long) s.last_seq);
        }

        if (r->energy_wh < s.last_energy_wh) {
            return evb_refuse(op, EVB_P_REGISTER_BACKWARDS,
                              "seq %llu: energy_wh %lld is below %lld",
                              (unsigned long long) r->seq,
                              (long long) r->energy_wh,
                              (long long) s.last_energy_wh);
        }

        p = evb_check_span(op, &o->limits, &s, r->timestamp, what);
        if (p != EVB_OK) {
            return p;
        }

        rc = evb_tx_put_reading(tx, &s, r);
        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        s.last_seq = r->seq;
        s.last_ts = r->timestamp;
        s.last_energy_wh = r->energy_wh;
        s.nreadings++;
        o->accepted++;
        dirty = 1;
    }

    if (dirty && o->limits.bill && s.meter.len) {
        /* rated in the time zone of the start */
        rc = evb_party_charger_at_start(op, tx, &s, &c, NULL, &found);
        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }

        why.len = 0;
        rc = evb_bill_prepare(op, tx, o->limits.bill, &s, &c, &b, &why);

        if (rc == 0) {
            /* the accepted readings are the tail of the batch: new seqs
             * follow the duplicates, which are all below last_seq */
            p = evb_bill_readings(op->arena, &b, &s.meter,
                                  o->readings + (o->nreadings
                                                 - o->accepted),
                                  (size_t) o->accepted, &s.cost, &closed,
                                  detail, sizeof(detail));

            /* the bound on the work of pricing: refused, not noted */
            if (p == EVB_P_SESSION_LIMIT) {
                return evb_refuse(op, p, "%s", detail);
            }

            rc = evb_bill_note(op, &s, p, detail);

            if (rc == 0 && p == EVB_OK) {
                rc = evb_bill_keep_closed(tx, &s, &closed);

                if (rc == EVB_ST_NOTFOUND) {
                    /* the stop rates it from its readings */
                    rc = 0;
                }
            }

        } else if (rc == EVB_ST_NOTFOUND) {
            evb_bill_unrated(&s, why);
            rc = 0;
        }

        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }
    }

    if (dirty) {
        /*
         * The activity entry stays where it is (at or before updated_at,
         * the sweep moves it when it gets there), so a commit writes
         * only this session's live record.  A marked session has no
         * entry, and gets one back: a session that changed gets another
         * chance in the sweep; its cold record loses the mark.
         */
        marked = s.sweep_error.len != 0;

        if (marked) {
            rc = evb_tx_activity_put(tx, s.sid, op->now);
            if (rc != 0) {
                return evb_op_store_error(op, rc);
            }

            s.activity_at = op->now;
        }

        s.updated_at = op->now;
        s.sweep_error.len = 0;

        rc = marked ? evb_tx_put_session(tx, &s, NULL, NULL)
                    : evb_tx_put_session_live(tx, &s);
        if (rc != 0) {
            return evb_op_store_error(op, rc);
        }
    }

    /* s's strings were copied into the op's arena by the load */
    o->session = s;
    o->pay_stop = evb_pay_stop_due(op, tx, &s);

    return EVB_OK;
}


/* stop, the idle sweep, void: closing */

static evb_problem_e
evb_close_session(evb_op_t *op, evb_wtxn_t *tx, const evb_bill_conf_t *conf,
    evb_session_t *s, evb_msec_t at, int64_t meter, evb_str_t reason,
    evb_str_t ocmf, int sweep, evb_session_t *out)
{
    int            rc;
    evb_problem_e  p;

    /* before updated_at changes: the entry is under the old one */
    rc = evb_activity_leave(tx, s);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    s->state = EVB_SESSION_STOPPED;
    s->stopped_at = at;
    s->meter_stop_wh = meter;
    s->stop_reason = reason;
    s->stop_ocmf = ocmf;
    s->updated_at = op->now;
    s->sweep_error.len = 0;

    p = evb_bill_close(op, tx, conf, s, sweep);
    if (p != EVB_OK) {
        return p;
    }

    rc = evb_tx_put_session(tx, s, op->arena, out);
    if (rc == 0) {
        rc = evb_tx_unmark_active(tx, s->sid);
    }

    return rc ? evb_op_store_error(op, rc) : EVB_OK;
}


static void
evb_op_stop_clear(evb_wop_t *w)
{
    memset(&((evb_op_stop_t *) w)->session, 0, sizeof(evb_session_t));
}


static evb_problem_e
evb_op_stop_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    char            when[32];
    evb_str_t       reason;
    evb_session_t   s;
    evb_problem_e   p;
    evb_op_stop_t  *o = (evb_op_stop_t *) w;
    evb_stop_t     *stop = o->stop;
    evb_op_t       *op = &o->op;

    static const evb_str_t  local = evb_str_lit("local");

    if (stop == NULL) {
        return evb_refuse(op, EVB_P_INTERNAL, "no stop given");
    }

    p = evb_load_named(op, tx, o->charger_id, o->session_id, &s);
    if (p != EVB_OK) {
        return p;
    }

    if (s.state == EVB_SESSION_STOPPED) {
        if (!evb_stop_matches(stop, &s)) {
            when[evb_time_format_rfc3339(s.stopped_at, when)] = '\0';
            return evb_refuse(op, EVB_P_STOP_CONFLICT,
                              "session was closed at %s with reason %.*s",
                              when, (int) s.stop_reason.len,
                              s.stop_reason.data);
        }

        o->session = s;
        return EVB_OK;
    }

    p = evb_check_time(op, &o->limits, stop->timestamp, "stop");
    if (p != EVB_OK) {
        return p;
    }

    if (stop->timestamp < s.started_at) {
        return evb_refuse(op, EVB_P_BEFORE_START,
                          "stop timestamp is before the session start");
    }

    if (stop->timestamp < s.last_ts) {
        return evb_refuse(op, EVB_P_TIME_BACKWARDS,
                          "stop timestamp is before that of seq %llu",
                          (unsigned long long) s.last_seq);
    }

    if (stop->meter_stop_wh < s.last_energy_wh) {
        return evb_refuse(op, EVB_P_REGISTER_BACKWARDS,
                          "meter_stop_wh %lld is below %lld",
                          (long long) stop->meter_stop_wh,
                          (long long) s.last_energy_wh);
    }

    p = evb_check_span(op, &o->limits, &s, stop->timestamp, "stop");
    if (p != EVB_OK) {
        return p;
    }

    reason = stop->reason.len ? stop->reason : local;

    /* reason and ocmf point into the request: output the stored copy */
    return evb_close_session(op, tx, o->limits.bill, &s, stop->timestamp,
                             stop->meter_stop_wh, reason, stop->ocmf, 0,
                             &o->session);
}


static void
evb_op_sweep_clear(evb_wop_t *w)
{
    evb_op_sweep_t  *o = (evb_op_sweep_t *) w;

    o->swept = 0;
    o->failed = 0;
    o->examined = 0;
    o->moved = 0;
    o->more = 0;
}


/* Mark a session the sweep could not close, in a transaction of its
 * own; 0 or a store error. */
static int
evb_sweep_mark(evb_op_t *op, evb_wtxn_t *tx, evb_arena_t *a, uint64_t sid,
    const char *why)
{
    int            rc;
    evb_wtxn_t    *mark;
    evb_session_t  s;

    rc = evb_tx_nest(tx, &mark);
    if (rc != 0) {
        return rc;
    }

    rc = evb_tx_get_session_sid(mark, a, sid, &s);

    /* a marked session leaves the activity index, so the next sweeps
     * do not read it again; a write to it puts it back */
    if (rc == 0) {
        rc = evb_activity_leave(mark, &s);
    }

    if (rc == 0) {
        s.sweep_error = evb_ops_strdup(a, why[0] ? why : "failed");
        rc = s.sweep_error.len ? evb_tx_put_session(mark, &s, NULL, NULL)
                               : ENOMEM;
    }

    if (rc != 0) {
        evb_tx_abort(mark);
        return rc;
    }

    return evb_tx_commit(mark);
}


/* Move the activity entry of s to its updated_at, in a transaction of
 * its own; 0 or a store error. */
static int
evb_sweep_move(evb_wtxn_t *tx, evb_session_t *s)
{
    int          rc;
    evb_wtxn_t  *move;

    rc = evb_tx_nest(tx, &move);
    if (rc != 0) {
        return rc;
    }

    rc = evb_tx_activity_del(move, s->sid, s->activity_at);
    if (rc == 0) {
        rc = evb_tx_activity_put(move, s->sid, s->updated_at);
    }

    if (rc == 0) {
        s->activity_at = s->updated_at;
        rc = evb_tx_put_session_live(move, s);
    }

    if (rc != 0) {
        evb_tx_abort(move);
        return rc;
    }

    return evb_tx_commit(move);
}


static evb_problem_e
evb_sweep_chunk(evb_wop_t *w, evb_wtxn_t *tx)
{
    int              rc, more;
    size_t           i, n;
    evb_wtxn_t      *one;
    evb_arena_t     *scratch;
    evb_session_t    s;
    evb_msec_t       cutoff;
    evb_problem_e    p;
    evb_activity_t   idle[EVB_SWEEP_CHUNK];
    evb_op_sweep_t  *o = (evb_op_sweep_t *) w;
    evb_op_t        *op = &o->op, sub;
    char             why[256];

    static const evb_str_t  timeout = evb_str_lit("timeout");

    if (o->idle_timeout <= 0) {
        return evb_refuse(op, EVB_P_INTERNAL, "idle timeout must be "
                          "positive");
    }

    cutoff = op->now - o->idle_timeout;

    /*
     * One chunk: at most EVB_SWEEP_CHUNK entries of the activity index
     * at or below the cutoff, oldest first, collected before the loop
     * writes to the index.  The work and memory of one op (and so of
     * one write transaction) do not depend on how many sessions are
     * open; o->more asks the caller for another op, which starts after
     * the last entry read here (an entry left in place, whose record
     * cannot be read, is not read again by the following chunks).
     */
    rc = evb_tx_activity_scan(tx, cutoff, o->has_after ? &o->after : NULL,
                              idle, EVB_SWEEP_CHUNK, &n, &more);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    o->examined = n;
    o->more = more;

    if (n) {
        o->after = idle[n - 1];
        o->has_after = 1;
    }

    /* each session's close answers to its own sub-op, so its refusal or
     * store error stays its own */
    sub = *op;

    for (i = 0; i < n; i++) {
        /* a scratch arena per session: the op's memory stays that of
         * one session */
        scratch = evb_arena_create(4096);
        if (scratch == NULL) {
            return evb_op_store_error(op, ENOMEM);
        }

        sub.arena = scratch;

        rc = evb_tx_get_session_sid(tx, scratch, idle[i].sid, &s);

        if (rc != 0) {
            /* an index entry whose record cannot be read: counted,
             * left for the operator (evbill-store check), never fatal */
            o->failed++;
            evb_arena_destroy(scratch);
            continue;
        }

        if (s.state != EVB_SESSION_ACTIVE || s.activity_at != idle[i].at
            || s.sweep_error.len)
        {
            /* an entry out of step with its session (not written by
             * this build): dropped, the session is left as it is */
            (void) evb_tx_activity_del(tx, idle[i].sid, idle[i].at);
            evb_arena_destroy(scratch);
            continue;
        }

        if (s.updated_at > cutoff) {
            /* written to since its entry was put: the entry catches up
             * (once per idle timeout at most), the session stays open */
            if (evb_sweep_move(tx, &s) == 0) {
                o->moved++;

            } else {
                o->failed++;
            }

            evb_arena_destroy(scratch);
            continue;
        }

        sub.w.detail[0] = '\0';

        rc = evb_tx_nest(tx, &one);
        if (rc != 0) {
            p = evb_op_store_error(&sub, rc);

        } else {
            p = evb_close_session(&sub, one, o->bill, &s, s.last_ts,
                                  s.last_energy_wh, timeout, s.stop_ocmf, 1,
                                  NULL);
            if (p != EVB_OK) {
                evb_tx_abort(one);

            } else {
                rc = evb_tx_commit(one);
                if (rc != 0) {
                    sub.w.detail[0] = '\0';
                    p = evb_op_store_error(&sub, rc);
                }
            }
        }

        if (p == EVB_OK) {
            o->swept++;
            evb_arena_destroy(scratch);
            continue;
        }

        snprintf(why, sizeof(why), "%s (%s)", sub.w.detail,
                 evb_problem_info(p)->name);

        /* never retried forever: the mark takes it out of the activity
         * index until a write to the session clears it */
        (void) evb_sweep_mark(&sub, tx, scratch, idle[i].sid, why);
        o->failed++;
        evb_arena_destroy(scratch);
    }

    return EVB_OK;
}


/* the chunk's time under the write lock, for the worker's log */
static evb_problem_e
evb_op_sweep_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    evb_problem_e    p;
    struct timespec  t0, t1;
    evb_op_sweep_t  *o = (evb_op_sweep_t *) w;

    (void) clock_gettime(CLOCK_MONOTONIC, &t0);

    p = evb_sweep_chunk(w, tx);

    (void) clock_gettime(CLOCK_MONOTONIC, &t1);

    o->run_us = (uint64_t) ((t1.tv_sec - t0.tv_sec) * 1000000
                            + (t1.tv_nsec - t0.tv_nsec) / 1000);

    return p;
}


static void
evb_op_void_clear(evb_wop_t *w)
{
    memset(&((evb_op_void_t *) w)->session, 0, sizeof(evb_session_t));
}


int
evb_void_reason_ok(evb_str_t reason)
{
    size_t          i, chars;
    unsigned char   c;

    chars = 0;

    for (i = 0; i < reason.len; i++) {
        c = (unsigned char) reason.data[i];

        if (c < 0x20 || c == 0x7f) {
            return 0;
        }

        /* characters, not bytes: continuation bytes do not count (the
         * JSON reader has checked the UTF-8) */
        if ((c & 0xc0) != 0x80) {
            chars++;
        }
    }

    return chars >= 1 && chars <= EVB_VOID_REASON_MAX;
}


static evb_problem_e
evb_op_void_run(evb_wop_t *w, evb_wtxn_t *tx)
{
    int             rc;
    char            when[32];
    evb_session_t   s;
    evb_problem_e   p;
    evb_op_void_t  *o = (evb_op_void_t *) w;
    evb_op_t       *op = &o->op;

    static const evb_str_t  voided = evb_str_lit("voided");
    static const evb_str_t  nocost = evb_str_lit("the session was voided: "
                                                 "no price, no CDR");

    if (!evb_void_reason_ok(o->reason)) {
        return evb_refuse(op, EVB_P_INVALID_VALUE, "reason: 1 to %d "
                          "printable characters", EVB_VOID_REASON_MAX);
    }

    if (evb_pan_in(o->reason)) {
        return evb_refuse(op, EVB_P_CARD_DATA, "reason: %s",
                          EVB_PAN_REFUSED);
    }

    p = evb_load_named(op, tx, o->charger_id, o->session_id, &s);
    if (p != EVB_OK) {
        return p;
    }

    if (s.state != EVB_SESSION_ACTIVE) {
        when[evb_time_format_rfc3339(s.stopped_at, when)] = '\0';
        return evb_refuse(op, EVB_P_SESSION_STOPPED, "session %.*s was "
                          "%s at %s; only an active session can be voided",
                          (int) s.session_id.len, s.session_id.data,
                          s.void_reason.len ? "voided" : "stopped", when);
    }

    rc = evb_activity_leave(tx, &s);
    if (rc != 0) {
        return evb_op_store_error(op, rc);
    }

    s.state = EVB_SESSION_STOPPED;
    s.stopped_at = s.last_ts;
    s.meter_stop_wh = s.last_energy_wh;
    s.stop_reason = voided;
    s.void_reason = o->reason;
    s.updated_at = op->now;
    s.sweep_error.len = 0;
    evb_bill_unrated(&s, nocost);

    rc = evb_tx_put_session(tx, &s, op->arena, &o->session);
    if (rc == 0) {
        rc = evb_tx_unmark_active(tx, s.sid);
    }

    return rc ? evb_op_store_error(op, rc) : evb_bill_release(op, tx, &s);
}


void
evb_op_start_init(evb_op_start_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_START, evb_op_start_run,
                     evb_op_start_clear, now, a);
}


void
evb_op_readings_init(evb_op_readings_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_READINGS, evb_op_readings_run,
                     evb_op_readings_clear, now, a);
}


void
evb_op_stop_init(evb_op_stop_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_STOP, evb_op_stop_run, evb_op_stop_clear,
                     now, a);
}


void
evb_op_sweep_init(evb_op_sweep_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_SWEEP_IDLE, evb_op_sweep_run,
                     evb_op_sweep_clear, now, a);
}


void
evb_op_void_init(evb_op_void_t *o, evb_msec_t now, evb_arena_t *a)
{
    memset(o, 0, sizeof(*o));
    evb_op_base_init(&o->op, EVB_OP_VOID, evb_op_void_run, evb_op_void_clear,
                     now, a);
}
