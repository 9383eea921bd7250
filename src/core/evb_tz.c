/*
 * A TZif reader (RFC 8536) with the footer's POSIX TZ rule, so local time
 * is computed per zone without libc's process-global TZ state.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evb_tz.h"


#define EVB_TZ_MAX_FILE   (1024 * 1024)
#define EVB_TZ_MAX_NAME   255

/* Instants are clamped to about +-35 million years: far beyond any use,
 * and far from int64 overflow in the arithmetic below. */
#define EVB_TZ_TMAX       ((int64_t) 1 << 50)

#define EVB_TZ_NONE       INT64_MAX


typedef enum {
    EVB_RULE_JULIAN1 = 0,       /* Jn: 1..365, February 29 never counted */
    EVB_RULE_JULIAN0,           /* n: 0..365 */
    EVB_RULE_MONTH              /* Mm.w.d */
} evb_rule_kind_e;


typedef struct {
    evb_rule_kind_e  kind;
    int              day;       /* Jn / n */
    int              month;
    int              week;
    int              wday;      /* 0 Sunday (POSIX) */
    int32_t          time;      /* seconds after local midnight */
} evb_tz_rule_t;


struct evb_tz_s {
    char            *name;
    size_t           ntrans;
    int64_t         *trans;      /* ascending transition instants */
    int32_t         *trans_off;  /* offset in force from trans[i] */
    int32_t          first_off;  /* before the first transition */

    unsigned         has_footer:1;
    unsigned         has_dst:1;
    int32_t          std_off;
    int32_t          dst_off;
    evb_tz_rule_t    start;      /* into DST, in standard time */
    evb_tz_rule_t    end;        /* out of DST, in DST time */

    evb_tz_t        *next;       /* cache list */
};


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


/* the calendar itself is evb_core.c's (evb_days_from_civil64 and co.) */

int32_t
evb_days_from_civil(int y, int m, int d)
{
    return (int32_t) evb_days_from_civil64(y, m, d);
}


void
evb_civil_from_days(int32_t days, int *y, int *m, int *d)
{
    int64_t  yy;

    evb_civil_from_days64(days, &yy, m, d);
    *y = (int) yy;
}


/* ---- the POSIX TZ footer ---- */


static const char *
evb_tz_parse_name(const char *p, const char *end)
{
    const char  *s;

    if (p < end && *p == '<') {
        s = ++p;

        while (p < end && *p != '>') {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')
                  || (*p >= '0' && *p <= '9') || *p == '+' || *p == '-'))
            {
                return NULL;
            }

            p++;
        }

        if (p == end || p - s < 3) {
            return NULL;
        }

        return p + 1;
    }

    s = p;

    while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
    {
        p++;
    }

    return p - s >= 3 ? p : NULL;
}


/* [+-]hh[:mm[:ss]] with hh <= maxh; *out in seconds, sign applied. */
static const char *
evb_tz_parse_hms(const char *p, const char *end, int maxh, int32_t *out)
{
    int      neg, i, part, n;
    int32_t  v;

    neg = 0;

    if (p < end && (*p == '+' || *p == '-')) {
        neg = *p == '-';
        p++;
    }

    v = 0;

    for (i = 0; i < 3; i++) {
        if (i > 0) {
            if (p == end || *p != ':') {
                break;
            }

            p++;
        }

        part = 0;
        n = 0;

        while (p < end && *p >= '0' && *p <= '9' && n < 3) {
            part = part * 10 + (*p - '0');
            p++;
            n++;
        }

        if (n == 0 || (i > 0 && (n != 2 || part > 59))
            || (i == 0 && part > maxh))
        {
            return NULL;
        }

        v = v * 60 + part;
    }

    while (i++ < 3) {
        v *= 60;
    }

    *out = neg ? -v : v;

    return p;
}


static const char *
evb_tz_parse_num(const char *p, const char *end, int min, int max, int *out)
{
    int  v, n;

    v = 0;
    n = 0;

    while (p < end && *p >= '0' && *p <= '9' && n < 4) {
        v = v * 10 + (*p - '0');
        p++;
        n++;
    }

    if (n == 0 || v < min || v > max) {
        return NULL;
    }

    *out = v;

    return p;
}


