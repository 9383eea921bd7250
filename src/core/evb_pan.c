/*
 * Card numbers in free text (see evb_pan.h): one pass over the text,
 * run by run, each byte looked at a bounded number of times.
 */

#include <string.h>

#include "evb_pan.h"


#define evb_pan_digit(c)   ((c) >= '0' && (c) <= '9')
#define evb_pan_letter(c)  (((c) >= 'A' && (c) <= 'Z')                      \
                            || ((c) >= 'a' && (c) <= 'z'))


/*
 * The separators people type (or word processors put) between groups of
 * a card number: the length of the one at p, or 0.
 */
static size_t
evb_pan_sep(const unsigned char *p, size_t len)
{
    if (len >= 1 && (p[0] == ' ' || p[0] == '-')) {
        return 1;
    }

    /* U+00A0 no-break space */
    if (len >= 2 && p[0] == 0xc2 && p[1] == 0xa0) {
        return 2;
    }

    /* U+2007 figure space, U+2010 hyphen, U+2011 non-breaking hyphen,
     * U+202F narrow no-break space */
    if (len >= 3 && p[0] == 0xe2 && p[1] == 0x80
        && (p[2] == 0x87 || p[2] == 0x90 || p[2] == 0x91 || p[2] == 0xaf))
    {
        return 3;
    }

    return 0;
}


int
evb_luhn_ok(const char *digits, size_t n)
{
    size_t    i;
    unsigned  d, sum;

    if (n == 0) {
        return 0;
    }

    sum = 0;

    /* from the check digit leftwards, every second digit doubled */
    for (i = 0; i < n; i++) {
        if (!evb_pan_digit(digits[n - 1 - i])) {
            return 0;
        }

        d = (unsigned) (digits[n - 1 - i] - '0');

        if (i & 1) {
            d *= 2;
            if (d > 9) {
                d -= 9;
            }
        }

        sum += d;
    }

    return sum % 10 == 0;
}


int
evb_pan_find(const char *text, size_t len, size_t *at, size_t *span)
{
    size_t                i, j, start, end, ndig, sep;
    char                  digits[EVB_PAN_MAX];
    const unsigned char  *p;

    p = (const unsigned char *) text;
    i = 0;

    while (i < len) {
        if (!evb_pan_digit(p[i])) {
            i++;
            continue;
        }

        /* a run: digit groups joined by one separator each; it is
         * maximal, as a run only starts where none went on */
        start = i;
        end = i;
        ndig = 0;
        j = i;

        for ( ;; ) {
            while (j < len && evb_pan_digit(p[j])) {
                if (ndig < EVB_PAN_MAX) {
                    digits[ndig] = (char) p[j];
                }

                /* counting stops past the bound: a longer run is no
                 * card number, whatever its length */
                if (ndig <= EVB_PAN_MAX) {
                    ndig++;
                }

                j++;
            }

            end = j;
            sep = evb_pan_sep(p + j, len - j);

            if (sep == 0 || j + sep >= len || !evb_pan_digit(p[j + sep])) {
                break;
            }

            j += sep;
        }

        if (ndig >= EVB_PAN_MIN && ndig <= EVB_PAN_MAX
            && !(start > 0
                 && (evb_pan_letter(p[start - 1]) || p[start - 1] == '+'))
            && !(end < len && evb_pan_letter(p[end]))
            && evb_luhn_ok(digits, ndig))
        {
            if (at) {
                *at = start;
            }

            if (span) {
                *span = end - start;
            }

            return 1;
        }

        i = end;
    }

    return 0;
}


int
evb_pan_in(evb_str_t s)
{
    return evb_pan_find(s.data, s.len, NULL, NULL);
}
