/*
 * evbill-rate: the admin dry run (POST rate) on the command line, through
 * the same rating core, for operators auditing or re-rating a bill.
 *
 * Usage:
 *   evbill-rate [--rounding half_up|half_even] [--max-duration 31d]
 *               [--max-periods 5000] < request.json
 *       request: {"time_zone", "tariffs": [...], "session": {...},
 *       "policy"?: {...}} (docs/rating.md).  Prints the answer, the same
 *       JSON the admin API returns, on standard output and exits 0.  On a
 *       refused request prints the problem+json (with "errors" JSON
 *       Pointers for bad tariff fields) on standard output too, so both
 *       answers can be piped alike, a one-line summary on standard
 *       error, and exits 1.  Exit 2: usage or I/O error.
 *   evbill-rate --bench [seconds]
 *       Rates a 4-period session under a parsed tariff with 5 restricted
 *       elements (Europe/Berlin) in a loop, JSON excluded, and prints
 *       rate_sessions_per_sec=N for one core: sessions per second of this
 *       thread's CPU time, so a loaded machine does not understate it
 *       (rate_wall_sessions_per_sec is the wall-clock figure).
 *
 * --rounding sets the default policy (the module's evbill_rounding); a
 * request's "policy" overrides it.  --max-duration (31d) and
 * --max-periods (5000) bound the session like the module's
 * evbill_session_max_duration and evbill_session_max_periods: a longer
 * or larger session is refused (invalid-value, with a pointer).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/core/evb_core.h"
#include "../src/core/evb_json.h"
#include "../src/core/evb_problem.h"
#include "../src/core/evb_rate.h"


#define EVB_RATE_MAX_INPUT  (64 * 1024 * 1024)


static const char  evb_bench_tariff[] =
    "{\"country_code\":\"DE\",\"party_id\":\"EVB\",\"id\":\"bench\","
    "\"currency\":\"EUR\",\"last_updated\":\"2024-01-01T00:00:00Z\","
    "\"elements\":["
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.20,"
    "\"vat\":19,\"step_size\":1}],"
    "\"restrictions\":{\"start_time\":\"00:00\",\"end_time\":\"07:00\"}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.35,"
    "\"vat\":19,\"step_size\":1},{\"type\":\"TIME\",\"price\":1.2,"
    "\"vat\":19,\"step_size\":60}],"
    "\"restrictions\":{\"start_time\":\"17:00\",\"end_time\":\"21:00\","
    "\"day_of_week\":[\"MONDAY\",\"TUESDAY\",\"WEDNESDAY\",\"THURSDAY\","
    "\"FRIDAY\"]}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.30,"
    "\"vat\":19,\"step_size\":1}],\"restrictions\":{\"min_kwh\":40}},"
    "{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":6,"
    "\"vat\":19,\"step_size\":300}],"
    "\"restrictions\":{\"min_duration\":7200}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.25,"
    "\"vat\":19,\"step_size\":1},{\"type\":\"TIME\",\"price\":0.6,"
    "\"vat\":19,\"step_size\":60},{\"type\":\"FLAT\",\"price\":0.5,"
    "\"vat\":19,\"step_size\":0}],"
    "\"restrictions\":{\"max_power\":50}},"
    "{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.39,"
    "\"vat\":19,\"step_size\":1},{\"type\":\"PARKING_TIME\",\"price\":3,"
    "\"vat\":19,\"step_size\":300},{\"type\":\"TIME\",\"price\":0.9,"
    "\"vat\":19,\"step_size\":60}]}],"
    "\"min_price\":{\"excl_vat\":1.00},\"max_price\":{\"excl_vat\":90}}";


static int
evb_bench(double seconds)
{
    int                 k;
    char                err[128];
    size_t              nerr, i;
    uint64_t            n, batch;
    int64_t             sum;
    evb_json_t         *root;
    evb_arena_t        *a;
    evb_tariff_t        t;
    evb_period_t        p[4];
    evb_msec_t          start, ends[4];
    evb_rate_ctx_t      ctx;
    evb_rate_state_t    st;
    evb_rate_result_t   res;
    evb_str_t           none = { NULL, 0 };
    struct timespec     t0, t1, w0, w1;
    double              el, wel;
    evb_tariff_error_t  errors[EVB_TARIFF_ERRORS_MAX];

    a = evb_arena_create(65536);

    if (a == NULL
        || evb_json_parse(a, evb_bench_tariff, sizeof(evb_bench_tariff) - 1,
                          32, &root, err, sizeof(err)) != EVB_JSON_OK
        || evb_tariff_parse(a, root, &t, errors, &nerr) != EVB_OK)
    {
        fprintf(stderr, "evbill-rate: bench tariff does not parse\n");
        return 2;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.tariffs = &t;
    ctx.ntariffs = 1;
    ctx.tz = evb_tz_get("Europe/Berlin", err, sizeof(err));
    ctx.policy.rounding = EVB_ROUND_HALF_UP;

    if (ctx.tz == NULL) {
        fprintf(stderr, "evbill-rate: %s\n", err);
        return 2;
    }

    /* Tuesday 2024-03-12 15:40 UTC = 16:40 CET: crosses 17:00 local */
    start = 1710258000000LL;
    memset(p, 0, sizeof(p));

    p[0].start = start;
    p[0].energy = 11500000000LL;
    p[0].time = 1200000000LL;
    p[0].has_min_power = 1;
    p[0].min_power = 22000000;
    p[0].has_max_power = 1;
    p[0].max_power = 34500000;

    p[1].start = start + 1200000;
    p[1].energy = 30250000000LL;
    p[1].time = 3600000000LL;
    p[1].has_min_power = 1;
    p[1].min_power = 21000000;
    p[1].has_max_power = 1;
    p[1].max_power = 35000000;

    p[2].start = start + 4800000;
    p[2].energy = 4125000000LL;
    p[2].time = 1800000000LL;

    p[3].start = start + 6600000;
    p[3].parking = 2700000000LL;

    for (i = 0; i < 3; i++) {
        ends[i] = p[i + 1].start;
    }

    ends[3] = p[3].start + 2700000;

    sum = 0;
    n = 0;
    batch = 10000;
    clock_gettime(CLOCK_MONOTONIC, &w0);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);

    for ( ;; ) {
        uint64_t  b;

        for (b = 0; b < batch; b++) {
            if (evb_rate_init(&st, &ctx, start, none, 0) != EVB_OK) {
                return 2;
            }

            for (k = 0; k < 4; k++) {
                if (evb_rate_add(&st, &ctx, &p[k], ends[k], NULL)
                    != EVB_OK)
                {
                    return 2;
                }
            }

            if (evb_rate_result(&st, &ctx, &res, NULL) != EVB_OK) {
                return 2;
            }

            sum += res.rounded_cost.incl;
        }

        n += batch;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
        clock_gettime(CLOCK_MONOTONIC, &w1);
        el = (double) (t1.tv_sec - t0.tv_sec)
             + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        wel = (double) (w1.tv_sec - w0.tv_sec)
              + (double) (w1.tv_nsec - w0.tv_nsec) / 1e9;

        if (wel >= seconds) {
            break;
        }
    }

    if (el <= 0) {
        el = wel;
    }

    printf("rate_sessions_per_sec=%.0f\n", (double) n / el);
    printf("rate_wall_sessions_per_sec=%.0f rate_sessions=%llu "
           "rate_cpu_seconds=%.3f rate_state_bytes=%zu rate_check=%lld\n",
           (double) n / wel, (unsigned long long) n, el,
           sizeof(evb_rate_state_t), (long long) (sum / (int64_t) n));

    evb_arena_destroy(a);
    return 0;
}


