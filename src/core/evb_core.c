/*
 * evbill billing core: arena, output buffer, RFC 3339 time, base64, hex,
 * identifier checks.
 */

#include <stdlib.h>
#include <string.h>

#include "evb_core.h"


/* arena */

typedef struct evb_chunk_s  evb_chunk_t;

struct evb_chunk_s {
    evb_chunk_t  *next;
    size_t        size;
    size_t        used;
    /* keeps the data that follows aligned for any type */
    max_align_t   align[];
};

struct evb_arena_s {
    evb_chunk_t  *head;         /* the chunk being filled */
    evb_chunk_t  *big;          /* dedicated chunks of large allocations */
    size_t        chunk_size;
};


#define EVB_ALIGN(n)  (((n) + 7) & ~(size_t) 7)


static evb_chunk_t *
evb_chunk_new(size_t size)
{
    evb_chunk_t  *c;

    if (size > SIZE_MAX - sizeof(evb_chunk_t)) {
        return NULL;
    }

    c = malloc(sizeof(evb_chunk_t) + size);
    if (c == NULL) {
        return NULL;
    }

    c->next = NULL;
    c->size = size;
    c->used = 0;

    return c;
}


evb_arena_t *
evb_arena_create(size_t chunk_size)
{
    evb_arena_t  *a;

    if (chunk_size < 256) {
        chunk_size = 256;
    }

    a = malloc(sizeof(evb_arena_t));
    if (a == NULL) {
        return NULL;
    }

    a->head = NULL;
    a->big = NULL;
    a->chunk_size = EVB_ALIGN(chunk_size);

    return a;
}


void *
evb_arena_alloc(evb_arena_t *a, size_t size)
{
    void         *p;
    evb_chunk_t  *c;

    if (size == 0) {
        size = 1;
    }

    if (size > SIZE_MAX - 8) {
        return NULL;
    }

    size = EVB_ALIGN(size);

    /* large blocks get their own chunk so they do not waste a shared one */
    if (size > a->chunk_size / 4) {
        c = evb_chunk_new(size);
        if (c == NULL) {
            return NULL;
        }

        c->used = size;
        c->next = a->big;
        a->big = c;

        return (char *) c->align;
    }

    c = a->head;

    if (c == NULL || c->size - c->used < size) {
        c = evb_chunk_new(a->chunk_size);
        if (c == NULL) {
            return NULL;
        }

        c->next = a->head;
        a->head = c;
    }

    p = (char *) c->align + c->used;
    c->used += size;

    return p;
}


char *
evb_arena_strdup(evb_arena_t *a, const char *s, size_t len)
{
    char  *p;

    if (len == SIZE_MAX) {
        return NULL;
    }

    p = evb_arena_alloc(a, len + 1);
    if (p == NULL) {
        return NULL;
    }

    if (len) {
        memcpy(p, s, len);
    }

    p[len] = '\0';

    return p;
}


static void
evb_chunks_free(evb_chunk_t *c)
{
    evb_chunk_t  *next;

    while (c) {
        next = c->next;
        free(c);
        c = next;
    }
}


void
evb_arena_destroy(evb_arena_t *a)
{
    if (a == NULL) {
        return;
    }

    evb_chunks_free(a->head);
    evb_chunks_free(a->big);
    free(a);
}


/* buf */

void
evb_buf_init(evb_buf_t *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = 0;
}


void
evb_buf_free(evb_buf_t *b)
{
    free(b->data);
    evb_buf_init(b);
}


void
evb_buf_reset(evb_buf_t *b)
{
    /* keeps the memory for reuse; clears the error too */
    b->len = 0;
    b->oom = 0;
}


static int
evb_buf_reserve(evb_buf_t *b, size_t more)
{
    char    *p;
    size_t   cap;

    if (b->oom) {
        return -1;
    }

    if (more <= b->cap - b->len) {
        return 0;
    }

    if (more > SIZE_MAX / 2 - b->len) {
        b->oom = 1;
        return -1;
    }

    cap = b->cap ? b->cap : 256;

    while (cap - b->len < more) {
        cap *= 2;
    }

    p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }

    b->data = p;
    b->cap = cap;

    return 0;
}


