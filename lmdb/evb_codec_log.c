/*
 * Private to lmdb/: the compact records of schema 3 (see evb_codec.h),
 * written on every commit that carries readings, so their size is the
 * store's size per reading and part of the pages each commit writes.
 *
 * Integers are LEB128 varints (signed ones zigzag-coded); a string is
 * a varint length and its bytes.  Decoding checks every length against
 * the value's end, every enum against its range, that a varint has at
 * most 10 bytes, and that nothing trails the record.
 */

#include <string.h>

#include "evb_codec.h"


#define EVB_LOG_V1         1
#define EVB_LIVE_V1        1

/* a rating state is a few KB at most (evb_meter_t) */
#define EVB_ZRLE_MAX       65536


static void
evb_enc_uv(evb_buf_t *e, uint64_t v)
{
    size_t         n;
    unsigned char  b[10];

    n = 0;

    while (v >= 0x80) {
        b[n++] = (unsigned char) (v | 0x80);
        v >>= 7;
    }

    b[n++] = (unsigned char) v;

    evb_buf_append(e, b, n);
}


static void
evb_enc_sv(evb_buf_t *e, int64_t v)
{
    evb_enc_uv(e, ((uint64_t) v << 1) ^ (uint64_t) (v >> 63));
}


static void
evb_enc_vstr(evb_buf_t *e, evb_str_t s)
{
    evb_enc_uv(e, s.len);
    evb_buf_append(e, s.data, s.len);
}


/* bytes as (zeros, literals, the literals) runs: a rating state is
 * mostly zero (unused billed lines) */
static void
evb_enc_zrle(evb_buf_t *e, evb_str_t s)
{
    size_t                i, z, l;
    const unsigned char  *p;

    static const unsigned char  zeros[8];

    p = (const unsigned char *) s.data;

    evb_enc_uv(e, s.len);

    i = 0;

    while (i < s.len) {
        z = 0;

        /* eight at a time through the long zero runs */
        while (i + z + 8 <= s.len && memcmp(p + i + z, zeros, 8) == 0) {
            z += 8;
        }

        while (i + z < s.len && p[i + z] == 0) {
            z++;
        }

        l = 0;
        /* a literal run ends at 4 zeros in a row, worth a new run */
        while (i + z + l < s.len) {
            if (p[i + z + l] == 0 && i + z + l + 4 <= s.len
                && memcmp(p + i + z + l, "\0\0\0\0", 4) == 0)
            {
                break;
            }

            l++;
        }

        evb_enc_uv(e, z);
        evb_enc_uv(e, l);
        evb_buf_append(e, p + i + z, l);

        i += z + l;
    }
}


/*
 * The live cost (JSON, rewritten with every commit of readings) with
 * its member names as one byte each: a fixed dictionary of what the
 * cost renderer writes (src/core/evb_bill.c), longest first so that a
 * name is not taken for its prefix.  Byte 0x80 + i stands for entry i;
 * any other byte >= 0x80 is escaped by 0xff.  Any text round-trips;
 * a renderer that changes only costs the saving.
 */
#define evb_word(s)  { s, sizeof(s) - 1 }

static const struct {
    const char  *text;
    size_t       len;
} evb_cost_words[] = {
    evb_word(",\"rounded\":{\"total_cost\":{\"excl_vat\":"),
    evb_word(",\"total_reservation_cost\":{\"excl_vat\":"),
    evb_word(",\"total_parking_cost\":{\"excl_vat\":"),
    evb_word(",\"total_energy_cost\":{\"excl_vat\":"),
    evb_word(",\"total_fixed_cost\":{\"excl_vat\":"),
    evb_word(",\"total_time_cost\":{\"excl_vat\":"),
    evb_word(",\"total_cost\":{\"excl_vat\":"),
    evb_word(",\"total_parking_time\":"),
    evb_word(",\"tariff_version\":"),
    evb_word(",\"total_energy\":"),
    evb_word("{\"currency\":\"EUR\""),
    evb_word(",\"total_time\":"),
    evb_word(",\"tariff_id\":"),
    evb_word("{\"currency\":"),
    evb_word(",\"incl_vat\":"),
    evb_word("}}}"),
    evb_word("}}"),
    evb_word(":0}"),
};

