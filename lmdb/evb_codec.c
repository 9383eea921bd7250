/*
 * Record encodings of the evbill store (see evb_codec.h).
 *
 * Version 1 layouts ("str" is a 4-byte length and the bytes):
 *
 *   session  u8 ver, u64 sid, str charger_id, str session_id, u8 state,
 *            u32 connector_id, str id_token, u8 token_type, str tariff_id,
 *            u8 flags (1: tariff_from_request), i64 started_at,
 *            i64 stopped_at, str stop_reason, i64 meter_start_wh,
 *            i64 meter_stop_wh, str start_ocmf, str stop_ocmf,
 *            u64 last_seq, i64 last_ts, i64 last_energy_wh,
 *            u64 nreadings, i64 updated_at
 *   reading  u8 ver, u64 seq, i64 timestamp, i64 energy_wh, u8 state,
 *            u8 flags (1: has_power, 2: has_current), i64 power_w,
 *            i64 current_ua, str ocmf
 *   charger  u8 ver, str doc, str tariff_id, str time_zone, u8 retired,
 *            i64 created_at, i64 updated_at
 *   key      u8 ver, str charger_id, str sealed, u8 retired,
 *            i64 created_at, i64 retired_at
 *
 * A later version adds a new version byte and a decoder branch; old
 * records stay readable.
 */

#include <stdlib.h>
#include <string.h>

#include "evb_codec.h"


void
evb_put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


void
evb_put_be64(unsigned char *p, uint64_t v)
{
    evb_put_be32(p, (uint32_t) (v >> 32));
    evb_put_be32(p + 4, (uint32_t) v);
}


uint32_t
evb_get_be32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


uint64_t
evb_get_be64(const unsigned char *p)
{
    return ((uint64_t) evb_get_be32(p) << 32) | evb_get_be32(p + 4);
}


uint64_t
evb_time_key(evb_msec_t t)
{
    /* flipping the sign bit makes unsigned order equal signed order */
    return (uint64_t) t ^ 0x8000000000000000ULL;
}


static void
evb_enc_u8(evb_buf_t *e, unsigned v)
{
    unsigned char  c = (unsigned char) v;

    evb_buf_append(e, &c, 1);
}


static void
evb_enc_u32(evb_buf_t *e, uint32_t v)
{
    unsigned char  b[4];

    evb_put_be32(b, v);
    evb_buf_append(e, b, 4);
}


static void
evb_enc_u64(evb_buf_t *e, uint64_t v)
{
    unsigned char  b[8];

    evb_put_be64(b, v);
    evb_buf_append(e, b, 8);
}


static void
evb_enc_i64(evb_buf_t *e, int64_t v)
{
    evb_enc_u64(e, (uint64_t) v);
}


static void
evb_enc_str(evb_buf_t *e, evb_str_t s)
{
    if (s.len > UINT32_MAX) {
        e->oom = 1;
        return;
    }

    evb_enc_u32(e, (uint32_t) s.len);
    evb_buf_append(e, s.data, s.len);
}


void
evb_enc_session(evb_buf_t *e, const evb_session_t *s)
{
    /* v2 appends the rating fields to v1, v3 the void and sweep marks,
     * v4 the reading log's head and the activity entry's time */
    evb_enc_u8(e, EVB_REC_V4);
    evb_enc_u64(e, s->sid);
    evb_enc_str(e, s->charger_id);
    evb_enc_str(e, s->session_id);
    evb_enc_u8(e, (unsigned) s->state);
    evb_enc_u32(e, s->connector_id);
    evb_enc_str(e, s->id_token);
    evb_enc_u8(e, (unsigned) s->token_type);
    evb_enc_str(e, s->tariff_id);
    evb_enc_u8(e, s->tariff_from_request ? 1 : 0);
    evb_enc_i64(e, s->started_at);
    evb_enc_i64(e, s->stopped_at);
    evb_enc_str(e, s->stop_reason);
    evb_enc_i64(e, s->meter_start_wh);
    evb_enc_i64(e, s->meter_stop_wh);
    evb_enc_str(e, s->start_ocmf);
    evb_enc_str(e, s->stop_ocmf);
    evb_enc_u64(e, s->last_seq);
    evb_enc_i64(e, s->last_ts);
    evb_enc_i64(e, s->last_energy_wh);
    evb_enc_u64(e, s->nreadings);
    evb_enc_i64(e, s->updated_at);
    evb_enc_u32(e, s->tariff_version);
    evb_enc_str(e, s->cost);
    evb_enc_str(e, s->cost_error);
    evb_enc_str(e, s->meter);
    evb_enc_str(e, s->void_reason);
    evb_enc_str(e, s->sweep_error);
    evb_enc_u64(e, s->log_last);
    evb_enc_i64(e, s->activity_at);
}