void
evb_buf_append(evb_buf_t *b, const void *data, size_t len)
{
    if (len == 0 || evb_buf_reserve(b, len) != 0) {
        return;
    }

    memcpy(b->data + b->len, data, len);
    b->len += len;
}


void
evb_buf_appends(evb_buf_t *b, const char *s)
{
    evb_buf_append(b, s, strlen(s));
}


void
evb_buf_append_u64(evb_buf_t *b, uint64_t v)
{
    char   tmp[24];
    char  *p;

    p = tmp + sizeof(tmp);

    do {
        *--p = (char) ('0' + v % 10);
        v /= 10;
    } while (v);

    evb_buf_append(b, p, tmp + sizeof(tmp) - p);
}


void
evb_buf_append_i64(evb_buf_t *b, int64_t v)
{
    if (v < 0) {
        evb_buf_append(b, "-", 1);
        /* negate in unsigned arithmetic so INT64_MIN is fine */
        evb_buf_append_u64(b, (uint64_t) 0 - (uint64_t) v);
        return;
    }

    evb_buf_append_u64(b, (uint64_t) v);
}


void
evb_buf_append_json_str(evb_buf_t *b, const char *s, size_t len)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i, run;
    unsigned char      c;
    char               esc[6];

    evb_buf_append(b, "\"", 1);

    run = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }

        /* flush the plain run before the character to escape */
        evb_buf_append(b, s + run, i - run);
        run = i + 1;

        esc[0] = '\\';

        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char) c;
            evb_buf_append(b, esc, 2);
            continue;
        case '\b':
            esc[1] = 'b';
            evb_buf_append(b, esc, 2);
            continue;
        case '\f':
            esc[1] = 'f';
            evb_buf_append(b, esc, 2);
            continue;
        case '\n':
            esc[1] = 'n';
            evb_buf_append(b, esc, 2);
            continue;
        case '\r':
            esc[1] = 'r';
            evb_buf_append(b, esc, 2);
            continue;
        case '\t':
            esc[1] = 't';
            evb_buf_append(b, esc, 2);
            continue;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            evb_buf_append(b, esc, 6);
        }
    }

    /* s may be NULL for an empty string: no pointer arithmetic on it */
    if (len > run) {
        evb_buf_append(b, s + run, len - run);
    }

    evb_buf_append(b, "\"", 1);
}


void
evb_buf_append_json_time(evb_buf_t *b, evb_msec_t t)
{
    char    tmp[32];
    size_t  n;

    tmp[0] = '"';
    n = evb_time_format_rfc3339(t, tmp + 1);
    tmp[n + 1] = '"';

    evb_buf_append(b, tmp, n + 2);
}


/* time */

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), so no timegm() and no TZ environment is involved.
 * The one civil-date implementation: evb_tz.c uses it too.
 */
static int64_t
evb_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}


int64_t
evb_days_from_civil64(int64_t y, int m, int d)
{
    int64_t  era, yoe, doy, doe;

    /* years start in March so the leap day is the last day of the year */
    y -= m <= 2;
    era = evb_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


void
evb_civil_from_days64(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t  era, doe, yoe, doy, mp;

    z += 719468;
    era = evb_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}


int
evb_is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}


static unsigned
evb_month_days(int64_t y, unsigned m)
{
    static const unsigned char  days[12] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    if (m == 2 && evb_is_leap(y)) {
        return 29;
    }

    return days[m - 1];
}


/* n decimal digits at p, or -1 */
static int
evb_digits(const char *p, size_t n)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        v = v * 10 + (p[i] - '0');
    }

    return v;
}


/*
 * RFC 3339 section 5.6 date-time: "YYYY-MM-DD" "T" "hh:mm:ss" [".frac"]
 * ("Z" / "+hh:mm" / "-hh:mm"); "t" and "z" are accepted too (section 5.6
 * note).  A leap second (":60") is refused: POSIX time cannot represent
 * it and folding it into the next second could reorder readings.
 */
