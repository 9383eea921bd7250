/*
 * Exact decimal money and quantities.
 *
 * Scales used across the rating engine:
 *   money (prices, totals)   10^-6 currency units        int64
 *   energy                   10^-9 kWh (1 Wh = 10^6)      int64
 *   time                     microseconds (1 h = 3.6e9)   int64
 *   current                  10^-6 A
 *   power                    10^-6 kW (1 W = 10^3)
 *   VAT                      10^-6 percent (21 % = 21e6)
 * Products are taken in 128-bit integers and kept exact as rationals;
 * money is rounded once, at the end.
 */

#ifndef EVB_MONEY_H
#define EVB_MONEY_H

#include "evb_core.h"


typedef __int128  evb_i128_t;


typedef enum {
    EVB_ROUND_HALF_UP = 0,      /* away from zero at .5 */
    EVB_ROUND_HALF_EVEN
} evb_rounding_e;


/* ISO 4217 minor-unit exponent (EUR 2, JPY 0, KWD 3) or -1 if the code
 * is not a known active currency. */
int evb_currency_exponent(const char *code, size_t len);

/*
 * num / den rounded to an integer under mode; den > 0.  Returns 0, or -1
 * if the result does not fit in int64.
 */
int evb_div_round(evb_i128_t num, evb_i128_t den, evb_rounding_e mode,
    int64_t *out);

/* A micro-unit amount (10^-6) rounded to `exponent` decimals, still
 * expressed in micro-units (e.g. 5125000 -> 5130000 for EUR half-up). */
int evb_round_micro(int64_t micro, int exponent, evb_rounding_e mode,
    int64_t *out);

/*
 * A decimal string ("0.25", "-1", "1e-3", "20.5") or JSON number literal
 * scaled by 10^scale into int64, exactly: digits beyond the scale that
 * are not zero, or overflow, return -1.
 */
int evb_decimal_parse(const char *s, size_t len, unsigned scale,
    int64_t *out);

/* v / 10^scale as the shortest exact decimal JSON number ("5.125",
 * "5", "-0.000001"); with min_decimals, at least that many decimals
 * ("5.00" for min_decimals 2). */
void evb_buf_append_decimal(evb_buf_t *b, int64_t v, unsigned scale,
    unsigned min_decimals);


#endif /* EVB_MONEY_H */