static const char *
evb_tz_parse_rule(const char *p, const char *end, evb_tz_rule_t *r)
{
    if (p == end) {
        return NULL;
    }

    if (*p == 'J') {
        r->kind = EVB_RULE_JULIAN1;
        p = evb_tz_parse_num(p + 1, end, 1, 365, &r->day);

    } else if (*p == 'M') {
        r->kind = EVB_RULE_MONTH;
        p = evb_tz_parse_num(p + 1, end, 1, 12, &r->month);

        if (p == NULL || p == end || *p != '.') {
            return NULL;
        }

        p = evb_tz_parse_num(p + 1, end, 1, 5, &r->week);

        if (p == NULL || p == end || *p != '.') {
            return NULL;
        }

        p = evb_tz_parse_num(p + 1, end, 0, 6, &r->wday);

    } else {
        r->kind = EVB_RULE_JULIAN0;
        p = evb_tz_parse_num(p, end, 0, 365, &r->day);
    }

    if (p == NULL) {
        return NULL;
    }

    r->time = 2 * 3600;

    if (p < end && *p == '/') {
        /* RFC 8536 3.3.1: hours -167..167 */
        p = evb_tz_parse_hms(p + 1, end, 167, &r->time);
    }

    return p;
}


static int
evb_tz_parse_footer(evb_tz_t *tz, const char *p, size_t len)
{
    const char  *end;
    int32_t      v;

    end = p + len;

    p = evb_tz_parse_name(p, end);

    if (p == NULL) {
        return -1;
    }

    p = evb_tz_parse_hms(p, end, 24, &v);

    if (p == NULL) {
        return -1;
    }

    /* POSIX offsets count west of Greenwich */
    tz->std_off = -v;
    tz->dst_off = tz->std_off;
    tz->has_footer = 1;

    if (p == end) {
        return 0;
    }

    p = evb_tz_parse_name(p, end);

    if (p == NULL) {
        return -1;
    }

    tz->has_dst = 1;
    tz->dst_off = tz->std_off + 3600;

    if (p < end && *p != ',') {
        p = evb_tz_parse_hms(p, end, 24, &v);

        if (p == NULL) {
            return -1;
        }

        tz->dst_off = -v;
    }

    if (p == end) {
        /* POSIX leaves the default rule to the implementation; this is
         * the one tzcode uses (US rules since 2007). */
        tz->start.kind = EVB_RULE_MONTH;
        tz->start.month = 3;
        tz->start.week = 2;
        tz->start.wday = 0;
        tz->start.time = 7200;
        tz->end.kind = EVB_RULE_MONTH;
        tz->end.month = 11;
        tz->end.week = 1;
        tz->end.wday = 0;
        tz->end.time = 7200;
        return 0;
    }

    if (*p != ',') {
        return -1;
    }

    p = evb_tz_parse_rule(p + 1, end, &tz->start);

    if (p == NULL || p == end || *p != ',') {
        return -1;
    }

    p = evb_tz_parse_rule(p + 1, end, &tz->end);

    if (p == NULL || p != end) {
        return -1;
    }

    return 0;
}


/* The local date (days since the epoch) a rule names in year y. */
static int64_t
evb_tz_rule_day(const evb_tz_rule_t *r, int64_t y)
{
    int64_t  first, d, mdays;
    int      wd;

    static const int  mlen[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
                                 30, 31 };

    first = evb_days_from_civil64(y, 1, 1);

    switch (r->kind) {

    case EVB_RULE_JULIAN1:
        return first + r->day - 1 + (evb_is_leap(y) && r->day >= 60);

    case EVB_RULE_JULIAN0:
        return first + r->day;

    default:
        first = evb_days_from_civil64(y, r->month, 1);
        mdays = mlen[r->month - 1] + (r->month == 2 && evb_is_leap(y));
        /* 1970-01-01 was a Thursday (4 with Sunday 0) */
        wd = (int) (((first + 4) % 7 + 7) % 7);
        d = (r->wday - wd + 7) % 7 + 7 * (r->week - 1);

        while (d >= mdays) {
            d -= 7;
        }

        return first + d;
    }
}


