/*
 * The TZif reader (src/core/evb_tz.c): zone files, and the POSIX TZ
 * rule in their footer.  A zone that loads is asked for offsets,
 * transitions and local times across its range.
 *
 * fuzz-max-len: 8192
 */

#include "fuzz.h"
#include "evb_tz.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t    t, n;
    size_t     i;
    evb_tz_t  *tz;
    evb_tm_t   tm;
    char       err[256];

    static const int64_t  at[] = {
        INT64_MIN, -((int64_t) 1 << 60), -2208988800LL, -1, 0, 1,
        1711846800LL, 1764000000LL, 4102444800LL, ((int64_t) 1 << 40),
        INT64_MAX
    };

    tz = evb_tz_from_tzif("Fuzz/Zone", data, size, err, sizeof(err));

    if (tz == NULL) {
        return 0;
    }

    for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        t = at[i];
        (void) evb_tz_offset(tz, t);
        n = evb_tz_next_transition(tz, t);
        (void) n;
        evb_tz_local(tz, t, &tm);
        (void) evb_tz_next_local_minute(tz, t, 600);
        (void) evb_tz_local_date_start(tz, t, 1);
    }

    evb_tz_free(tz);

    return 0;
}
