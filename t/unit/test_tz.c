/*
 * The TZif reader against Debian's tzdata and hand-made TZif files:
 * offsets across DST changes, the footer rule, local time, time-of-day
 * and date boundaries in gaps and folds.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/evb_tz.h"
#include "tap.h"


static int64_t
utc(int y, int mo, int d, int h, int mi, int s)
{
    return (int64_t) evb_days_from_civil(y, mo, d) * 86400
           + h * 3600 + mi * 60 + s;
}


static const evb_tz_t *
zone(const char *name)
{
    const evb_tz_t  *tz;
    char             err[256];

    tz = evb_tz_get(name, err, sizeof(err));

    if (tz == NULL) {
        printf("# %s: %s\n", name, err);
        printf("Bail out! cannot load %s\n", name);
        exit(1);
    }

    return tz;
}


static void
put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}


/*
 * A TZif file with one local time type (offset off) and no transitions:
 * version 1 (no footer) or 2+ with footer.
 */
static int
write_tzif(const char *dir, const char *name, int version, int32_t off,
    const char *footer)
{
    char            path[512];
    unsigned char   hdr[44], type[6];
    FILE           *f;
    int             i, blocks;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");

    if (f == NULL) {
        return -1;
    }

    blocks = version >= 2 ? 2 : 1;

    for (i = 0; i < blocks; i++) {
        memset(hdr, 0, sizeof(hdr));
        memcpy(hdr, "TZif", 4);
        hdr[4] = version == 1 ? 0 : (unsigned char) ('0' + version);
        put32(hdr + 36, 1);        /* typecnt */
        put32(hdr + 40, 4);        /* charcnt */
        fwrite(hdr, 1, sizeof(hdr), f);
        put32(type, (uint32_t) off);
        type[4] = 0;
        type[5] = 0;
        fwrite(type, 1, sizeof(type), f);
        fwrite("XYZ", 1, 4, f);
    }

    if (version >= 2) {
        fprintf(f, "\n%s\n", footer);
    }

    fclose(f);

    return 0;
}


static void
test_names(void)
{
    char       err[256];
    evb_tz_t  *tz;

    err[0] = '\0';
    ok(evb_tz_get("../etc/passwd", err, sizeof(err)) == NULL,
       "../etc/passwd refused");
    ok(err[0] != '\0', "with a reason: %s", err);
    ok(evb_tz_get("Europe/../../etc/passwd", err, sizeof(err)) == NULL,
       "embedded .. refused");
    ok(evb_tz_get("/etc/passwd", err, sizeof(err)) == NULL,
       "absolute path refused");
    ok(evb_tz_get("Europe/Berlin ", err, sizeof(err)) == NULL,
       "space refused");
    ok(evb_tz_get("", err, sizeof(err)) == NULL, "empty name refused");
    ok(evb_tz_get("Mars/Olympus_Mons", err, sizeof(err)) == NULL,
       "unknown zone refused: %s", err);
    ok(evb_tz_get("Europe", err, sizeof(err)) == NULL,
       "a directory is not a zone");
    ok(evb_tz_get("zone.tab", err, sizeof(err)) == NULL,
       "dots refused (zone.tab)");
    ok(evb_tz_load("/etc", "hostname", err, sizeof(err)) == NULL,
       "a non-TZif file refused: %s", err);

    ok(evb_tz_get("Europe/Berlin", err, sizeof(err))
       == evb_tz_get("Europe/Berlin", err, sizeof(err)),
       "the cache returns the same zone");
    is_str(evb_tz_name(zone("Europe/Berlin")),
           strlen(evb_tz_name(zone("Europe/Berlin"))), "Europe/Berlin",
           "name kept");

    tz = evb_tz_load(NULL, "Etc/GMT+5", err, sizeof(err));
    ok(tz != NULL, "Etc/GMT+5 ('+' allowed) loads");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, utc(2026, 1, 1, 0, 0, 0)), -18000,
               "Etc/GMT+5 is UTC-5");
        evb_tz_free(tz);
    }
}