/*
 * The footer's transitions of the years around t: 2 per year for
 * y-2..y+1, in UTC, with whether DST starts.
 */
static void
evb_tz_footer_events(const evb_tz_t *tz, int64_t t, int64_t *ev, int *isdst)
{
    int64_t  y, yy;
    int      m, d, i;

    evb_civil_from_days64(evb_floor_div(t + tz->std_off, 86400), &y, &m, &d);

    for (i = 0; i < 4; i++) {
        yy = y - 2 + i;
        ev[2 * i] = evb_tz_rule_day(&tz->start, yy) * 86400 + tz->start.time
                    - tz->std_off;
        isdst[2 * i] = 1;
        ev[2 * i + 1] = evb_tz_rule_day(&tz->end, yy) * 86400 + tz->end.time
                        - tz->dst_off;
        isdst[2 * i + 1] = 0;
    }
}


static int32_t
evb_tz_footer_offset(const evb_tz_t *tz, int64_t t)
{
    int64_t  ev[8], best;
    int      isdst[8], i, dst;

    if (!tz->has_dst) {
        return tz->std_off;
    }

    evb_tz_footer_events(tz, t, ev, isdst);

    best = INT64_MIN;
    dst = 0;

    for (i = 0; i < 8; i++) {
        /* a tie is all-year DST ("J365/25" ending as the next begins) */
        if (ev[i] <= t && (ev[i] > best || (ev[i] == best && isdst[i]))) {
            best = ev[i];
            dst = isdst[i];
        }
    }

    return dst ? tz->dst_off : tz->std_off;
}


static int64_t
evb_tz_clamp(int64_t t)
{
    if (t > EVB_TZ_TMAX) {
        return EVB_TZ_TMAX;
    }

    if (t < -EVB_TZ_TMAX) {
        return -EVB_TZ_TMAX;
    }

    return t;
}


int32_t
evb_tz_offset(const evb_tz_t *tz, int64_t t)
{
    size_t  lo, hi, mid;

    t = evb_tz_clamp(t);

    if (tz->ntrans == 0 || t < tz->trans[0]) {
        if (tz->ntrans == 0 && tz->has_footer) {
            return evb_tz_footer_offset(tz, t);
        }

        return tz->first_off;
    }

    if (t >= tz->trans[tz->ntrans - 1] && tz->has_footer) {
        return evb_tz_footer_offset(tz, t);
    }

    /* the last transition <= t */
    lo = 0;
    hi = tz->ntrans;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (tz->trans[mid] <= t) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return tz->trans_off[lo];
}


int64_t
evb_tz_next_transition(const evb_tz_t *tz, int64_t t)
{
    size_t   lo, hi, mid;
    int64_t  ev[8], best;
    int      isdst[8], i;

    if (tz->ntrans > 0 && t < tz->trans[tz->ntrans - 1]) {
        lo = 0;
        hi = tz->ntrans - 1;

        while (lo < hi) {
            mid = lo + (hi - lo) / 2;

            if (tz->trans[mid] > t) {
                hi = mid;

            } else {
                lo = mid + 1;
            }
        }

        return tz->trans[lo];
    }

    if (!tz->has_footer || !tz->has_dst || t >= EVB_TZ_TMAX) {
        return EVB_TZ_NONE;
    }

    /* as the other lookups do: the rule's year arithmetic overflows for
     * an instant near INT64_MIN (found by make fuzz) */
    t = evb_tz_clamp(t);

    evb_tz_footer_events(tz, t, ev, isdst);

    best = EVB_TZ_NONE;

    for (i = 0; i < 8; i++) {
        if (ev[i] > t && ev[i] < best) {
            best = ev[i];
        }
    }

    return best;
}


