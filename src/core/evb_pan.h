/*
 * Card numbers in free text.  evbill never accepts card data (PCI DSS:
 * the module stays out of scope, the gateway's page takes the card), so
 * every free-text field of the admin and driver APIs and of the seller
 * file is refused when it holds what looks like a primary account
 * number (ISO/IEC 7812).  Ids (tokens, gateway ids) are not free text.
 * See docs/security.md ("No card data").
 */

#ifndef EVB_PAN_H
#define EVB_PAN_H

#include "evb_core.h"


#define EVB_PAN_MIN  13
#define EVB_PAN_MAX  19


/*
 * 1 when text holds a card number: a run of 13 to 19 ASCII digits,
 * contiguous or in groups separated by one space or dash each (' ', '-',
 * U+00A0, U+2007, U+202F, U+2010, U+2011), that passes the Luhn check
 * and stands on its own: the run is maximal (digits inside a longer run
 * are not a card number), and neither starts after a letter or '+' nor
 * ends before a letter (an IBAN, a reference "INV4111...", a phone
 * number "+49 ...").  One pass over the text, no allocation.
 *
 * at and span (either may be NULL): the bytes from the first to the
 * last digit of the first card number found, for tests; callers that
 * refuse must not echo or log them.
 */
int evb_pan_find(const char *text, size_t len, size_t *at, size_t *span);

/* evb_pan_find() of a string, without the position */
int evb_pan_in(evb_str_t s);

/* the Luhn check of n ASCII digits (0 for n == 0 or a non-digit) */
int evb_luhn_ok(const char *digits, size_t n);

/* the detail of the refusal: names the field, never its value */
#define EVB_PAN_REFUSED  "holds what looks like a card number (13 to 19 " \
                         "digits passing the Luhn check); card data is "  \
                         "not accepted"


#endif /* EVB_PAN_H */