void
evb_enc_reading(evb_buf_t *e, const evb_reading_t *r)
{
    evb_enc_u8(e, EVB_REC_V1);
    evb_enc_u64(e, r->seq);
    evb_enc_i64(e, r->timestamp);
    evb_enc_i64(e, r->energy_wh);
    evb_enc_u8(e, (unsigned) r->state);
    evb_enc_u8(e, (r->has_power ? 1 : 0) | (r->has_current ? 2 : 0));
    evb_enc_i64(e, r->has_power ? r->power_w : 0);
    evb_enc_i64(e, r->has_current ? r->current_ua : 0);
    evb_enc_str(e, r->ocmf);
}


void
evb_enc_charger(evb_buf_t *e, const evb_charger_t *c)
{
    evb_enc_u8(e, EVB_REC_V1);
    evb_enc_str(e, c->doc);
    evb_enc_str(e, c->tariff_id);
    evb_enc_str(e, c->time_zone);
    evb_enc_u8(e, c->retired ? 1 : 0);
    evb_enc_i64(e, c->created_at);
    evb_enc_i64(e, c->updated_at);
}


void
evb_enc_key(evb_buf_t *e, const evb_key_record_t *k)
{
    evb_enc_u8(e, EVB_REC_V1);
    evb_enc_str(e, k->charger_id);
    evb_enc_str(e, k->sealed);
    evb_enc_u8(e, k->retired ? 1 : 0);
    evb_enc_i64(e, k->created_at);
    evb_enc_i64(e, k->retired_at);
}


/* decoding */

typedef struct {
    const unsigned char  *p;
    const unsigned char  *end;
    evb_arena_t          *arena;
    int                   rc;       /* EVB_DEC_*, sticky */
} evb_dec_t;


static void
evb_dec_init(evb_dec_t *d, evb_arena_t *a, const void *data, size_t len)
{
    d->p = data;
    d->end = d->p + len;
    d->arena = a;
    d->rc = EVB_DEC_OK;
}


static const unsigned char *
evb_dec_take(evb_dec_t *d, size_t n)
{
    const unsigned char  *p;

    if (d->rc != EVB_DEC_OK) {
        return NULL;
    }

    if ((size_t) (d->end - d->p) < n) {
        d->rc = EVB_DEC_CORRUPT;
        return NULL;
    }

    p = d->p;
    d->p += n;

    return p;
}


static unsigned
evb_dec_u8(evb_dec_t *d, unsigned max)
{
    const unsigned char  *p;

    p = evb_dec_take(d, 1);
    if (p == NULL) {
        return 0;
    }

    if (*p > max) {
        d->rc = EVB_DEC_CORRUPT;
        return 0;
    }

    return *p;
}


static uint32_t
evb_dec_u32(evb_dec_t *d)
{
    const unsigned char  *p;

    p = evb_dec_take(d, 4);

    return p ? evb_get_be32(p) : 0;
}


static uint64_t
evb_dec_u64(evb_dec_t *d)
{
    const unsigned char  *p;

    p = evb_dec_take(d, 8);

    return p ? evb_get_be64(p) : 0;
}


static int64_t
evb_dec_i64(evb_dec_t *d)
{
    return (int64_t) evb_dec_u64(d);
}


static evb_str_t
evb_dec_str(evb_dec_t *d)
{
    uint32_t               n;
    evb_str_t              s = { "", 0 };
    const unsigned char   *p;
    char                  *copy;

    n = evb_dec_u32(d);
    p = evb_dec_take(d, n);
    if (p == NULL || n == 0) {
        return s;
    }

    if (d->arena == NULL) {
        /* a view into the value, for a comparison made at once */
        s.data = (const char *) p;
        s.len = n;
        return s;
    }

    copy = evb_arena_strdup(d->arena, (const char *) p, n);
    if (copy == NULL) {
        d->rc = EVB_DEC_NOMEM;
        return s;
    }

    s.data = copy;
    s.len = n;

    return s;
}


static int
evb_dec_done(evb_dec_t *d)
{
    if (d->rc == EVB_DEC_OK && d->p != d->end) {
        d->rc = EVB_DEC_CORRUPT;
    }

    return d->rc;
}