static void
test_berlin(void)
{
    const evb_tz_t  *tz;
    evb_tm_t         tm;
    int64_t          gap, fold;

    tz = zone("Europe/Berlin");
    gap = utc(2026, 3, 29, 1, 0, 0);
    fold = utc(2026, 10, 25, 1, 0, 0);

    is_int(gap, 1774746000, "2026-03-29T01:00Z");
    is_int(evb_tz_offset(tz, gap - 1), 3600, "Berlin CET before the gap");
    is_int(evb_tz_offset(tz, gap), 7200, "Berlin CEST from the gap");
    is_int(evb_tz_offset(tz, fold - 1), 7200, "Berlin CEST before fold");
    is_int(evb_tz_offset(tz, fold), 3600, "Berlin CET from the fold");

    evb_tz_local(tz, gap - 1, &tm);
    ok(tm.year == 2026 && tm.month == 3 && tm.day == 29 && tm.hour == 1
       && tm.minute == 59 && tm.second == 59 && tm.offset == 3600,
       "01:59:59 CET before the jump");
    is_int(tm.wday, 6, "2026-03-29 is a Sunday (6)");
    is_int(tm.days, evb_days_from_civil(2026, 3, 29), "local days");

    evb_tz_local(tz, gap, &tm);
    ok(tm.hour == 3 && tm.minute == 0 && tm.second == 0, "then 03:00 CEST");

    /* 02:30 does not exist on 2026-03-29: the boundary is the jump */
    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 29, 0, 0, 0), 150),
           gap, "02:30 on the gap day: the jump instant");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 29, 0, 0, 0), 120),
           gap, "02:00 on the gap day: the jump instant");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 29, 0, 0, 0), 180),
           gap, "03:00 on the gap day: the jump instant too");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 29, 0, 0, 0), 181),
           gap + 60, "03:01 CEST");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 29, 0, 0, 0), 119),
           utc(2026, 3, 29, 0, 59, 0), "01:59 CET");
    is_int(evb_tz_next_local_minute(tz, gap, 150),
           utc(2026, 3, 30, 0, 30, 0), "from the jump: 02:30 next day");
    is_int(evb_tz_next_local_minute(tz, gap - 1, 150), gap,
           "one second before the jump: the jump");

    /* 02:30 happens twice on 2026-10-25: the first one */
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 25, 0, 0, 0), 150),
           utc(2026, 10, 25, 0, 30, 0), "02:30 on the fold day: first");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 24, 12, 0, 0), 150),
           utc(2026, 10, 25, 0, 30, 0), "from the day before: first too");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 25, 0, 45, 0), 150),
           utc(2026, 10, 26, 1, 30, 0),
           "after the first 02:30: the repeat is not a new boundary");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 25, 0, 45, 0), 180),
           utc(2026, 10, 25, 2, 0, 0), "03:00 CET after the fold");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 25, 1, 10, 0), 150),
           utc(2026, 10, 25, 1, 30, 0),
           "from inside the repeat: its 02:30 is the next");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 10, 25, 0, 30, 0), 150),
           utc(2026, 10, 26, 1, 30, 0), "strictly after t");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 7, 1, 12, 0, 0), 0),
           utc(2026, 7, 1, 22, 0, 0), "midnight CEST");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 7, 1, 12, 0, 0), 1440),
           INT64_MAX, "minute 1440 refused");

    is_int(evb_tz_local_date_start(tz, utc(2026, 3, 28, 12, 0, 0),
                                   evb_days_from_civil(2026, 3, 29)),
           utc(2026, 3, 28, 23, 0, 0), "local midnight 2026-03-29 (CET)");
    is_int(evb_tz_local_date_start(tz, utc(2026, 3, 28, 12, 0, 0),
                                   evb_days_from_civil(2026, 3, 30)),
           utc(2026, 3, 29, 22, 0, 0), "local midnight 2026-03-30 (CEST)");
    is_int(evb_tz_local_date_start(tz, utc(2026, 3, 29, 12, 0, 0),
                                   evb_days_from_civil(2026, 3, 29)),
           utc(2026, 3, 29, 12, 0, 1), "date already reached: t + 1");

    /* the transitions, from the TZif data and from the footer */
    is_int(evb_tz_next_transition(tz, utc(2026, 1, 1, 0, 0, 0)), gap,
           "next transition from January: the spring jump");
    is_int(evb_tz_next_transition(tz, gap - 1), gap, "one second before");
    is_int(evb_tz_next_transition(tz, gap), utc(2026, 10, 25, 1, 0, 0),
           "strictly after t: the autumn jump");
    is_int(evb_tz_next_transition(tz, utc(2100, 1, 1, 0, 0, 0)),
           4109878800LL, "2100 from the footer");
    is_int(evb_tz_next_transition(tz, 4109878800LL), 4128627600LL,
           "then 2100-10-31 01:00Z");

    /* far future: after the last transition, from the footer rule */
    is_int(evb_tz_offset(tz, 4109878799LL), 3600, "2100-03-28 00:59:59Z");
    is_int(evb_tz_offset(tz, 4109878800LL), 7200, "2100-03-28 01:00Z CEST");
    is_int(evb_tz_offset(tz, 4128627599LL), 7200, "2100-10-31 00:59:59Z");
    is_int(evb_tz_offset(tz, 4128627600LL), 3600, "2100-10-31 01:00Z CET");
    is_int(evb_tz_next_local_minute(tz, utc(2100, 3, 28, 0, 0, 0), 150),
           4109878800LL, "2100 gap from the footer: the jump");
    is_int(evb_tz_next_local_minute(tz, utc(2100, 10, 31, 0, 45, 0), 150),
           utc(2100, 11, 1, 1, 30, 0), "2100 fold from the footer");
    is_int(evb_tz_offset(tz, utc(2300, 7, 1, 0, 0, 0)), 7200, "2300 July");

    /* before 1970 */
    is_int(evb_tz_offset(tz, -299851200LL), 3600, "1960-07-01 CET");
    is_int(evb_tz_offset(tz, -775828800LL), 10800,
           "1945-06-01 double summer time");
    is_int(evb_tz_offset(tz, -2524521600LL), 3208,
           "1890: local mean time before the first transition");
    evb_tz_local(tz, -299851200LL, &tm);
    ok(tm.year == 1960 && tm.month == 7 && tm.day == 1 && tm.hour == 13
       && tm.wday == 4, "1960-07-01 13:00 local, a Friday");
}