#define EVB_COST_WORDS  (sizeof(evb_cost_words) / sizeof(evb_cost_words[0]))
#define EVB_COST_ESC    0xff


static void
evb_enc_cost(evb_buf_t *e, evb_str_t s)
{
    size_t          i, w, wl, run;
    unsigned char   c;
    evb_buf_t       t;

    static const unsigned char  esc = EVB_COST_ESC;

    evb_buf_init(&t);

    /* plain bytes go out in runs, [run, i) */
    run = 0;

    for (i = 0; i < s.len; /* void */) {
        c = (unsigned char) s.data[i];

        if (c == '{' || c == ',' || c == '}' || c == ':') {
            for (w = 0; w < EVB_COST_WORDS; w++) {
                wl = evb_cost_words[w].len;

                /* the second byte first: it differs between most */
                if (wl <= s.len - i
                    && s.data[i + 1] == evb_cost_words[w].text[1]
                    && memcmp(s.data + i, evb_cost_words[w].text, wl) == 0)
                {
                    break;
                }
            }

            if (w < EVB_COST_WORDS) {
                evb_buf_append(&t, s.data + run, i - run);
                c = (unsigned char) (0x80 + w);
                evb_buf_append(&t, &c, 1);
                i += wl;
                run = i;
                continue;
            }
        }

        if (c >= 0x80) {
            evb_buf_append(&t, s.data + run, i - run);
            evb_buf_append(&t, &esc, 1);
            run = i;
        }

        i++;
    }

    /* an empty cost has no data pointer to offset */
    if (s.len > run) {
        evb_buf_append(&t, s.data + run, s.len - run);
    }

    if (t.oom) {
        e->oom = 1;

    } else {
        evb_enc_uv(e, t.len);
        evb_buf_append(e, t.data, t.len);
    }

    evb_buf_free(&t);
}


typedef struct {
    const unsigned char  *p;
    const unsigned char  *end;
    evb_arena_t          *arena;
    int                   rc;
} evb_vdec_t;


static uint64_t
evb_dec_uv(evb_vdec_t *d)
{
    unsigned  shift;
    uint64_t  v, b;

    v = 0;

    for (shift = 0; shift < 70; shift += 7) {
        if (d->rc != EVB_DEC_OK || d->p == d->end) {
            d->rc = EVB_DEC_CORRUPT;
            return 0;
        }

        b = *d->p++;

        if (shift == 63 && b > 1) {
            break;                  /* more than 64 bits */
        }

        v |= (b & 0x7f) << shift;

        if (!(b & 0x80)) {
            return v;
        }
    }

    d->rc = EVB_DEC_CORRUPT;

    return 0;
}


static int64_t
evb_dec_sv(evb_vdec_t *d)
{
    uint64_t  v;

    v = evb_dec_uv(d);

    return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}


static unsigned
evb_dec_byte(evb_vdec_t *d, unsigned max)
{
    unsigned  v;

    if (d->rc != EVB_DEC_OK || d->p == d->end) {
        d->rc = EVB_DEC_CORRUPT;
        return 0;
    }

    v = *d->p++;

    if (v > max) {
        d->rc = EVB_DEC_CORRUPT;
        return 0;
    }

    return v;
}


static evb_str_t
evb_dec_vstr(evb_vdec_t *d)
{
    uint64_t    n;
    char       *copy;
    evb_str_t   s = { "", 0 };

    n = evb_dec_uv(d);

    if (d->rc != EVB_DEC_OK || n > (uint64_t) (d->end - d->p)) {
        d->rc = EVB_DEC_CORRUPT;
        return s;
    }

    if (n == 0) {
        return s;
    }

    if (d->arena == NULL) {
        /* a view, for a comparison made at once */
        s.data = (const char *) d->p;

    } else {
        copy = evb_arena_strdup(d->arena, (const char *) d->p, n);
        if (copy == NULL) {
            d->rc = EVB_DEC_NOMEM;
            return s;
        }

        s.data = copy;
    }

    s.len = n;
    d->p += n;

    return s;
}


