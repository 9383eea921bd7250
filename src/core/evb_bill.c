/*
 * Billing a stored session (see evb_bill.h).
 *
 * The meter state (evb_meter_t) is kept as bytes with the session, so a
 * reading costs the same work whether it is the 3rd or the 30,000th; the
 * periods it closes are kept too, so at stop the state is finished
 * (evb_bill_final_state) instead of replaying every reading under the
 * store's write lock.  Replaying from the start (evb_bill_final) goes
 * through the same code, which is what makes the live cost, the CDR and
 * the dry run of the CDR's own periods agree exactly.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evb_bill.h"
#include "evb_tz.h"


#define EVB_BILL_CACHE_SIZE  32


typedef struct {
    char                 id[EVB_ID_MAX + 1];
    size_t               id_len;
    uint32_t             version;
    /* the JSON parsed: an entry made inside a write that was then
     * aborted must not stand for another JSON under the same version */
    char                *json;
    size_t               json_len;
    evb_arena_t         *arena;
    evb_tariff_t        *tariff;
} evb_bill_entry_t;


struct evb_bill_cache_s {
    evb_bill_entry_t     entries[EVB_BILL_CACHE_SIZE];
    size_t               next;            /* round-robin victim */
};


typedef struct {
    evb_arena_t         *arena;
    evb_period_t        *items;
    size_t               n;
    size_t               cap;
    int                  oom;
} evb_bill_periods_t;


evb_bill_cache_t *
evb_bill_cache_create(void)
{
    return calloc(1, sizeof(evb_bill_cache_t));
}


void
evb_bill_cache_free(evb_bill_cache_t *c)
{
    size_t  i;

    if (c == NULL) {
        return;
    }

    for (i = 0; i < EVB_BILL_CACHE_SIZE; i++) {
        if (c->entries[i].arena) {
            evb_arena_destroy(c->entries[i].arena);
        }
    }

    free(c);
}


static evb_problem_e
evb_bill_parse(evb_arena_t *a, const evb_bill_t *b, evb_tariff_t **tariff,
    char *detail, size_t len)
{
    size_t               nerrors;
    evb_json_t          *root;
    evb_problem_e        p;
    evb_tariff_error_t   errors[EVB_TARIFF_ERRORS_MAX];
    char                 err[160];

    if (evb_json_parse(a, b->tariff_json.data, b->tariff_json.len,
                       EVB_JSON_MAX_DEPTH, &root, err, sizeof(err))
        != EVB_JSON_OK)
    {
        snprintf(detail, len, "stored tariff %.*s does not parse: %s",
                 (int) b->tariff_id.len, b->tariff_id.data, err);
        return EVB_P_INTERNAL;
    }

    *tariff = evb_arena_alloc(a, sizeof(evb_tariff_t));
    if (*tariff == NULL) {
        return EVB_P_INTERNAL;
    }

    p = evb_tariff_parse(a, root, *tariff, errors, &nerrors);
    if (p != EVB_OK) {
        snprintf(detail, len, "stored tariff %.*s is invalid: %s: %s",
                 (int) b->tariff_id.len, b->tariff_id.data,
                 nerrors ? errors[0].pointer : "",
                 nerrors ? errors[0].detail : "");
    }

    return p;
}