/* "90", "90s", "15m", "12h", "31d" (nginx's units) into ms; -1 if bad
 * or outside 1s .. 366d, the directive's range */
static int64_t
evb_parse_duration(const char *s)
{
    char       *end;
    long long   v, unit;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || v <= 0 || s[0] == '-' || s[0] == '+') {
        return -1;
    }

    unit = 1;

    if (*end != '\0') {
        if (end[1] != '\0') {
            return -1;
        }

        switch (*end) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return -1;
        }
    }

    if (v > 366LL * 86400 / unit) {
        return -1;
    }

    return (int64_t) v * unit * 1000;
}


/* 1 .. 20000, the directive's range; -1 otherwise */
static int64_t
evb_parse_periods(const char *s)
{
    char       *end;
    long long   v;

    errno = 0;
    v = strtoll(s, &end, 10);

    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 20000
        || s[0] == '+')
    {
        return -1;
    }

    return (int64_t) v;
}


static void
evb_print_problem(evb_problem_e p, const char *detail,
    const evb_tariff_error_t *errors, size_t nerrors)
{
    size_t     i;
    evb_buf_t  b;

    evb_buf_init(&b);
    evb_problem_render(&b, p, detail);

    if (nerrors > 0 && b.len > 0 && !b.oom) {
        b.len--;                        /* reopen the object */
        evb_buf_appends(&b, ",\"errors\":[");

        for (i = 0; i < nerrors; i++) {
            evb_buf_appends(&b, i ? ",{\"pointer\":" : "{\"pointer\":");
            evb_buf_append_json_str(&b, errors[i].pointer,
                                    strlen(errors[i].pointer));
            evb_buf_appends(&b, ",\"detail\":");
            evb_buf_append_json_str(&b, errors[i].detail,
                                    strlen(errors[i].detail));
            evb_buf_appends(&b, "}");
        }

        evb_buf_appends(&b, "]}");
    }

    if (!b.oom) {
        fwrite(b.data, 1, b.len, stdout);
        fputc('\n', stdout);
    }

    fprintf(stderr, "evbill-rate: %s: %s\n", evb_problem_info(p)->name,
            detail);
    evb_buf_free(&b);
}


