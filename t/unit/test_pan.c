/*
 * Card numbers in free text (src/core/evb_pan.c): the networks' test
 * numbers, plain and as people type them, are found where they are;
 * near misses (Luhn fails, 12 or 20 digits, digits inside a longer run,
 * a run glued to a letter or after '+', other separators) are not; long
 * texts are scanned in one pass.
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "../../src/core/evb_pan.h"


static void
found(const char *text, size_t want_at, size_t want_span, const char *name)
{
    int     rc;
    size_t  at, span;

    at = (size_t) -1;
    span = (size_t) -1;
    rc = evb_pan_find(text, strlen(text), &at, &span);

    ok(rc == 1 && at == want_at && span == want_span, "found: %s", name);

    if (rc != 1 || at != want_at || span != want_span) {
        printf("#   rc %d at %zu span %zu, want at %zu span %zu\n", rc, at,
               span, want_at, want_span);
    }
}


static void
missed(const char *text, const char *name)
{
    size_t  at, span;

    at = 0;
    span = 0;

    ok(evb_pan_find(text, strlen(text), &at, &span) == 0, "not a card "
       "number: %s", name);
}


static void
test_luhn(void)
{
    is_int(evb_luhn_ok("4111111111111111", 16), 1, "luhn: Visa");
    is_int(evb_luhn_ok("4111111111111112", 16), 0, "luhn: last digit off");
    is_int(evb_luhn_ok("79927398713", 11), 1, "luhn: the classic example");
    is_int(evb_luhn_ok("79927398710", 11), 0, "luhn: its near miss");
    is_int(evb_luhn_ok("0", 1), 1, "luhn: one zero");
    is_int(evb_luhn_ok("", 0), 0, "luhn: nothing");
    is_int(evb_luhn_ok("4111-1111", 9), 0, "luhn: a non-digit");
}


static void
test_networks(void)
{
    size_t  i;

    /* the networks' and gateways' published test numbers */
    static const char  *const pans[] = {
        "4111111111111111",         /* Visa 16 */
        "4012888888881881",
        "4222222222222",            /* Visa 13 */
        "5555555555554444",         /* Mastercard */
        "5105105105105100",
        "2223003122003222",         /* Mastercard 2-series */
        "378282246310005",          /* American Express 15 */
        "371449635398431",
        "6011111111111117",         /* Discover */
        "30569309025904",           /* Diners 14 */
        "3530111333300000",         /* JCB */
        "6799990100000000019",      /* Maestro 19 */
        "4000000000000000006",      /* Visa 19 */
        "6212345678901265",         /* UnionPay */
        NULL
    };

    for (i = 0; pans[i]; i++) {
        found(pans[i], 0, strlen(pans[i]), pans[i]);
    }

    /* Luhn is all the rule asks: no issuer ranges */
    found("0000000000000", 0, 13, "13 zeros pass Luhn");
}


static void
test_typed(void)
{
    found("4111 1111 1111 1111", 0, 19, "Visa in groups of four");
    found("4111-1111-1111-1111", 0, 19, "Visa with dashes");
    found("4111 1111-1111 1111", 0, 19, "spaces and dashes mixed");
    found("3782 822463 10005", 0, 17, "Amex 4-6-5");
    found("3782-822463-10005", 0, 17, "Amex 4-6-5 with dashes");
    found("4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", 0, 31, "digit by digit");
    found("6799 9901 0000 0000 019", 0, 23, "19 digits in groups");
    found("4111\xc2\xa0" "1111\xc2\xa0" "1111\xc2\xa0" "1111", 0, 22,
          "no-break spaces (U+00A0)");
    found("4111\xe2\x80\xaf" "1111\xe2\x80\xaf" "1111\xe2\x80\xaf" "1111",
          0, 25, "narrow no-break spaces (U+202F)");
    found("4111\xe2\x80\x91" "1111\xe2\x80\x91" "1111\xe2\x80\x91" "1111",
          0, 25, "non-breaking hyphens (U+2011)");

    found("Karte 4111 1111 1111 1111, bitte", 6, 19, "inside a sentence");
    found("card:4111111111111111.", 5, 16, "after a colon, before a dot");
    found("(4111111111111111)", 1, 16, "in parentheses");
    found("Kartennr.4111111111111111", 9, 16, "after a dot");
    found("4111 1111 1111 1111 exp 12/28 cvc 123", 0, 19,
          "with expiry and CVC");
    found("4111-1111-1111-1111-", 0, 19, "a trailing dash");
    found("-4111-1111-1111-1111", 1, 19, "a leading dash");
    found("DE-4111111111111111", 3, 16, "letters, then a dash");
    found("Stra\xc3\x9f" "e 4111111111111111", 8, 16, "after UTF-8 text");
    found("\xc3\xa4" "4111111111111111", 2, 16,
          "after a non-ASCII letter (only ASCII letters join a token)");
    found("order 12, card 4111 1111 1111 1111", 15, 19,
          "after another number and a comma");
    found("411111111117 and 4111111111111111", 17, 16,
          "the second run of two");
}


