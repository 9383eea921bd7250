/*
 * A minimal TAP producer for the C unit tests; prove reads the output
 * through t/00-unit.t.
 */

#ifndef EVB_TAP_H
#define EVB_TAP_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

static int  tap_n;
static int  tap_failed;

#define tap_plan(n)  printf("1..%d\n", (int) (n))

#define ok(cond, ...)                                                    \
    do {                                                                 \
        int ok_c_ = (cond) ? 1 : 0;                                      \
        printf("%sok %d - ", ok_c_ ? "" : "not ", ++tap_n);              \
        printf(__VA_ARGS__);                                             \
        printf("\n");                                                    \
        if (!ok_c_) {                                                    \
            tap_failed++;                                                \
            printf("#   failed at %s line %d\n", __FILE__, __LINE__);   \
        }                                                                \
    } while (0)

#define is_int(got, want, ...)                                           \
    do {                                                                 \
        long long g_ = (long long) (got), w_ = (long long) (want);       \
        ok(g_ == w_, __VA_ARGS__);                                       \
        if (g_ != w_) {                                                  \
            printf("#   got %lld, want %lld\n", g_, w_);                 \
        }                                                                \
    } while (0)

#define is_str(got, glen, want, ...)                                     \
    do {                                                                 \
        size_t gl_ = (glen);                                             \
        const char *g_ = (got), *w_ = (want);                            \
        int eq_ = g_ != NULL && gl_ == strlen(w_)                        \
                  && memcmp(g_, w_, gl_) == 0;                           \
        ok(eq_, __VA_ARGS__);                                            \
        if (!eq_) {                                                      \
            printf("#   got '%.*s'\n#  want '%s'\n",                    \
                   g_ ? (int) gl_ : 4, g_ ? g_ : "NULL", w_);            \
        }                                                                \
    } while (0)

#define tap_done()  (fflush(stdout), tap_failed ? 1 : 0)

/* The repository root relative to the test binary's working directory:
 * prove runs from the repo root, so shared data is "../shared/...". */
#define EVB_SHARED  "../shared"

#endif /* EVB_TAP_H */