static void
test_new_york(void)
{
    const evb_tz_t  *tz;
    evb_tm_t         tm;
    int64_t          gap, fold;

    tz = zone("America/New_York");
    gap = utc(2026, 3, 8, 7, 0, 0);
    fold = utc(2026, 11, 1, 6, 0, 0);

    is_int(evb_tz_offset(tz, gap - 1), -18000, "NY EST before 2026-03-08");
    is_int(evb_tz_offset(tz, gap), -14400, "NY EDT from 07:00Z");
    is_int(evb_tz_offset(tz, fold - 1), -14400, "NY EDT before 11-01");
    is_int(evb_tz_offset(tz, fold), -18000, "NY EST from 06:00Z");

    is_int(evb_tz_next_local_minute(tz, utc(2026, 3, 8, 5, 0, 0), 150),
           gap, "NY 02:30 on the gap day: the jump");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 11, 1, 4, 0, 0), 90),
           utc(2026, 11, 1, 5, 30, 0), "NY 01:30 on the fold day: EDT");

    evb_tz_local(tz, utc(2026, 11, 1, 6, 30, 0), &tm);
    ok(tm.hour == 1 && tm.minute == 30 && tm.offset == -18000
       && tm.day == 1, "second 01:30 is EST");

    /* local midnight is at 05:00Z in winter, date 2026-01-01 */
    evb_tz_local(tz, utc(2026, 1, 1, 4, 59, 59), &tm);
    ok(tm.year == 2025 && tm.month == 12 && tm.day == 31 && tm.hour == 23,
       "NY 2025-12-31 23:59:59 local");
    is_int(tm.wday, 2, "2025-12-31 is a Wednesday");

    is_int(evb_tz_offset(tz, -299851200LL), -14400, "1960-07-01 EDT");
    is_int(evb_tz_offset(tz, 4108690799LL), -18000, "2100-03-14 EST");
    is_int(evb_tz_offset(tz, 4108690800LL), -14400, "2100-03-14 EDT");
}