int
main(int argc, char **argv)
{
    int                 i, rc;
    char                detail[256], err[256];
    size_t              n, cap, nerrors;
    int64_t             bound;
    char               *in, *grown;
    evb_buf_t           out;
    evb_json_t         *root;
    evb_arena_t        *a;
    evb_policy_t        policy;
    evb_problem_e       p;
    evb_json_err_e      je;
    evb_tariff_error_t  errors[EVB_TARIFF_ERRORS_MAX];

    memset(&policy, 0, sizeof(policy));
    policy.rounding = EVB_ROUND_HALF_UP;

    /* the module's defaults */
    policy.max_duration = 31LL * 86400 * 1000;
    policy.max_periods = 5000;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--bench") == 0) {
            return evb_bench(i + 1 < argc ? atof(argv[i + 1]) : 1.0);
        }

        if (strcmp(argv[i], "--rounding") == 0 && i + 1 < argc) {
            i++;

            if (strcmp(argv[i], "half_up") == 0) {
                policy.rounding = EVB_ROUND_HALF_UP;
                continue;
            }

            if (strcmp(argv[i], "half_even") == 0) {
                policy.rounding = EVB_ROUND_HALF_EVEN;
                continue;
            }
        }

        if (strcmp(argv[i], "--max-duration") == 0 && i + 1 < argc) {
            bound = evb_parse_duration(argv[++i]);

            if (bound > 0) {
                policy.max_duration = bound;
                continue;
            }

            fprintf(stderr, "evbill-rate: --max-duration \"%s\": a "
                    "duration of 1s to 366d (s, m, h, d)\n", argv[i]);
            return 2;
        }

        if (strcmp(argv[i], "--max-periods") == 0 && i + 1 < argc) {
            bound = evb_parse_periods(argv[++i]);

            if (bound > 0) {
                policy.max_periods = (uint64_t) bound;
                continue;
            }

            fprintf(stderr, "evbill-rate: --max-periods \"%s\": a number "
                    "from 1 to 20000\n", argv[i]);
            return 2;
        }

        fprintf(stderr, "usage: evbill-rate [--rounding half_up|half_even]"
                " [--max-duration 31d] [--max-periods 5000]"
                " < request.json\n       evbill-rate --bench [seconds]\n");
        return 2;
    }

    cap = 65536;
    n = 0;
    in = malloc(cap);

    if (in == NULL) {
        fprintf(stderr, "evbill-rate: out of memory\n");
        return 2;
    }

    for ( ;; ) {
        size_t  r;

        if (n == cap) {
            if (cap >= EVB_RATE_MAX_INPUT) {
                fprintf(stderr, "evbill-rate: input larger than %d bytes\n",
                        EVB_RATE_MAX_INPUT);
                return 2;
            }

            grown = realloc(in, cap * 2);

            if (grown == NULL) {
                fprintf(stderr, "evbill-rate: out of memory\n");
                return 2;
            }

            in = grown;
            cap *= 2;
        }

        r = fread(in + n, 1, cap - n, stdin);
        n += r;

        if (r == 0) {
            if (ferror(stdin)) {
                fprintf(stderr, "evbill-rate: reading stdin: %s\n",
                        strerror(errno));
                return 2;
            }

            break;
        }
    }

    a = evb_arena_create(65536);

    if (a == NULL) {
        fprintf(stderr, "evbill-rate: out of memory\n");
        return 2;
    }

    je = evb_json_parse(a, in, n, 64, &root, err, sizeof(err));

    if (je != EVB_JSON_OK) {
        p = je == EVB_JSON_EENCODING ? EVB_P_INVALID_ENCODING
            : je == EVB_JSON_EDUPKEY ? EVB_P_DUPLICATE_KEY
            : je == EVB_JSON_EDEPTH ? EVB_P_NESTING_TOO_DEEP
            : je == EVB_JSON_ENOMEM ? EVB_P_INTERNAL
            : EVB_P_MALFORMED_JSON;
        evb_print_problem(p, err, NULL, 0);
        return 1;
    }

    evb_buf_init(&out);
    p = evb_rate_dry_run(a, root, &policy, &out, errors, &nerrors, detail,
                         sizeof(detail));

    if (p != EVB_OK) {
        evb_print_problem(p, detail, errors, nerrors);
        rc = 1;

    } else {
        fwrite(out.data, 1, out.len, stdout);
        fputc('\n', stdout);
        rc = fflush(stdout) == 0 ? 0 : 2;
    }

    evb_buf_free(&out);
    evb_arena_destroy(a);
    free(in);

    return rc;
}