static evb_str_t
evb_dec_cost(evb_vdec_t *d)
{
    size_t                 n, i, len;
    unsigned               c;
    const unsigned char   *p;
    char                  *out;
    evb_str_t              s = { "", 0 };

    n = (size_t) evb_dec_uv(d);

    if (d->rc != EVB_DEC_OK || n > (size_t) (d->end - d->p)
        || d->arena == NULL)
    {
        d->rc = (d->rc == EVB_DEC_NOMEM) ? d->rc : EVB_DEC_CORRUPT;
        return s;
    }

    p = d->p;
    d->p += n;

    if (n == 0) {
        return s;
    }

    /* the length first, then the bytes */
    len = 0;

    for (i = 0; i < n; i++) {
        c = p[i];

        if (c == EVB_COST_ESC) {
            if (i + 1 == n || p[i + 1] < 0x80) {
                d->rc = EVB_DEC_CORRUPT;
                return s;
            }

            i++;
            len++;

        } else if (c >= 0x80) {
            if (c - 0x80 >= EVB_COST_WORDS) {
                d->rc = EVB_DEC_CORRUPT;
                return s;
            }

            len += evb_cost_words[c - 0x80].len;

        } else {
            len++;
        }
    }

    out = evb_arena_alloc(d->arena, len + 1);
    if (out == NULL) {
        d->rc = EVB_DEC_NOMEM;
        return s;
    }

    len = 0;

    for (i = 0; i < n; i++) {
        c = p[i];

        if (c == EVB_COST_ESC) {
            out[len++] = (char) p[++i];

        } else if (c >= 0x80) {
            memcpy(out + len, evb_cost_words[c - 0x80].text,
                   evb_cost_words[c - 0x80].len);
            len += evb_cost_words[c - 0x80].len;

        } else {
            out[len++] = (char) c;
        }
    }

    out[len] = '\0';

    s.data = out;
    s.len = len;

    return s;
}


static evb_str_t
evb_dec_zrle(evb_vdec_t *d)
{
    size_t          i;
    uint64_t        n, z, l;
    unsigned char  *out;
    evb_str_t       s = { "", 0 };

    n = evb_dec_uv(d);

    if (d->rc != EVB_DEC_OK || n > EVB_ZRLE_MAX || d->arena == NULL) {
        d->rc = (d->rc == EVB_DEC_NOMEM) ? d->rc : EVB_DEC_CORRUPT;
        return s;
    }

    if (n == 0) {
        return s;
    }

    out = evb_arena_alloc(d->arena, n);
    if (out == NULL) {
        d->rc = EVB_DEC_NOMEM;
        return s;
    }

    i = 0;

    while (i < n) {
        z = evb_dec_uv(d);
        l = evb_dec_uv(d);

        if (d->rc != EVB_DEC_OK || z > n - i || l > n - i - z
            || l > (uint64_t) (d->end - d->p) || z + l == 0)
        {
            d->rc = EVB_DEC_CORRUPT;
            return s;
        }

        memset(out + i, 0, z);
        memcpy(out + i + z, d->p, l);
        d->p += l;
        i += z + l;
    }

    s.data = (const char *) out;
    s.len = n;

    return s;
}


static int
evb_vdec_done(evb_vdec_t *d)
{
    if (d->rc == EVB_DEC_OK && d->p != d->end) {
        d->rc = EVB_DEC_CORRUPT;
    }

    return d->rc;
}