static void
test_lord_howe(void)
{
    const evb_tz_t  *tz;
    evb_tm_t         tm;
    int64_t          on, off;

    tz = zone("Australia/Lord_Howe");
    on = 1791041400LL;                  /* 2026-10-03T15:30Z */
    off = 1775314800LL;                 /* 2026-04-04T15:00Z */

    is_int(evb_tz_offset(tz, on - 1), 37800, "LH +10:30 before");
    is_int(evb_tz_offset(tz, on), 39600, "LH +11 after");
    is_int(evb_tz_offset(tz, off - 1), 39600, "LH +11 before April");
    is_int(evb_tz_offset(tz, off), 37800, "LH +10:30 after April");

    evb_tz_local(tz, on - 1, &tm);
    ok(tm.hour == 1 && tm.minute == 59 && tm.second == 59,
       "LH 01:59:59 before the half-hour jump");
    evb_tz_local(tz, on, &tm);
    ok(tm.hour == 2 && tm.minute == 30 && tm.second == 0, "LH then 02:30");

    is_int(evb_tz_next_local_minute(tz, on - 3600, 135), on,
           "LH 02:15 skipped: the jump");
    is_int(evb_tz_next_local_minute(tz, on - 3600, 150), on,
           "LH 02:30 is the first reading after the jump");
    is_int(evb_tz_next_local_minute(tz, off - 3600, 105), off - 900,
           "LH 01:45 in April: the first (+11) one");

    is_int(evb_tz_next_transition(tz, off - 1), off, "LH April jump");
    is_int(evb_tz_next_transition(tz, off), on, "LH then October");
    is_int(evb_tz_offset(tz, 4102444800LL), 39600, "LH 2100-01-01 +11");
    is_int(evb_tz_offset(tz, 4118083200LL), 37800, "LH 2100-07-01 +10:30");
}


static void
test_others(void)
{
    const evb_tz_t  *tz;
    evb_tm_t         tm;

    tz = zone("UTC");
    is_int(evb_tz_offset(tz, utc(2026, 7, 1, 0, 0, 0)), 0, "UTC");
    is_int(evb_tz_next_transition(tz, utc(2026, 7, 1, 0, 0, 0)), INT64_MAX,
           "UTC: no transition");
    is_int(evb_tz_offset(tz, utc(2200, 7, 1, 0, 0, 0)), 0, "UTC 2200");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 7, 1, 10, 0, 0), 600),
           utc(2026, 7, 2, 10, 0, 0), "UTC 10:00 strictly after");
    is_int(evb_tz_next_local_minute(tz, utc(2026, 7, 1, 9, 59, 59), 600),
           utc(2026, 7, 1, 10, 0, 0), "UTC 10:00");
    is_int(evb_tz_local_date_start(tz, utc(2026, 7, 1, 9, 0, 0),
                                   evb_days_from_civil(2026, 7, 3)),
           utc(2026, 7, 3, 0, 0, 0), "UTC date start");

    evb_tz_local(tz, utc(2015, 6, 29, 12, 0, 0), &tm);
    is_int(tm.wday, 0, "2015-06-29 is a Monday: wday 0");
    is_int(tm.days, 16615, "2015-06-29 is day 16615");
    evb_tz_local(tz, utc(2015, 7, 5, 23, 59, 59), &tm);
    is_int(tm.wday, 6, "2015-07-05 is a Sunday: wday 6");
    evb_tz_local(tz, -1, &tm);
    ok(tm.year == 1969 && tm.month == 12 && tm.day == 31 && tm.hour == 23
       && tm.minute == 59 && tm.second == 59 && tm.wday == 2
       && tm.days == -1, "1969-12-31 23:59:59, a Wednesday");

    /* Sao Paulo 2018: DST began at midnight, so 2018-11-04 00:00 never
     * happened; the date starts at 01:00 -02 */
    tz = zone("America/Sao_Paulo");
    is_int(evb_tz_local_date_start(tz, utc(2018, 11, 3, 12, 0, 0),
                                   evb_days_from_civil(2018, 11, 4)),
           1541300400LL, "skipped midnight: the date starts at the jump");
    is_int(evb_tz_next_local_minute(tz, utc(2018, 11, 3, 12, 0, 0), 0),
           1541300400LL, "skipped 00:00: the jump");

    tz = zone("Asia/Kathmandu");
    is_int(evb_tz_offset(tz, utc(2026, 1, 1, 0, 0, 0)), 20700,
           "Kathmandu +05:45");
}


static void
test_civil(void)
{
    int      y, m, d, ok_all;
    int32_t  days;

    is_int(evb_days_from_civil(1970, 1, 1), 0, "epoch day 0");
    is_int(evb_days_from_civil(2000, 3, 1), 11017, "2000-03-01");
    is_int(evb_days_from_civil(1900, 3, 1), -25508, "1900-03-01");

    ok_all = 1;

    for (days = -800000; days < 800000; days += 7) {
        evb_civil_from_days(days, &y, &m, &d);

        if (evb_days_from_civil(y, m, d) != days || m < 1 || m > 12
            || d < 1 || d > 31)
        {
            ok_all = 0;
            printf("# days %d -> %d-%d-%d\n", (int) days, y, m, d);
            break;
        }
    }

    ok(ok_all, "civil round trip over 4000 years");
}


