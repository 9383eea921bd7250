/*
 * The card number detector (src/core/evb_pan.c) against an oracle that
 * states the rule another way: mark every separator that joins two
 * digits, take the maximal stretches of digits and joins as runs, and
 * check each run's length, Luhn and neighbours.  Both must find the same
 * first card number (or none); what is found must be found again alone.
 * The admin parsers that call it are fuzzed by party and model.
 *
 * fuzz-max-len: 4096
 */

#include "fuzz.h"
#include "evb_pan.h"


static size_t
oracle_sep(const uint8_t *p, size_t i, size_t n)
{
    static const char  *const seps[] = {
        " ", "-", "\xc2\xa0", "\xe2\x80\x87", "\xe2\x80\x90",
        "\xe2\x80\x91", "\xe2\x80\xaf", NULL
    };
    size_t  k, l;

    for (k = 0; seps[k]; k++) {
        l = strlen(seps[k]);

        if (i + l <= n && memcmp(p + i, seps[k], l) == 0) {
            return l;
        }
    }

    return 0;
}


static int
oracle_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}


static int
oracle_letter(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}


static int
oracle(const uint8_t *p, size_t n, size_t *at, size_t *span)
{
    int       found;
    char      digits[EVB_PAN_MAX];
    size_t    i, j, l, nd;
    uint8_t  *in_run;

    in_run = calloc(n ? n : 1, 1);
    if (in_run == NULL) {
        return -1;
    }

    /* digits, and separators with a digit on either side */
    for (i = 0; i < n; i++) {
        if (oracle_digit(p[i])) {
            in_run[i] = 1;
        }
    }

    for (i = 1; i < n; i++) {
        l = oracle_sep(p, i, n);

        if (l && oracle_digit(p[i - 1]) && i + l < n
            && oracle_digit(p[i + l]))
        {
            memset(in_run + i, 1, l);
        }
    }

    found = 0;

    for (i = 0; i < n && !found; i = j) {
        if (!in_run[i]) {
            j = i + 1;
            continue;
        }

        nd = 0;

        for (j = i; j < n && in_run[j]; j++) {
            if (oracle_digit(p[j])) {
                if (nd < EVB_PAN_MAX) {
                    digits[nd] = (char) p[j];
                }

                nd++;
            }
        }

        if (nd >= EVB_PAN_MIN && nd <= EVB_PAN_MAX
            && !(i > 0 && (oracle_letter(p[i - 1]) || p[i - 1] == '+'))
            && !(j < n && oracle_letter(p[j]))
            && evb_luhn_ok(digits, nd))
        {
            *at = i;
            *span = j - i;
            found = 1;
        }
    }

    free(in_run);

    return found;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int      got, want;
    size_t   at, span, oat, ospan, at2, span2;

    at = 0;
    span = 0;
    got = evb_pan_find((const char *) data, size, &at, &span);

    oat = 0;
    ospan = 0;
    want = oracle(data, size, &oat, &ospan);

    if (want < 0) {
        return 0;
    }

    evb_fuzz_check(got == want);

    if (!got) {
        return 0;
    }

    evb_fuzz_check(at == oat && span == ospan);
    evb_fuzz_check(at + span <= size && span >= EVB_PAN_MIN);
    evb_fuzz_check(oracle_digit(data[at]) && oracle_digit(data[at + span - 1]));

    /* alone, it is a card number from its first byte to its last */
    at2 = 1;
    span2 = 0;
    evb_fuzz_check(evb_pan_find((const char *) data + at, span, &at2, &span2)
                   == 1);
    evb_fuzz_check(at2 == 0 && span2 == span);

    return 0;
}