void
evb_tz_local(const evb_tz_t *tz, int64_t t, evb_tm_t *out)
{
    int64_t  lt, days, secs, y;

    t = evb_tz_clamp(t);

    out->offset = evb_tz_offset(tz, t);
    lt = t + out->offset;
    days = evb_floor_div(lt, 86400);
    secs = lt - days * 86400;

    evb_civil_from_days64(days, &y, &out->month, &out->day);

    out->year = (int) y;
    out->hour = (int) (secs / 3600);
    out->minute = (int) (secs / 60 % 60);
    out->second = (int) (secs % 60);
    /* 1970-01-01 was a Thursday: 3 with Monday 0 */
    out->wday = (int) (((days + 3) % 7 + 7) % 7);
    out->days = (int32_t) days;
}


int64_t
evb_tz_next_local_minute(const evb_tz_t *tz, int64_t t, int minute_of_day)
{
    int64_t  lo, cand, nt, target;
    int32_t  off, off2;
    int      i;

    if (minute_of_day < 0 || minute_of_day >= 1440) {
        return EVB_TZ_NONE;
    }

    t = evb_tz_clamp(t);
    target = (int64_t) minute_of_day * 60;
    off = evb_tz_offset(tz, t);

    /* lo: the earliest local reading (inclusive) still to be considered;
     * the offset is constant from t to the next transition */
    lo = t + off + 1;

    for (i = 0; i < 10000; i++) {
        cand = lo + ((target - lo) % 86400 + 86400) % 86400;
        nt = evb_tz_next_transition(tz, t);

        if (nt == EVB_TZ_NONE || cand - off < nt) {
            return cand - off;
        }

        off2 = evb_tz_offset(tz, nt);

        if (off2 > off) {
            /* a gap: readings [nt + off, nt + off2) never show */
            if (cand < nt + off2) {
                return nt;
            }

            lo = nt + off2;

        } else {
            /* a fold repeats [nt + off2, nt + off): those readings were
             * shown before, so only later ones count */
            lo = nt + off;
        }

        t = nt;
        off = off2;
    }

    return EVB_TZ_NONE;
}


int64_t
evb_tz_local_date_start(const evb_tz_t *tz, int64_t t, int32_t days)
{
    int64_t  u, nt, midnight;
    int32_t  off;
    int      i;

    u = evb_tz_clamp(t) + 1;
    midnight = (int64_t) days * 86400;

    for (i = 0; i < 100000; i++) {
        off = evb_tz_offset(tz, u);

        if (evb_floor_div(u + off, 86400) >= days) {
            return u;
        }

        nt = evb_tz_next_transition(tz, u);

        if (nt == EVB_TZ_NONE || midnight - off < nt) {
            return midnight - off;
        }

        u = nt;
    }

    return EVB_TZ_NONE;
}


/* ---- TZif ---- */


static uint32_t
evb_be32(const unsigned char *p)
{
    return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16
           | (uint32_t) p[2] << 8 | p[3];
}


static int64_t
evb_be64(const unsigned char *p)
{
    return (int64_t) ((uint64_t) evb_be32(p) << 32 | evb_be32(p + 4));
}


typedef struct {
    uint32_t  isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} evb_tzif_hdr_t;


static int
evb_tzif_header(const unsigned char *p, size_t len, evb_tzif_hdr_t *h,
    int *version)
{
    if (len < 44 || memcmp(p, "TZif", 4) != 0) {
        return -1;
    }

    *version = p[4] == 0 ? 1 : p[4] - '0';

    if (*version < 1 || *version > 4) {
        return -1;
    }

    h->isutcnt = evb_be32(p + 20);
    h->isstdcnt = evb_be32(p + 24);
    h->leapcnt = evb_be32(p + 28);
    h->timecnt = evb_be32(p + 32);
    h->typecnt = evb_be32(p + 36);
    h->charcnt = evb_be32(p + 40);

    if (h->typecnt == 0 || h->typecnt > 256 || h->charcnt == 0
        || (h->isutcnt != 0 && h->isutcnt != h->typecnt)
        || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt)
        || h->timecnt > EVB_TZ_MAX_FILE || h->leapcnt > EVB_TZ_MAX_FILE
        || h->charcnt > EVB_TZ_MAX_FILE)
    {
        return -1;
    }

    return 0;
}