/* Footer rules from hand-made TZif files. */
static void
test_footers(void)
{
    char        dir[] = "/tmp/evb_tz_XXXXXX", err[256], path[600];
    evb_tz_t   *tz;
    const char *names[] = { "v1", "lh", "allyear", "julian", "late",
                            "bad1", "bad2", "bad3", "v4", "std" };
    size_t      i;

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }

    write_tzif(dir, "v1", 1, 19800, NULL);
    write_tzif(dir, "lh", 2, 37800, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
    write_tzif(dir, "allyear", 3, -14400, "EST5EDT,0/0,J365/25");
    write_tzif(dir, "julian", 2, 0, "AAA0BBB-1,J60/0,300/0");
    write_tzif(dir, "late", 4, 0, "<-03>3<-02>,M3.5.0/-2,M10.5.0/-1");
    write_tzif(dir, "bad1", 2, 0, "CET-1CEST,M3.5.0");
    write_tzif(dir, "bad2", 2, 0, "C-1");
    write_tzif(dir, "bad3", 2, 0, "CET-1CEST,M13.5.0,M10.5.0/3");
    write_tzif(dir, "v4", 4, 3600, "<+01>-1");
    write_tzif(dir, "std", 2, 3600, "");

    tz = evb_tz_load(dir, "v1", err, sizeof(err));
    ok(tz != NULL, "TZif version 1 loads");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, 0), 19800, "v1: its only type");
        evb_tz_free(tz);
    }

    tz = evb_tz_load(dir, "lh", err, sizeof(err));
    ok(tz != NULL, "Lord Howe footer parses");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, 1791041399LL), 37800, "footer LH before");
        is_int(evb_tz_offset(tz, 1791041400LL), 39600, "footer LH after");
        is_int(evb_tz_offset(tz, 1775314799LL), 39600, "footer LH April");
        is_int(evb_tz_offset(tz, 1775314800LL), 37800, "footer LH April+");
        evb_tz_free(tz);
    }

    tz = evb_tz_load(dir, "allyear", err, sizeof(err));
    ok(tz != NULL, "all-year DST footer parses");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, utc(2026, 1, 1, 5, 0, 0)), -14400,
               "all-year DST at new year");
        is_int(evb_tz_offset(tz, utc(2026, 12, 31, 12, 0, 0)), -14400,
               "all-year DST on 12-31");
        is_int(evb_tz_offset(tz, utc(2027, 7, 1, 0, 0, 0)), -14400,
               "all-year DST in July");
        evb_tz_free(tz);
    }

    tz = evb_tz_load(dir, "julian", err, sizeof(err));
    ok(tz != NULL, "Jn and n rules parse");

    if (tz != NULL) {
        /* J60 is March 1 even in leap years; 300 (zero-based) is
         * 2024-10-27 in a leap year and 2026-10-28 otherwise */
        is_int(evb_tz_offset(tz, utc(2024, 2, 29, 23, 59, 59)), 0,
               "J60 in a leap year: not yet on Feb 29");
        is_int(evb_tz_offset(tz, utc(2024, 3, 1, 0, 0, 0)), 3600,
               "J60 = March 1");
        is_int(evb_tz_offset(tz, utc(2024, 10, 26, 22, 59, 59)), 3600,
               "n=300 in 2024: before Oct 27");
        is_int(evb_tz_offset(tz, utc(2024, 10, 26, 23, 0, 0)), 0,
               "n=300 in 2024 ends at 00:00 local");
        is_int(evb_tz_offset(tz, utc(2026, 10, 27, 22, 59, 59)), 3600,
               "n=300 in 2026: Oct 28");
        is_int(evb_tz_offset(tz, utc(2026, 10, 27, 23, 0, 0)), 0,
               "n=300 in 2026 ends");
        evb_tz_free(tz);
    }

    tz = evb_tz_load(dir, "late", err, sizeof(err));
    ok(tz != NULL, "negative rule times parse: %s", tz ? "" : err);

    if (tz != NULL) {
        /* M3.5.0/-2: 22:00 -03 on the Saturday before the last Sunday
         * of March (2026-03-29) = 2026-03-29T01:00Z */
        is_int(evb_tz_offset(tz, utc(2026, 3, 29, 0, 59, 59)), -10800,
               "before -2h rule");
        is_int(evb_tz_offset(tz, utc(2026, 3, 28, 23, 0, 0)), -10800,
               "not a day early");
        is_int(evb_tz_offset(tz, utc(2026, 3, 29, 1, 0, 0)), -7200,
               "at -2h rule (DST defaults to std + 1h)");
        /* M10.5.0/-1: 23:00 -02 on 2026-10-24 = 2026-10-25T01:00Z */
        is_int(evb_tz_offset(tz, utc(2026, 10, 25, 0, 59, 59)), -7200,
               "before -1h end");
        is_int(evb_tz_offset(tz, utc(2026, 10, 25, 1, 0, 0)), -10800,
               "after -1h end");
        evb_tz_free(tz);
    }

    ok(evb_tz_load(dir, "bad1", err, sizeof(err)) == NULL,
       "one rule only refused: %s", err);
    ok(evb_tz_load(dir, "bad2", err, sizeof(err)) == NULL,
       "two-letter name refused");
    ok(evb_tz_load(dir, "bad3", err, sizeof(err)) == NULL,
       "month 13 refused");

    tz = evb_tz_load(dir, "v4", err, sizeof(err));
    ok(tz != NULL, "TZif version 4 loads");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, utc(2026, 7, 1, 0, 0, 0)), 3600,
               "v4 footer +01");
        evb_tz_free(tz);
    }

    tz = evb_tz_load(dir, "std", err, sizeof(err));
    ok(tz != NULL, "empty footer loads");

    if (tz != NULL) {
        is_int(evb_tz_offset(tz, utc(2026, 7, 1, 0, 0, 0)), 3600,
               "empty footer: the last type stays");
        evb_tz_free(tz);
    }

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }

    rmdir(dir);
}