static evb_problem_e
evb_bill_tariff(evb_arena_t *a, const evb_bill_t *b, evb_tariff_t **tariff,
    char *detail, size_t len)
{
    size_t             i;
    char              *json;
    evb_problem_e      p;
    evb_arena_t       *own;
    evb_bill_entry_t  *e;
    evb_bill_cache_t  *c;

    c = b->cache;

    if (c == NULL || b->tariff_id.len > EVB_ID_MAX) {
        return evb_bill_parse(a, b, tariff, detail, len);
    }

    for (i = 0; i < EVB_BILL_CACHE_SIZE; i++) {
        e = &c->entries[i];

        if (e->tariff && e->version == b->tariff_version
            && e->id_len == b->tariff_id.len
            && memcmp(e->id, b->tariff_id.data, e->id_len) == 0
            && e->json_len == b->tariff_json.len
            && memcmp(e->json, b->tariff_json.data, e->json_len) == 0)
        {
            *tariff = e->tariff;
            return EVB_OK;
        }
    }

    own = evb_arena_create(4096);
    if (own == NULL) {
        return EVB_P_INTERNAL;
    }

    p = evb_bill_parse(own, b, tariff, detail, len);
    if (p != EVB_OK) {
        evb_arena_destroy(own);
        return p;
    }

    json = evb_arena_strdup(own, b->tariff_json.data, b->tariff_json.len);
    if (json == NULL) {
        /* parsed, just not cached */
        goto uncached;
    }

    e = &c->entries[c->next];
    c->next = (c->next + 1) % EVB_BILL_CACHE_SIZE;

    if (e->arena) {
        evb_arena_destroy(e->arena);
    }

    memcpy(e->id, b->tariff_id.data, b->tariff_id.len);
    e->id_len = b->tariff_id.len;
    e->version = b->tariff_version;
    e->json = json;
    e->json_len = b->tariff_json.len;
    e->arena = own;
    e->tariff = *tariff;

    return EVB_OK;

uncached:

    /* the tariff lives in own: parse again into the caller's arena */
    evb_arena_destroy(own);

    return evb_bill_parse(a, b, tariff, detail, len);
}