int
evb_time_parse_rfc3339(const char *s, size_t len, evb_msec_t *out)
{
    int      year, mon, day, hour, min, sec, ms, oh, om, ndig, sign;
    size_t   i;
    int64_t  days, t;

    /* "YYYY-MM-DDThh:mm:ss" + at least "Z" */
    if (s == NULL || len < 20) {
        return -1;
    }

    year = evb_digits(s, 4);
    mon = evb_digits(s + 5, 2);
    day = evb_digits(s + 8, 2);
    hour = evb_digits(s + 11, 2);
    min = evb_digits(s + 14, 2);
    sec = evb_digits(s + 17, 2);

    if (year < 0 || mon < 0 || day < 0 || hour < 0 || min < 0 || sec < 0
        || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't')
        || s[13] != ':' || s[16] != ':')
    {
        return -1;
    }

    if (mon < 1 || mon > 12 || day < 1
        || (unsigned) day > evb_month_days(year, (unsigned) mon)
        || hour > 23 || min > 59 || sec > 59)
    {
        return -1;
    }

    i = 19;
    ms = 0;

    if (s[i] == '.') {
        i++;
        ndig = 0;

        while (i < len && s[i] >= '0' && s[i] <= '9') {
            /* keep milliseconds, truncate finer digits */
            if (ndig < 3) {
                ms = ms * 10 + (s[i] - '0');
            }

            ndig++;
            i++;
        }

        if (ndig == 0) {
            return -1;
        }

        while (ndig < 3) {
            ms *= 10;
            ndig++;
        }
    }

    if (i >= len) {
        return -1;
    }

    if (s[i] == 'Z' || s[i] == 'z') {
        if (i + 1 != len) {
            return -1;
        }

        oh = 0;
        om = 0;
        sign = 1;

    } else if (s[i] == '+' || s[i] == '-') {
        if (len - i != 6 || s[i + 3] != ':') {
            return -1;
        }

        sign = s[i] == '-' ? -1 : 1;
        oh = evb_digits(s + i + 1, 2);
        om = evb_digits(s + i + 4, 2);

        if (oh < 0 || om < 0 || oh > 23 || om > 59) {
            return -1;
        }

    } else {
        return -1;
    }

    days = evb_days_from_civil64(year, mon, day);

    t = ((days * 24 + hour) * 60 + min) * 60 + sec;
    /* local time = UTC + offset, so UTC = local - offset */
    t -= (int64_t) sign * (oh * 3600 + om * 60);

    *out = t * 1000 + ms;

    return 0;
}


/*
 * Always UTC with milliseconds.  Times outside years 0000..9999 are
 * clamped so the output keeps its fixed 24-byte shape.
 */
size_t
evb_time_format_rfc3339(evb_msec_t t, char *buf)
{
    int       m, d;
    int64_t   days, secs, y, ms;
    unsigned  hh, mm, ss;

    static const int64_t  tmin = -62167219200000LL;   /* 0000-01-01 */
    static const int64_t  tmax = 253402300799999LL;   /* 9999-12-31 */

    if (t < tmin) {
        t = tmin;
    }

    if (t > tmax) {
        t = tmax;
    }

    ms = t % 1000;
    secs = t / 1000;

    if (ms < 0) {
        ms += 1000;
        secs--;
    }

    days = secs / 86400;
    secs %= 86400;

    if (secs < 0) {
        secs += 86400;
        days--;
    }

    evb_civil_from_days64(days, &y, &m, &d);

    hh = (unsigned) (secs / 3600);
    mm = (unsigned) (secs / 60 % 60);
    ss = (unsigned) (secs % 60);

    buf[0] = (char) ('0' + y / 1000);
    buf[1] = (char) ('0' + y / 100 % 10);
    buf[2] = (char) ('0' + y / 10 % 10);
    buf[3] = (char) ('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char) ('0' + m / 10);
    buf[6] = (char) ('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char) ('0' + d / 10);
    buf[9] = (char) ('0' + d % 10);
    buf[10] = 'T';
    buf[11] = (char) ('0' + hh / 10);
    buf[12] = (char) ('0' + hh % 10);
    buf[13] = ':';
    buf[14] = (char) ('0' + mm / 10);
    buf[15] = (char) ('0' + mm % 10);
    buf[16] = ':';
    buf[17] = (char) ('0' + ss / 10);
    buf[18] = (char) ('0' + ss % 10);
    buf[19] = '.';
    buf[20] = (char) ('0' + ms / 100);
    buf[21] = (char) ('0' + ms / 10 % 10);
    buf[22] = (char) ('0' + ms % 10);
    buf[23] = 'Z';
    buf[24] = '\0';

    return 24;
}


/* base64 */

static const char  evb_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


size_t
evb_base64_encoded_len(size_t n)
{
    return (n + 2) / 3 * 4;
}


size_t
evb_base64_encode(const unsigned char *src, size_t n, char *dst)
{
    char    *p;
    size_t   i;

    p = dst;

    for (i = 0; i + 2 < n; i += 3) {
        *p++ = evb_b64[src[i] >> 2];
        *p++ = evb_b64[((src[i] & 0x03) << 4) | (src[i + 1] >> 4)];
        *p++ = evb_b64[((src[i + 1] & 0x0f) << 2) | (src[i + 2] >> 6)];
        *p++ = evb_b64[src[i + 2] & 0x3f];
    }

    if (n - i == 1) {
        *p++ = evb_b64[src[i] >> 2];
        *p++ = evb_b64[(src[i] & 0x03) << 4];
        *p++ = '=';
        *p++ = '=';

    } else if (n - i == 2) {
        *p++ = evb_b64[src[i] >> 2];
        *p++ = evb_b64[((src[i] & 0x03) << 4) | (src[i + 1] >> 4)];
        *p++ = evb_b64[(src[i + 1] & 0x0f) << 2];
        *p++ = '=';
    }

    return p - dst;
}


static int
evb_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }

    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }

    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }

    if (c == '+') {
        return 62;
    }

    if (c == '/') {
        return 63;
    }

    return -1;
}