static size_t
evb_tzif_block_len(const evb_tzif_hdr_t *h, size_t tsize)
{
    return h->timecnt * tsize + h->timecnt + h->typecnt * 6 + h->charcnt
           + h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}


static int
evb_tzif_parse(evb_tz_t *tz, const unsigned char *p, size_t len,
    char *err, size_t errlen)
{
    evb_tzif_hdr_t        h;
    int                   version;
    size_t                tsize, blen, i;
    const unsigned char  *times, *idx, *types, *fp, *fe;
    int32_t               off;

    if (evb_tzif_header(p, len, &h, &version) != 0) {
        snprintf(err, errlen, "not a TZif file");
        return -1;
    }

    tsize = 4;
    blen = evb_tzif_block_len(&h, 4);

    if (len - 44 < blen) {
        snprintf(err, errlen, "truncated TZif file");
        return -1;
    }

    if (version >= 2) {
        /* skip the 32-bit block: the 64-bit one follows */
        p += 44 + blen;
        len -= 44 + blen;

        if (evb_tzif_header(p, len, &h, &version) != 0 || version < 2) {
            snprintf(err, errlen, "bad TZif version 2+ header");
            return -1;
        }

        tsize = 8;
        blen = evb_tzif_block_len(&h, 8);

        if (len - 44 < blen) {
            snprintf(err, errlen, "truncated TZif file");
            return -1;
        }
    }

    if (h.leapcnt != 0) {
        snprintf(err, errlen, "TZif files with leap seconds are not "
                 "supported");
        return -1;
    }

    times = p + 44;
    idx = times + h.timecnt * tsize;
    types = idx + h.timecnt;

    for (i = 0; i < h.typecnt; i++) {
        off = (int32_t) evb_be32(types + i * 6);

        if (off < -89999 || off > 93599 || types[i * 6 + 5] >= h.charcnt)
        {
            snprintf(err, errlen, "bad local time type in TZif file");
            return -1;
        }
    }

    tz->first_off = (int32_t) evb_be32(types);
    tz->ntrans = h.timecnt;

    if (h.timecnt > 0) {
        tz->trans = malloc(h.timecnt * sizeof(int64_t));
        tz->trans_off = malloc(h.timecnt * sizeof(int32_t));

        if (tz->trans == NULL || tz->trans_off == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    }

    for (i = 0; i < h.timecnt; i++) {
        tz->trans[i] = tsize == 8 ? evb_be64(times + i * 8)
                                  : (int32_t) evb_be32(times + i * 4);

        /* bounded so that instant + offset arithmetic cannot overflow;
         * zic's earliest "big bang" transition is -2^59 */
        if (idx[i] >= h.typecnt
            || tz->trans[i] < -((int64_t) 1 << 60)
            || tz->trans[i] > ((int64_t) 1 << 60)
            || (i > 0 && tz->trans[i] <= tz->trans[i - 1]))
        {
            snprintf(err, errlen, "bad transitions in TZif file");
            return -1;
        }

        tz->trans_off[i] = (int32_t) evb_be32(types + idx[i] * 6);
    }

    if (version < 2) {
        return 0;
    }

    fp = p + 44 + blen;
    fe = p + len;

    if (fp >= fe || *fp != '\n') {
        snprintf(err, errlen, "missing TZif footer");
        return -1;
    }

    fp++;
    p = memchr(fp, '\n', fe - fp);

    if (p == NULL) {
        snprintf(err, errlen, "unterminated TZif footer");
        return -1;
    }

    if (p == fp) {
        /* an empty footer: the last transition's type stays in force */
        return 0;
    }

    if (evb_tz_parse_footer(tz, (const char *) fp, p - fp) != 0) {
        snprintf(err, errlen, "bad TZ rule \"%.*s\" in TZif footer",
                 (int) (p - fp < 64 ? p - fp : 64), fp);
        return -1;
    }

    return 0;
}


static int
evb_tz_name_valid(const char *name)
{
    size_t  i, len;
    char    c;

    len = strlen(name);

    if (len == 0 || len > EVB_TZ_MAX_NAME || name[0] == '/'
        || strstr(name, "..") != NULL)
    {
        return 0;
    }

    for (i = 0; i < len; i++) {
        c = name[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9') || c == '_' || c == '+' || c == '-'
              || c == '/'))
        {
            return 0;
        }
    }

    return 1;
}