static void
test_near_misses(void)
{
    missed("4111111111111112", "Luhn fails");
    missed("4111 1111 1111 1112", "Luhn fails, in groups");
    missed("411111111117", "12 digits passing Luhn");
    missed("4111 1111 1117", "12 digits in groups");
    missed("41111111111111111115", "20 digits passing Luhn");
    missed("4111 1111 1111 1111 1115", "20 digits in groups");
    missed("94111111111111111", "a card number inside 17 digits");
    missed("9 4111 1111 1111 1111", "the same in groups");
    missed("12344111111111111111", "a card number inside 20 digits");
    missed("004111111111111111100", "inside 21 digits");
    missed("12-03 4111111111111111", "joined to a number before: 20 "
           "digits run on");
    missed("4111111111111111" "4111111111111111", "two back to back");
    missed("4111  1111  1111  1111", "two spaces between groups");
    missed("4111--1111--1111--1111", "two dashes between groups");
    missed("4111 - 1111 - 1111 - 1111", "spaced dashes");
    missed("4111.1111.1111.1111", "dots");
    missed("4111/1111/1111/1111", "slashes");
    missed("4111_1111_1111_1111", "underscores");
    missed("VISA4111111111111111", "glued to letters before");
    missed("4111111111111111EUR", "glued to letters after");
    missed("+4111111111111111", "after '+' (a phone number)");
    missed("+49 170 1234 5678 903", "a phone number");
    missed("DE89 3704 0044 0532 0130 00", "a German IBAN");
    missed("FR14 2004 1010 0505 0001 3M02 606", "a French IBAN");
    missed("FR1420041010050500013M02606", "a French IBAN, no spaces");
    missed("2026-11-25 10:00", "a date");
    missed("Hauptstrasse 1, 10115 Berlin", "an address");
    missed("", "empty");
    missed("-", "a dash");
    missed("4", "one digit");
    /* fullwidth digits are not ASCII digits */
    missed("\xef\xbc\x94\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91"
           "\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91"
           "\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91"
           "\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91\xef\xbc\x91",
           "fullwidth digits");
}


static void
test_bounds(void)
{
    char       buf[32];
    evb_str_t  s;

    /* the length given, not the NUL: a run cut at len */
    memcpy(buf, "4111111111111111", 17);
    ok(evb_pan_find(buf, 15, NULL, NULL) == 0, "len cuts the run to 15 "
       "digits, which fail Luhn");
    ok(evb_pan_find(buf, 16, NULL, NULL) == 1, "len 16: found");
    ok(evb_pan_find(NULL, 0, NULL, NULL) == 0, "NULL, 0: nothing");

    /* a separator at the very end is not followed by a digit */
    memcpy(buf, "4111 1111 1111 1111 ", 21);
    ok(evb_pan_find(buf, 20, NULL, NULL) == 1, "a space at the end");
    ok(evb_pan_find(buf, 19, NULL, NULL) == 1, "cut after the last digit");
    memcpy(buf, "4111111111111111\xc2", 18);
    ok(evb_pan_find(buf, 17, NULL, NULL) == 1, "half a no-break space "
       "at the end");
    memcpy(buf, "4111111111111111\xe2\x80", 19);
    ok(evb_pan_find(buf, 18, NULL, NULL) == 1, "two thirds of U+202F "
       "at the end");

    s.data = "name 5555 5555 5555 4444";
    s.len = strlen(s.data);
    ok(evb_pan_in(s) == 1, "evb_pan_in");
    s.data = "name 5555 5555 5555 4445";
    s.len = strlen(s.data);
    ok(evb_pan_in(s) == 0, "evb_pan_in: a near miss");
}


static void
test_long(void)
{
    size_t   n, i, at, span;
    char    *t;
    clock_t  c0, c1;

    n = 4 * 1024 * 1024;
    t = malloc(n + 32);
    if (t == NULL) {
        ok(0, "long texts: out of memory");
        return;
    }

    /* a single run of millions of digits */
    memset(t, '4', n);
    ok(evb_pan_find(t, n, NULL, NULL) == 0, "4 MiB of digits: one run, "
       "too long");

    /* one run of two million digits in groups of one */
    for (i = 0; i < n; i++) {
        t[i] = (i & 1) ? ' ' : '1';
    }
    ok(evb_pan_find(t, n, NULL, NULL) == 0, "4 MiB of \"1 1 1 ...\": one "
       "run, too long");

    /* the worst for separators: groups joined by two spaces, each run
     * 4 digits */
    for (i = 0; i < n; i++) {
        t[i] = (i % 6 < 4) ? '4' : ' ';
    }
    ok(evb_pan_find(t, n, NULL, NULL) == 0, "4 MiB of runs of four");

    /* text, then a card number at the very end */
    for (i = 0; i < n; i++) {
        t[i] = "lorem ipsum 12 dolor-sit 3 amet "[i % 32];
    }
    memcpy(t + n, " 4111 1111 1111 1111", 20);
    c0 = clock();
    at = 0;
    span = 0;
    ok(evb_pan_find(t, n + 20, &at, &span) == 1 && at == n + 1
       && span == 19, "4 MiB of text, then a card number: found at its "
       "place");
    c1 = clock();

    /* one pass: a generous bound even under sanitizers */
    ok((double) (c1 - c0) / CLOCKS_PER_SEC < 2.0, "4 MiB scanned in "
       "%.3f s", (double) (c1 - c0) / CLOCKS_PER_SEC);

    /* near misses all along: 17-digit runs failing Luhn */
    for (i = 0; i + 18 <= n; i += 18) {
        memcpy(t + i, "94111111111111111 ", 18);
    }
    ok(evb_pan_find(t, i, NULL, NULL) == 0, "4 MiB of 17-digit near "
       "misses");

    free(t);
}


int
main(void)
{
    test_luhn();
    test_networks();
    test_typed();
    test_near_misses();
    test_bounds();
    test_long();

    tap_plan(tap_n);

    return tap_done();
}