int
evb_dec_session(evb_arena_t *a, const void *data, size_t len,
    evb_session_t *s)
{
    unsigned   version;
    evb_dec_t  d;

    memset(s, 0, sizeof(*s));
    evb_dec_init(&d, a, data, len);

    version = evb_dec_u8(&d, 255);

    if (version < EVB_REC_V1 || version > EVB_REC_V4) {
        return EVB_DEC_CORRUPT;
    }

    s->sid = evb_dec_u64(&d);
    s->charger_id = evb_dec_str(&d);
    s->session_id = evb_dec_str(&d);
    s->state = (evb_session_state_e) evb_dec_u8(&d, EVB_SESSION_STOPPED);
    s->connector_id = evb_dec_u32(&d);
    s->id_token = evb_dec_str(&d);
    s->token_type = (evb_token_type_e) evb_dec_u8(&d, EVB_TOKEN_OTHER);
    s->tariff_id = evb_dec_str(&d);
    s->tariff_from_request = evb_dec_u8(&d, 1);
    s->started_at = evb_dec_i64(&d);
    s->stopped_at = evb_dec_i64(&d);
    s->stop_reason = evb_dec_str(&d);
    s->meter_start_wh = evb_dec_i64(&d);
    s->meter_stop_wh = evb_dec_i64(&d);
    s->start_ocmf = evb_dec_str(&d);
    s->stop_ocmf = evb_dec_str(&d);
    s->last_seq = evb_dec_u64(&d);
    s->last_ts = evb_dec_i64(&d);
    s->last_energy_wh = evb_dec_i64(&d);
    s->nreadings = evb_dec_u64(&d);
    s->updated_at = evb_dec_i64(&d);

    if (version >= EVB_REC_V2) {
        s->tariff_version = evb_dec_u32(&d);
        s->cost = evb_dec_str(&d);
        s->cost_error = evb_dec_str(&d);
        s->meter = evb_dec_str(&d);
    }

    if (version >= EVB_REC_V3) {
        s->void_reason = evb_dec_str(&d);
        s->sweep_error = evb_dec_str(&d);
    }

    if (version >= EVB_REC_V4) {
        s->log_last = evb_dec_u64(&d);
        s->activity_at = evb_dec_i64(&d);

    } else {
        /* schema 2 kept the activity entry at updated_at */
        s->activity_at = s->updated_at;
    }

    if (d.rc == EVB_DEC_OK && s->state < EVB_SESSION_ACTIVE) {
        return EVB_DEC_CORRUPT;
    }

    /*
     * The registers as the writer keeps them: never negative (so any
     * difference of two fits int64, as rendering and rating subtract
     * them) and never going backwards.
     */
    if (d.rc == EVB_DEC_OK
        && (s->meter_start_wh < 0
            || s->last_energy_wh < s->meter_start_wh
            || s->meter_stop_wh < 0
            || (s->state == EVB_SESSION_STOPPED
                && s->meter_stop_wh < s->last_energy_wh)))
    {
        return EVB_DEC_CORRUPT;
    }

    return evb_dec_done(&d);
}


int
evb_dec_reading(evb_arena_t *a, const void *data, size_t len,
    evb_reading_t *r)
{
    unsigned   flags;
    evb_dec_t  d;

    memset(r, 0, sizeof(*r));
    evb_dec_init(&d, a, data, len);

    if (evb_dec_u8(&d, 255) != EVB_REC_V1) {
        return EVB_DEC_CORRUPT;
    }

    r->seq = evb_dec_u64(&d);
    r->timestamp = evb_dec_i64(&d);
    r->energy_wh = evb_dec_i64(&d);
    r->state = (evb_reading_state_e) evb_dec_u8(&d, EVB_READING_PARKED);
    flags = evb_dec_u8(&d, 3);
    r->has_power = (flags & 1) ? 1 : 0;
    r->has_current = (flags & 2) ? 1 : 0;
    r->power_w = evb_dec_i64(&d);
    r->current_ua = evb_dec_i64(&d);
    r->ocmf = evb_dec_str(&d);

    return evb_dec_done(&d);
}


int
evb_dec_charger(evb_arena_t *a, const void *data, size_t len,
    evb_charger_t *c)
{
    evb_dec_t  d;

    memset(c, 0, sizeof(*c));
    evb_dec_init(&d, a, data, len);

    if (evb_dec_u8(&d, 255) != EVB_REC_V1) {
        return EVB_DEC_CORRUPT;
    }

    c->doc = evb_dec_str(&d);
    c->tariff_id = evb_dec_str(&d);
    c->time_zone = evb_dec_str(&d);
    c->retired = evb_dec_u8(&d, 1);
    c->created_at = evb_dec_i64(&d);
    c->updated_at = evb_dec_i64(&d);

    return evb_dec_done(&d);
}


int
evb_dec_key(evb_arena_t *a, const void *data, size_t len,
    evb_key_record_t *k)
{
    evb_dec_t  d;

    memset(k, 0, sizeof(*k));
    evb_dec_init(&d, a, data, len);

    if (evb_dec_u8(&d, 255) != EVB_REC_V1) {
        return EVB_DEC_CORRUPT;
    }

    k->charger_id = evb_dec_str(&d);
    k->sealed = evb_dec_str(&d);
    k->retired = evb_dec_u8(&d, 1);
    k->created_at = evb_dec_i64(&d);
    k->retired_at = evb_dec_i64(&d);

    return evb_dec_done(&d);
}