/*
 * next_local_minute against its definition, second by second: the first
 * instant after t showing the minute, or jumping over it; readings
 * already shown (a fold's repeat) do not count.
 */
static void
test_scan(const char *name, int64_t from, int64_t to)
{
    const evb_tz_t  *tz;
    int64_t          t, r, u, best, maxlocal, lt, c;
    int              m, bad, n;

    static const int  minutes[] = { 0, 90, 105, 120, 135, 150, 165, 180,
                                    181, 119, 60, 1439 };

    tz = zone(name);
    bad = 0;
    n = 0;

    for (t = from; t < to && !bad; t += 3600 + 97) {
        m = n % 3 == 0 ? (int) ((t / 7) % 1440)
                       : minutes[(t / 97) % 12];
        r = evb_tz_next_local_minute(tz, t, m);
        best = -1;
        maxlocal = t + evb_tz_offset(tz, t);

        for (u = t + 1; u <= t + 3 * 86400; u++) {
            lt = u + evb_tz_offset(tz, u);

            if (lt <= maxlocal) {
                continue;
            }

            c = maxlocal + 1
                + (((int64_t) m * 60 - maxlocal - 1) % 86400 + 86400)
                  % 86400;

            if (c <= lt) {
                /* shown now, or jumped over */
                best = u;
                break;
            }

            maxlocal = lt;
        }

        n++;

        if (r != best) {
            bad = 1;
            printf("# %s t=%lld m=%d got %lld want %lld\n", name,
                   (long long) t, m, (long long) r, (long long) best);
        }
    }

    ok(!bad && n > 10, "%s: next_local_minute matches a scan (%d cases)",
       name, n);
}


static const char  *thread_zones[] = {
    "Asia/Tokyo", "America/Chicago", "Europe/Paris", "Africa/Cairo",
    "Pacific/Auckland", "Europe/Lisbon"
};


static void *
thread_main(void *arg)
{
    const evb_tz_t  **got;
    char              err[256];
    size_t            i;

    got = arg;

    for (i = 0; i < 6; i++) {
        got[i] = evb_tz_get(thread_zones[i], err, sizeof(err));
    }

    return NULL;
}