void
evb_enc_log_reading(evb_buf_t *e, uint64_t sid, uint64_t prev, uint64_t rno,
    const evb_reading_t *r)
{
    unsigned char  c;

    c = EVB_LOG_V1;
    evb_buf_append(e, &c, 1);

    evb_enc_uv(e, sid);
    /* the distance back, small when sessions interleave */
    evb_enc_uv(e, prev ? rno - prev : 0);
    evb_enc_uv(e, r->seq);
    evb_enc_sv(e, r->timestamp);
    evb_enc_sv(e, r->energy_wh);

    c = (unsigned char) ((unsigned) r->state
                         | (r->has_power ? 0x10 : 0)
                         | (r->has_current ? 0x20 : 0));
    evb_buf_append(e, &c, 1);

    if (r->has_power) {
        evb_enc_sv(e, r->power_w);
    }

    if (r->has_current) {
        evb_enc_sv(e, r->current_ua);
    }

    evb_enc_vstr(e, r->ocmf);
}


int
evb_dec_log_reading(evb_arena_t *a, const void *data, size_t len,
    uint64_t rno, uint64_t *sid, uint64_t *prev, evb_reading_t *r)
{
    unsigned    c;
    uint64_t    back;
    evb_vdec_t  d;

    memset(r, 0, sizeof(*r));

    d.p = data;
    d.end = d.p + len;
    d.arena = a;
    d.rc = EVB_DEC_OK;

    if (evb_dec_byte(&d, 255) != EVB_LOG_V1) {
        return EVB_DEC_CORRUPT;
    }

    *sid = evb_dec_uv(&d);
    back = evb_dec_uv(&d);
    r->seq = evb_dec_uv(&d);
    r->timestamp = evb_dec_sv(&d);
    r->energy_wh = evb_dec_sv(&d);

    c = evb_dec_byte(&d, 0x3f);
    if ((c & 0x0f) > EVB_READING_PARKED) {
        return EVB_DEC_CORRUPT;
    }

    r->state = (evb_reading_state_e) (c & 0x0f);
    r->has_power = (c & 0x10) ? 1 : 0;
    r->has_current = (c & 0x20) ? 1 : 0;

    if (r->has_power) {
        r->power_w = evb_dec_sv(&d);
    }

    if (r->has_current) {
        r->current_ua = evb_dec_sv(&d);
    }

    r->ocmf = evb_dec_vstr(&d);

    if (d.rc == EVB_DEC_OK && (back >= rno || *sid == 0)) {
        return EVB_DEC_CORRUPT;
    }

    *prev = back ? rno - back : 0;

    return evb_vdec_done(&d);
}


void
evb_enc_session_live(evb_buf_t *e, const evb_session_t *s)
{
    unsigned char  c;

    c = EVB_LIVE_V1;
    evb_buf_append(e, &c, 1);

    evb_enc_uv(e, s->last_seq);
    evb_enc_sv(e, s->last_ts);
    evb_enc_sv(e, s->last_energy_wh);
    evb_enc_uv(e, s->nreadings);
    evb_enc_sv(e, s->updated_at);
    evb_enc_uv(e, s->log_last);
    evb_enc_sv(e, s->activity_at);
    evb_enc_cost(e, s->cost);
    evb_enc_vstr(e, s->cost_error);
    evb_enc_zrle(e, s->meter);
}


int
evb_dec_session_live(evb_arena_t *a, const void *data, size_t len,
    evb_session_t *s)
{
    evb_vdec_t  d;

    d.p = data;
    d.end = d.p + len;
    d.arena = a;
    d.rc = EVB_DEC_OK;

    if (evb_dec_byte(&d, 255) != EVB_LIVE_V1) {
        return EVB_DEC_CORRUPT;
    }

    s->last_seq = evb_dec_uv(&d);
    s->last_ts = evb_dec_sv(&d);
    s->last_energy_wh = evb_dec_sv(&d);
    s->nreadings = evb_dec_uv(&d);
    s->updated_at = evb_dec_sv(&d);
    s->log_last = evb_dec_uv(&d);
    s->activity_at = evb_dec_sv(&d);
    s->cost = evb_dec_cost(&d);
    s->cost_error = evb_dec_vstr(&d);
    s->meter = evb_dec_zrle(&d);

    /* the registers' rule of evb_dec_session */
    if (d.rc == EVB_DEC_OK && s->last_energy_wh < s->meter_start_wh) {
        return EVB_DEC_CORRUPT;
    }

    return evb_vdec_done(&d);
}