static evb_problem_e
evb_bill_ctx(evb_arena_t *a, const evb_bill_t *b, evb_rate_ctx_t *ctx,
    evb_tariff_t **tariff, char *detail, size_t len)
{
    evb_problem_e    p;
    const evb_tz_t  *tz;
    char             err[160];

    if (b->tariff_json.len == 0) {
        snprintf(detail, len, "tariff %.*s is not defined",
                 (int) b->tariff_id.len, b->tariff_id.data);
        return EVB_P_UNKNOWN_TARIFF;
    }

    p = evb_bill_tariff(a, b, tariff, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    tz = evb_tz_get(b->time_zone.len ? b->time_zone.data : "UTC", err,
                    sizeof(err));
    if (tz == NULL) {
        snprintf(detail, len, "time zone: %s", err);
        return EVB_P_UNKNOWN_TIME_ZONE;
    }

    memset(ctx, 0, sizeof(evb_rate_ctx_t));
    ctx->tariffs = *tariff;
    ctx->ntariffs = 1;
    ctx->tz = tz;
    ctx->policy = b->conf->policy;

    return EVB_OK;
}


static evb_problem_e
evb_bill_meter_in(const evb_str_t *meter, evb_meter_t *m, char *detail,
    size_t len)
{
    if (meter->len != sizeof(evb_meter_t)) {
        snprintf(detail, len, "the session has no rating state of this "
                 "build (%zu bytes)", meter->len);
        return EVB_P_INTERNAL;
    }

    memcpy(m, meter->data, sizeof(evb_meter_t));

    /* a session open across an upgrade that changed the state's layout:
     * the stop rates it again from its readings */
    if (!evb_rate_state_current(&m->rate)) {
        snprintf(detail, len, "the session's rating state is from an "
                 "earlier evbill build; its cost is computed again from its "
                 "readings at stop");
        return EVB_P_INTERNAL;
    }

    return EVB_OK;
}


static evb_problem_e
evb_bill_meter_out(evb_arena_t *a, const evb_meter_t *m, evb_str_t *meter)
{
    char  *p;

    p = evb_arena_alloc(a, sizeof(evb_meter_t));
    if (p == NULL) {
        return EVB_P_INTERNAL;
    }

    memcpy(p, m, sizeof(evb_meter_t));
    meter->data = p;
    meter->len = sizeof(evb_meter_t);

    return EVB_OK;
}


static evb_problem_e
evb_bill_cost(evb_arena_t *a, const evb_bill_t *b,
    const evb_rate_result_t *res, evb_str_t *cost)
{
    evb_buf_t  out;

    evb_buf_init(&out);
    evb_bill_render_cost(&out, b, res);

    if (out.oom) {
        evb_buf_free(&out);
        return EVB_P_INTERNAL;
    }

    cost->data = evb_arena_strdup(a, out.data, out.len);
    cost->len = out.len;
    evb_buf_free(&out);

    return cost->data ? EVB_OK : EVB_P_INTERNAL;
}


static evb_problem_e
evb_bill_meter_init(evb_meter_t *m, const evb_rate_ctx_t *ctx,
    const evb_bill_t *b, const evb_session_t *s, char *detail, size_t len)
{
    evb_problem_e  p;

    memset(m, 0, sizeof(evb_meter_t));

    p = evb_meter_init(m, ctx, s->started_at, s->meter_start_wh,
                       b->tariff_id);
    if (p == EVB_P_TARIFF_INVALID) {
        snprintf(detail, len, "tariff %.*s has more than %d billed lines "
                 "(dimension, price, VAT); store a new version",
                 (int) b->tariff_id.len, b->tariff_id.data,
                 EVB_RATE_LINES_MAX);

    } else if (p != EVB_OK) {
        snprintf(detail, len, "tariff %.*s is not valid at the session "
                 "start", (int) b->tariff_id.len, b->tariff_id.data);
    }

    return p;
}


/* The live price at the meter's last point, and the state to store. */
static evb_problem_e
evb_bill_live(evb_arena_t *a, const evb_bill_t *b, const evb_meter_t *m,
    const evb_rate_ctx_t *ctx, evb_str_t *meter, evb_str_t *cost,
    char *detail, size_t len)
{
    evb_problem_e       p;
    evb_rate_result_t   res;

    p = evb_meter_cost(m, ctx, &res);
    if (p != EVB_OK) {
        snprintf(detail, len, "the session could not be rated");
        return p;
    }

    p = evb_bill_cost(a, b, &res, cost);
    if (p != EVB_OK) {
        return p;
    }

    return evb_bill_meter_out(a, m, meter);
}


evb_problem_e
evb_bill_start(evb_arena_t *a, const evb_bill_t *b, const evb_session_t *s,
    evb_str_t *meter, evb_str_t *cost, char *detail, size_t len)
{
    evb_meter_t         m;
    evb_problem_e       p;
    evb_tariff_t       *tariff;
    evb_rate_ctx_t      ctx;

    p = evb_bill_ctx(a, b, &ctx, &tariff, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    p = evb_bill_meter_init(&m, &ctx, b, s, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    return evb_bill_live(a, b, &m, &ctx, meter, cost, detail, len);
}


/* a closed period, encoded for the store, appended to closed */
static void
evb_bill_closed_cb(void *data, const evb_period_t *p, evb_msec_t end)
{
    evb_str_t           enc, *items;
    evb_bill_closed_t  *cl = data;

    (void) end;

    if (cl->oom) {
        return;
    }

    if (evb_bill_period_enc(cl->arena, p, &enc) != 0) {
        cl->oom = 1;
        return;
    }

    if (cl->n == cl->cap) {
        cl->cap = cl->cap ? 2 * cl->cap : 8;
        items = evb_arena_alloc(cl->arena, cl->cap * sizeof(evb_str_t));
        if (items == NULL) {
            cl->oom = 1;
            return;
        }

        if (cl->n) {
            memcpy(items, cl->items, cl->n * sizeof(evb_str_t));
        }

        cl->items = items;
    }

    cl->items[cl->n++] = enc;
}


evb_problem_e
evb_bill_readings(evb_arena_t *a, const evb_bill_t *b, evb_str_t *meter,
    const evb_reading_t *r, size_t n, evb_str_t *cost,
    evb_bill_closed_t *closed, char *detail, size_t len)
{
    size_t              i;
    evb_meter_t         m;
    evb_problem_e       p;
    evb_tariff_t       *tariff;
    evb_rate_ctx_t      ctx;

    p = evb_bill_meter_in(meter, &m, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    p = evb_bill_ctx(a, b, &ctx, &tariff, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    if (closed) {
        memset(closed, 0, sizeof(evb_bill_closed_t));
        closed->arena = a;
        closed->first = m.nperiods;
    }

    for (i = 0; i < n; i++) {
        p = evb_meter_reading(&m, &ctx, &r[i],
                              closed ? evb_bill_closed_cb : NULL, closed);
        if (p == EVB_P_SESSION_LIMIT) {
            snprintf(detail, len, "seq %llu would cut the session's price "
                     "into more than %llu charging periods "
                     "(evbill_session_max_periods); stop the session and "
                     "start a new one", (unsigned long long) r[i].seq,
                     (unsigned long long) ctx.policy.max_periods);
            return p;
        }

        if (p != EVB_OK) {
            snprintf(detail, len, "seq %llu could not be rated",
                     (unsigned long long) r[i].seq);
            return p;
        }
    }

    if (closed && closed->oom) {
        snprintf(detail, len, "out of memory");
        return EVB_P_INTERNAL;
    }

    return evb_bill_live(a, b, &m, &ctx, meter, cost, detail, len);
}


static void
evb_bill_collect(void *data, const evb_period_t *p, evb_msec_t end)
{
    evb_bill_periods_t  *ps = data;
    evb_period_t        *items;

    if (ps->oom) {
        return;
    }

    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? 2 * ps->cap : 16;
        items = evb_arena_alloc(ps->arena, ps->cap * sizeof(evb_period_t));
        if (items == NULL) {
            ps->oom = 1;
            return;
        }

        if (ps->n) {
            memcpy(items, ps->items, ps->n * sizeof(evb_period_t));
        }

        ps->items = items;
    }

    ps->items[ps->n++] = *p;
}


/*
 * The end of both ways to the final price: m holds the periods closed
 * so far (also in ps), the stop closes the rest; then the rounded bill
 * and the CDR.
 */
static evb_problem_e
evb_bill_finish(evb_arena_t *a, const evb_bill_t *b, const evb_session_t *s,
    const evb_charger_t *c, const evb_rate_ctx_t *ctx, evb_meter_t *m,
    evb_bill_periods_t *ps, evb_str_t *cost, evb_str_t *cdr,
    evb_rate_result_t *res, evb_bill_detail_t *bill, char *detail,
    size_t len)
{
    evb_buf_t      out;
    evb_cdr_t      doc;
    evb_problem_e  p;
    char           id[40];

    p = evb_meter_finish(m, ctx, s->stopped_at, s->meter_stop_wh,
                         evb_bill_collect, ps, res);
    if (p == EVB_P_SESSION_LIMIT) {
        snprintf(detail, len, "the session's price would be cut into more "
                 "than %llu charging periods (evbill_session_max_periods)",
                 (unsigned long long) ctx->policy.max_periods);
        return p;
    }

    if (p == EVB_OK && !ps->oom) {
        /* the same totals, with the rounded bill line by line */
        p = evb_rate_result_detail(&m->rate, ctx, res, NULL, bill);
    }

    if (p != EVB_OK || ps->oom) {
        snprintf(detail, len, "the session could not be rated at stop");
        return ps->oom ? EVB_P_INTERNAL : p;
    }

    p = evb_bill_cost(a, b, res, cost);
    if (p != EVB_OK) {
        return p;
    }

    /* the rounded bill, line by line, for the invoice */
    if (b->out != NULL) {
        b->out->result = *res;
        b->out->detail = *bill;
        b->out->set = 1;
    }

    /* OCPI CDR ids are CiString(36) (EVB and 20 digits at most): the
     * store's session number is unique and short, and the CDR also
     * carries session_id; evbill_node_id (<= 8) keeps the ids of several
     * edge nodes apart */
    if (b->conf->node_id.len) {
        snprintf(id, sizeof(id), "%.*s-EVB%llu",
                 (int) b->conf->node_id.len, b->conf->node_id.data,
                 (unsigned long long) s->sid);

    } else {
        snprintf(id, sizeof(id), "EVB%llu", (unsigned long long) s->sid);
    }

    if (b->out != NULL) {
        memcpy(b->out->cdr_id, id, sizeof(id));
    }

    memset(&doc, 0, sizeof(evb_cdr_t));
    doc.country_code = b->conf->cpo_country;
    doc.party_id = b->conf->cpo_party;
    doc.id.data = id;
    doc.id.len = strlen(id);
    doc.session = s;
    doc.charger = c;
    doc.start = b->start;
    doc.invoice_reference_id = b->invoice_reference_id;
    doc.tariff_json = b->tariff_json;
    doc.periods = ps->items;
    doc.nperiods = ps->n;
    doc.end = s->stopped_at;
    doc.result = res;
    doc.last_updated = s->updated_at;

    evb_buf_init(&out);

    if (evb_cdr_render(&out, a, &doc) != 0 || out.oom) {
        evb_buf_free(&out);
        snprintf(detail, len, "the CDR could not be rendered from the "
                 "charger record");
        return EVB_P_INTERNAL;
    }

    cdr->data = evb_arena_strdup(a, out.data, out.len);
    cdr->len = out.len;
    evb_buf_free(&out);

    return cdr->data ? EVB_OK : EVB_P_INTERNAL;
}


evb_problem_e
evb_bill_final(evb_arena_t *a, const evb_bill_t *b, const evb_session_t *s,
    const evb_charger_t *c, const evb_reading_t *r, size_t n,
    evb_str_t *cost, evb_str_t *cdr, evb_rate_result_t *res,
    evb_bill_detail_t *bill, char *detail, size_t len)
{
    size_t               i;
    evb_meter_t          m;
    evb_problem_e        p;
    evb_tariff_t        *tariff;
    evb_rate_ctx_t       ctx;
    evb_bill_periods_t   ps;

    p = evb_bill_ctx(a, b, &ctx, &tariff, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    memset(&ps, 0, sizeof(evb_bill_periods_t));
    ps.arena = a;

    p = evb_bill_meter_init(&m, &ctx, b, s, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    for (i = 0; i < n; i++) {
        p = evb_meter_reading(&m, &ctx, &r[i], evb_bill_collect, &ps);
        if (p == EVB_P_SESSION_LIMIT) {
            snprintf(detail, len, "the session's price would be cut into "
                     "more than %llu charging periods "
                     "(evbill_session_max_periods)",
                     (unsigned long long) ctx.policy.max_periods);
            return p;
        }

        if (p != EVB_OK) {
            snprintf(detail, len, "seq %llu could not be rated",
                     (unsigned long long) r[i].seq);
            return p;
        }
    }

    return evb_bill_finish(a, b, s, c, &ctx, &m, &ps, cost, cdr, res, bill,
                           detail, len);
}


int
evb_bill_state_usable(const evb_session_t *s, size_t n)
{
    evb_meter_t  m;

    if (s->meter.len != sizeof(evb_meter_t)) {
        return 0;
    }

    memcpy(&m, s->meter.data, sizeof(evb_meter_t));

    return evb_meter_current(&m) && m.nperiods == n;
}


evb_problem_e
evb_bill_final_state(evb_arena_t *a, const evb_bill_t *b,
    const evb_session_t *s, const evb_charger_t *c, const evb_str_t *closed,
    size_t n, evb_str_t *cost, evb_str_t *cdr, evb_rate_result_t *res,
    evb_bill_detail_t *bill, char *detail, size_t len)
{
    size_t               i;
    evb_meter_t          m;
    evb_period_t         one;
    evb_problem_e        p;
    evb_tariff_t        *tariff;
    evb_rate_ctx_t       ctx;
    evb_bill_periods_t   ps;

    if (!evb_bill_state_usable(s, n)) {
        snprintf(detail, len, "the session's rating state is incomplete");
        return EVB_P_INTERNAL;
    }

    p = evb_bill_ctx(a, b, &ctx, &tariff, detail, len);
    if (p != EVB_OK) {
        return p;
    }

    memcpy(&m, s->meter.data, sizeof(evb_meter_t));

    memset(&ps, 0, sizeof(evb_bill_periods_t));
    ps.arena = a;

    for (i = 0; i < n; i++) {
        if (evb_bill_period_dec(a, closed[i], &one) != 0) {
            snprintf(detail, len, "stored charging period %zu does not "
                     "decode", i);
            return EVB_P_INTERNAL;
        }

        evb_bill_collect(&ps, &one, 0);
    }

    return evb_bill_finish(a, b, s, c, &ctx, &m, &ps, cost, cdr, res, bill,
                           detail, len);
}


/* a period: version, BE64 fields, the flags, the min/max present, the
 * tariff id (len 0: the session's) */

#define EVB_PERIOD_V1  1

static unsigned char *
evb_bill_be64(unsigned char *q, int64_t v)
{
    int       i;
    uint64_t  u;

    u = (uint64_t) v;

    for (i = 7; i >= 0; i--) {
        q[i] = (unsigned char) u;
        u >>= 8;
    }

    return q + 8;
}


static const unsigned char *
evb_bill_get64(const unsigned char *q, int64_t *v)
{
    int       i;
    uint64_t  u;

    u = 0;

    for (i = 0; i < 8; i++) {
        u = (u << 8) | q[i];
    }

    *v = (int64_t) u;

    return q + 8;
}


int
evb_bill_period_enc(evb_arena_t *a, const evb_period_t *p, evb_str_t *out)
{
    unsigned        flags;
    unsigned char  *buf, *q;

    if (p->tariff_id.len > 255) {
        return -1;
    }

    buf = evb_arena_alloc(a, 2 + 9 * 8 + 1 + p->tariff_id.len);
    if (buf == NULL) {
        return -1;
    }

    flags = (p->has_min_current ? 1 : 0) | (p->has_max_current ? 2 : 0)
            | (p->has_min_power ? 4 : 0) | (p->has_max_power ? 8 : 0);

    q = buf;
    *q++ = EVB_PERIOD_V1;
    q = evb_bill_be64(q, p->start);
    q = evb_bill_be64(q, p->energy);
    q = evb_bill_be64(q, p->time);
    q = evb_bill_be64(q, p->parking);
    q = evb_bill_be64(q, p->reservation);
    *q++ = (unsigned char) flags;

    if (flags & 1) {
        q = evb_bill_be64(q, p->min_current);
    }

    if (flags & 2) {
        q = evb_bill_be64(q, p->max_current);
    }

    if (flags & 4) {
        q = evb_bill_be64(q, p->min_power);
    }

    if (flags & 8) {
        q = evb_bill_be64(q, p->max_power);
    }

    *q++ = (unsigned char) p->tariff_id.len;

    /* the session's own tariff: no id, and perhaps no pointer */
    if (p->tariff_id.len) {
        memcpy(q, p->tariff_id.data, p->tariff_id.len);
        q += p->tariff_id.len;
    }

    out->data = (const char *) buf;
    out->len = (size_t) (q - buf);

    return 0;
}


int
evb_bill_period_dec(evb_arena_t *a, evb_str_t in, evb_period_t *p)
{
    size_t                need, i;
    unsigned              flags;
    const unsigned char  *q, *end;
    char                 *id;

    memset(p, 0, sizeof(evb_period_t));

    q = (const unsigned char *) in.data;
    end = q + in.len;

    if (in.len < 1 + 5 * 8 + 1 + 1 || q[0] != EVB_PERIOD_V1) {
        return -1;
    }

    q++;
    q = evb_bill_get64(q, &p->start);
    q = evb_bill_get64(q, &p->energy);
    q = evb_bill_get64(q, &p->time);
    q = evb_bill_get64(q, &p->parking);
    q = evb_bill_get64(q, &p->reservation);

    flags = *q++;
    if (flags > 15) {
        return -1;
    }

    need = 0;
    for (i = 0; i < 4; i++) {
        need += (flags >> i) & 1;
    }

    if ((size_t) (end - q) < need * 8 + 1) {
        return -1;
    }

    p->has_min_current = (flags & 1) ? 1 : 0;
    p->has_max_current = (flags & 2) ? 1 : 0;
    p->has_min_power = (flags & 4) ? 1 : 0;
    p->has_max_power = (flags & 8) ? 1 : 0;

    if (flags & 1) {
        q = evb_bill_get64(q, &p->min_current);
    }

    if (flags & 2) {
        q = evb_bill_get64(q, &p->max_current);
    }

    if (flags & 4) {
        q = evb_bill_get64(q, &p->min_power);
    }

    if (flags & 8) {
        q = evb_bill_get64(q, &p->max_power);
    }

    if ((size_t) (end - q) != 1u + *q) {
        return -1;
    }

    if (*q) {
        id = evb_arena_strdup(a, (const char *) q + 1, *q);
        if (id == NULL) {
            return -1;
        }

        p->tariff_id.data = id;
        p->tariff_id.len = *q;
    }

    return 0;
}


static void
evb_bill_quantity(evb_buf_t *out, const char *name, int64_t v,
    unsigned scale)
{
    evb_buf_appends(out, ",\"");
    evb_buf_appends(out, name);
    evb_buf_appends(out, "\":");
    evb_buf_append_decimal(out, v, scale, 0);
}


/* us as hours at 9 decimals, half up: as the CDR prints them, so the live
 * cost and the CDR show the same durations */
static void
evb_bill_hours(evb_buf_t *out, const char *name, int64_t us)
{
    int64_t  v;

    if (evb_div_round((evb_i128_t) us * 10, 36, EVB_ROUND_HALF_UP, &v) != 0) {
        v = 0;                      /* |us| < 2^63: cannot happen */
    }

    evb_bill_quantity(out, name, v, 9);
}


static void
evb_bill_amount(evb_buf_t *out, const char *name, const evb_amount_t *am,
    unsigned min_decimals)
{
    evb_buf_appends(out, ",\"");
    evb_buf_appends(out, name);
    evb_buf_appends(out, "\":");
    evb_render_amount(out, am, min_decimals);
}


void
evb_bill_render_cost(evb_buf_t *out, const evb_bill_t *b,
    const evb_rate_result_t *res)
{
    unsigned  dec;

    dec = res->exponent > 0 ? (unsigned) res->exponent : 0;

    evb_buf_appends(out, "{\"currency\":");
    evb_buf_append_json_str(out, res->currency, strlen(res->currency));
    evb_buf_appends(out, ",\"tariff_id\":");
    evb_buf_append_json_str(out, b->tariff_id.data, b->tariff_id.len);
    evb_buf_appends(out, ",\"tariff_version\":");
    evb_buf_append_u64(out, b->tariff_version);

    evb_bill_amount(out, "total_cost", &res->total_cost, 0);
    evb_bill_amount(out, "total_energy_cost", &res->total_energy_cost, 0);
    evb_bill_amount(out, "total_time_cost", &res->total_time_cost, 0);
    evb_bill_amount(out, "total_parking_cost", &res->total_parking_cost, 0);
    evb_bill_amount(out, "total_fixed_cost", &res->total_fixed_cost, 0);
    evb_bill_amount(out, "total_reservation_cost",
                    &res->total_reservation_cost, 0);

    /* kWh from 10^-9 kWh; hours are rounded to 6 decimals for display
     * only (microseconds are not a finite decimal of hours) */
    evb_bill_quantity(out, "total_energy", res->total_energy, 9);
    evb_bill_hours(out, "total_time", res->total_time);
    evb_bill_hours(out, "total_parking_time", res->total_parking_time);

    evb_buf_appends(out, ",\"rounded\":{\"total_cost\":");
    evb_render_amount(out, &res->rounded_cost, dec);
    evb_bill_amount(out, "total_energy_cost", &res->rounded_energy_cost,
                    dec);
    evb_bill_amount(out, "total_time_cost", &res->rounded_time_cost, dec);
    evb_bill_amount(out, "total_parking_cost", &res->rounded_parking_cost,
                    dec);
    evb_bill_amount(out, "total_fixed_cost", &res->rounded_fixed_cost, dec);
    evb_bill_amount(out, "total_reservation_cost",
                    &res->rounded_reservation_cost, dec);
    evb_buf_appends(out, "}}");
}