/*
 * Strict: length a multiple of 4, '=' only as the last one or two
 * characters, and the unused bits before the padding zero, so every
 * value has exactly one accepted encoding.
 */
size_t
evb_base64_decode(const char *src, size_t n, unsigned char *dst)
{
    int            v[4];
    size_t         i, j, pad;
    unsigned char  *p;

    if (n % 4 != 0) {
        return (size_t) -1;
    }

    pad = 0;

    if (n > 0 && src[n - 1] == '=') {
        pad = (n > 1 && src[n - 2] == '=') ? 2 : 1;
    }

    p = dst;

    for (i = 0; i < n; i += 4) {
        for (j = 0; j < 4; j++) {
            if (i + j >= n - pad) {
                v[j] = 0;
                continue;
            }

            v[j] = evb_b64_value((unsigned char) src[i + j]);
            if (v[j] < 0) {
                return (size_t) -1;
            }
        }

        *p++ = (unsigned char) ((v[0] << 2) | (v[1] >> 4));

        if (i + 4 == n && pad == 2) {
            if (v[1] & 0x0f) {
                return (size_t) -1;
            }

            break;
        }

        *p++ = (unsigned char) (((v[1] & 0x0f) << 4) | (v[2] >> 2));

        if (i + 4 == n && pad == 1) {
            if (v[2] & 0x03) {
                return (size_t) -1;
            }

            break;
        }

        *p++ = (unsigned char) (((v[2] & 0x03) << 6) | v[3]);
    }

    return p - dst;
}


/* hex */

static int
evb_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


/* Returns the decoded length or (size_t) -1 on odd length or bad digit. */
size_t
evb_hex_decode(const char *src, size_t n, unsigned char *dst)
{
    int     hi, lo;
    size_t  i;

    if (n % 2 != 0) {
        return (size_t) -1;
    }

    for (i = 0; i < n; i += 2) {
        hi = evb_hex_value((unsigned char) src[i]);
        lo = evb_hex_value((unsigned char) src[i + 1]);

        if (hi < 0 || lo < 0) {
            return (size_t) -1;
        }

        dst[i / 2] = (unsigned char) ((hi << 4) | lo);
    }

    return n / 2;
}


void
evb_hex_encode(const unsigned char *src, size_t n, char *dst)
{
    static const char  hex[] = "0123456789abcdef";
    size_t             i;

    for (i = 0; i < n; i++) {
        dst[2 * i] = hex[src[i] >> 4];
        dst[2 * i + 1] = hex[src[i] & 0x0f];
    }
}


/* ids */

int
evb_id_valid(const char *s, size_t len)
{
    size_t  i;

    if (s == NULL || len < 1 || len > 64) {
        return 0;
    }

    /* "." and ".." could never be addressed again: nginx normalises them
     * out of a path */
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < 0x20 || s[i] > 0x7e || s[i] == '/') {
            return 0;
        }
    }

    return 1;
}
