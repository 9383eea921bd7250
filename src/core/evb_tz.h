/*
 * IANA time zones from the system's TZif files (Debian's tzdata under
 * /usr/share/zoneinfo), without setenv("TZ") or localtime(): tariff
 * restrictions are evaluated in the location's zone, with DST, from
 * threads that must not share libc's global zone state.
 */

#ifndef EVB_TZ_H
#define EVB_TZ_H

#include "evb_core.h"


#define EVB_TZ_DIR  "/usr/share/zoneinfo"


typedef struct evb_tz_s  evb_tz_t;


/* A local wall-clock reading. */
typedef struct {
    int        year;
    int        month;        /* 1..12 */
    int        day;          /* 1..31 */
    int        hour;
    int        minute;
    int        second;
    int        wday;         /* 0 Monday .. 6 Sunday (OCPI order) */
    int32_t    days;         /* local date as days since 1970-01-01 */
    int32_t    offset;       /* seconds east of UTC in force */
} evb_tm_t;


/*
 * Load a zone by IANA name ("Europe/Berlin", "UTC") from dir (NULL:
 * EVB_TZ_DIR): TZif version 1 to 4, the 64-bit data when present, and the
 * footer's POSIX TZ rule for instants after the last transition.  Names
 * with "..", a leading '/', or characters outside [A-Za-z0-9_+-/] are
 * refused.  The result is immutable and may be shared between threads.
 * Returns NULL with a sentence in err.
 */
evb_tz_t *evb_tz_load(const char *dir, const char *name, char *err,
    size_t errlen);

/* The same from a TZif image in memory (the fuzzer's entry point). */
evb_tz_t *evb_tz_from_tzif(const char *name, const void *data, size_t len,
    char *err, size_t errlen);
void evb_tz_free(evb_tz_t *tz);

/*
 * A process-wide cache of loaded zones (mutex-protected): the first call
 * loads, later calls return the same immutable zone.  Never freed.
 */
const evb_tz_t *evb_tz_get(const char *name, char *err, size_t errlen);

const char *evb_tz_name(const evb_tz_t *tz);

/* UTC offset in seconds at instant t (seconds since the epoch). */
int32_t evb_tz_offset(const evb_tz_t *tz, int64_t t);

/*
 * The first instant strictly after t (seconds) at which the zone's
 * offset may change (a TZif transition or one of the footer rule's), or
 * INT64_MAX when none follows.  Between t and it the offset is
 * evb_tz_offset(tz, t) throughout.
 */
int64_t evb_tz_next_transition(const evb_tz_t *tz, int64_t t);

/* Local wall clock at instant t. */
void evb_tz_local(const evb_tz_t *tz, int64_t t, evb_tm_t *out);

/*
 * The first instant strictly after t at which the local wall clock shows
 * minute_of_day (0..1439) on some day: the next occurrence of a
 * time-of-day boundary.  If DST skips that local time on a day, the
 * boundary is the instant the clock jumps over it (the first instant
 * whose local time is later); if DST repeats it, the first occurrence.
 * Period cutting needs every occurrence and the jumps themselves: the
 * rater walks the spans between evb_tz_next_transition instead.
 */
int64_t evb_tz_next_local_minute(const evb_tz_t *tz, int64_t t,
    int minute_of_day);

/* The first instant strictly after t whose local date is >= days (local
 * midnight of that date, or the first instant after it under DST). */
int64_t evb_tz_local_date_start(const evb_tz_t *tz, int64_t t,
    int32_t days);


/* Proleptic Gregorian helpers (UTC, no zone). */
int32_t evb_days_from_civil(int y, int m, int d);
void evb_civil_from_days(int32_t days, int *y, int *m, int *d);


#endif /* EVB_TZ_H */