evb_tz_t *
evb_tz_load(const char *dir, const char *name, char *err, size_t errlen)
{
    char            path[4096];
    int             fd;
    struct stat     st;
    unsigned char  *buf;
    size_t          got;
    ssize_t         n;
    evb_tz_t       *tz;

    if (name == NULL || !evb_tz_name_valid(name)) {
        snprintf(err, errlen, "invalid time zone name");
        return NULL;
    }

    if (dir == NULL) {
        dir = EVB_TZ_DIR;
    }

    if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, name)
        >= sizeof(path))
    {
        snprintf(err, errlen, "time zone path too long");
        return NULL;
    }

    fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd == -1) {
        snprintf(err, errlen, "unknown time zone \"%s\": %s", name,
                 strerror(errno));
        return NULL;
    }

    if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)
        || st.st_size > EVB_TZ_MAX_FILE)
    {
        snprintf(err, errlen, "unknown time zone \"%s\"", name);
        close(fd);
        return NULL;
    }

    buf = malloc(st.st_size > 0 ? (size_t) st.st_size : 1);

    if (buf == NULL) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return NULL;
    }

    got = 0;

    while (got < (size_t) st.st_size) {
        n = read(fd, buf + got, (size_t) st.st_size - got);

        if (n == -1 && errno == EINTR) {
            continue;
        }

        if (n <= 0) {
            break;
        }

        got += (size_t) n;
    }

    close(fd);

    tz = evb_tz_from_tzif(name, buf, got, err, errlen);

    free(buf);

    return tz;
}


evb_tz_t *
evb_tz_from_tzif(const char *name, const void *data, size_t len, char *err,
    size_t errlen)
{
    evb_tz_t  *tz;

    tz = calloc(1, sizeof(evb_tz_t));

    if (tz == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }

    tz->name = strdup(name);

    if (tz->name == NULL) {
        snprintf(err, errlen, "out of memory");
        evb_tz_free(tz);
        return NULL;
    }

    if (evb_tzif_parse(tz, data, len, err, errlen) != 0) {
        evb_tz_free(tz);
        return NULL;
    }

    return tz;
}


void
evb_tz_free(evb_tz_t *tz)
{
    if (tz == NULL) {
        return;
    }

    free(tz->name);
    free(tz->trans);
    free(tz->trans_off);
    free(tz);
}


const char *
evb_tz_name(const evb_tz_t *tz)
{
    return tz->name;
}


static pthread_mutex_t   evb_tz_cache_mutex = PTHREAD_MUTEX_INITIALIZER;
static evb_tz_t         *evb_tz_cache;


const evb_tz_t *
evb_tz_get(const char *name, char *err, size_t errlen)
{
    evb_tz_t  *tz;

    if (name == NULL || !evb_tz_name_valid(name)) {
        snprintf(err, errlen, "invalid time zone name");
        return NULL;
    }

    if (pthread_mutex_lock(&evb_tz_cache_mutex) != 0) {
        snprintf(err, errlen, "time zone cache lock failed");
        return NULL;
    }

    for (tz = evb_tz_cache; tz != NULL; tz = tz->next) {
        if (strcmp(tz->name, name) == 0) {
            break;
        }
    }

    if (tz == NULL) {
        /* loading under the lock keeps one copy per name; it happens
         * once per zone */
        tz = evb_tz_load(NULL, name, err, errlen);

        if (tz != NULL) {
            tz->next = evb_tz_cache;
            evb_tz_cache = tz;
        }
    }

    (void) pthread_mutex_unlock(&evb_tz_cache_mutex);

    return tz;
}