/* Concurrent first loads: one zone per name for everybody. */
static void
test_threads(void)
{
    pthread_t        th[4];
    const evb_tz_t  *got[4][6];
    int              i, j, same, started;

    started = 0;
    memset(got, 0, sizeof(got));

    for (i = 0; i < 4; i++) {
        if (pthread_create(&th[i], NULL, thread_main, got[i]) == 0) {
            started++;
        }
    }

    is_int(started, 4, "4 threads started");

    for (i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
    }

    same = started == 4;

    for (i = 0; i < started; i++) {
        for (j = 0; j < 6; j++) {
            if (got[i][j] == NULL || got[i][j] != got[0][j]) {
                same = 0;
            }
        }
    }

    ok(same, "concurrent evb_tz_get: one immutable zone per name");
    ok(got[0][0] != NULL
       && evb_tz_offset(got[0][0], utc(2026, 7, 1, 0, 0, 0)) == 32400,
       "Asia/Tokyo +9");
}


/*
 * A zone ruled by its footer alone, asked about instants far outside
 * any calendar: the answers are those at the clamp, with no overflow
 * (make asan's UBSan build aborts on one).  Also loads the zone from
 * memory, as the fuzzer does.
 */
static void
test_extremes(void)
{
    char           dir[] = "/tmp/evb_tz_XXXXXX", err[256], path[600];
    FILE          *f;
    size_t         n;
    int64_t        lo;
    evb_tz_t      *tz, *mem;
    evb_tm_t       tm;
    unsigned char  buf[512];

    if (mkdtemp(dir) == NULL) {
        ok(0, "mkdtemp");
        return;
    }

    write_tzif(dir, "cet", 2, 3600, "CET-1CEST,M3.5.0,M10.5.0/3");
    tz = evb_tz_load(dir, "cet", err, sizeof(err));
    ok(tz != NULL, "footer-only zone loads (%s)", tz ? "" : err);

    snprintf(path, sizeof(path), "%s/cet", dir);
    f = fopen(path, "rb");
    n = f ? fread(buf, 1, sizeof(buf), f) : 0;

    if (f) {
        fclose(f);
    }

    mem = evb_tz_from_tzif("cet", buf, n, err, sizeof(err));
    ok(mem != NULL, "the same zone loads from memory");

    if (tz != NULL) {
        lo = -((int64_t) 1 << 50);

        is_int(evb_tz_next_transition(tz, INT64_MIN),
               evb_tz_next_transition(tz, lo),
               "next transition after INT64_MIN: the one after the clamp");
        ok(evb_tz_next_transition(tz, INT64_MIN) > lo,
           "next transition after INT64_MIN is after the clamp");
        is_int(evb_tz_offset(tz, INT64_MIN), evb_tz_offset(tz, lo),
               "offset at INT64_MIN");
        evb_tz_local(tz, INT64_MIN, &tm);
        is_int(tm.offset, evb_tz_offset(tz, lo),
               "local time at INT64_MIN: the offset at the clamp");

        if (mem != NULL) {
            is_int(evb_tz_offset(mem, utc(2026, 7, 1, 0, 0, 0)), 7200,
                   "the zone from memory: summer time in July");
            is_int(evb_tz_next_transition(mem, utc(2026, 1, 1, 0, 0, 0)),
                   evb_tz_next_transition(tz, utc(2026, 1, 1, 0, 0, 0)),
                   "the zone from memory: the same transitions");
        }
    }

    evb_tz_free(tz);
    evb_tz_free(mem);
    unlink(path);
    rmdir(dir);
}


int
main(void)
{
    test_names();
    test_berlin();
    test_new_york();
    test_lord_howe();
    test_others();
    test_civil();
    test_footers();
    test_extremes();
    test_threads();
    test_scan("Europe/Berlin", utc(2026, 3, 27, 0, 0, 0),
              utc(2026, 3, 31, 0, 0, 0));
    test_scan("Europe/Berlin", utc(2026, 10, 23, 0, 0, 0),
              utc(2026, 10, 27, 0, 0, 0));
    test_scan("Australia/Lord_Howe", utc(2026, 10, 1, 0, 0, 0),
              utc(2026, 10, 6, 0, 0, 0));
    test_scan("Australia/Lord_Howe", utc(2026, 4, 2, 0, 0, 0),
              utc(2026, 4, 7, 0, 0, 0));
    test_scan("Europe/Berlin", utc(2101, 3, 24, 0, 0, 0),
              utc(2101, 3, 29, 0, 0, 0));

    tap_plan(tap_n);

    return tap_done();
}
