/*
 * What the invoice renderers (HTML and UBL) share: markup escaping,
 * exact decimals in a language's style, local times in the session's
 * zone, and the fixed words of a document.  Private to
 * evb_invoice_*.c.
 */

#ifndef EVB_INVOICE_FMT_H
#define EVB_INVOICE_FMT_H

#include "evb_invoice.h"
#include "evb_tz.h"


/* How a number is written: XML (1234.5), English (1,234.5), German
 * (1.234,5). */
typedef enum {
    EVB_NUM_XML = 0,
    EVB_NUM_EN,
    EVB_NUM_DE
} evb_num_style_e;


/*
 * Text for XML 1.0 and HTML, in content or in a quoted attribute: & < >
 * " ' as references; what XML 1.0 forbids (C0 controls other than tab,
 * LF and CR, U+FFFE, U+FFFF, surrogates) and bytes that are not UTF-8
 * become U+FFFD.  The API refuses such input; this keeps a document
 * well-formed whatever a record holds.
 */
void evb_inv_escape(evb_buf_t *b, const char *s, size_t len);
void evb_inv_escape_str(evb_buf_t *b, evb_str_t s);

/* v / 10^scale: the shortest exact decimal, at least min_decimals. */
void evb_inv_number(evb_buf_t *b, int64_t v, unsigned scale,
    unsigned min_decimals, evb_num_style_e style);

/* An amount (10^-6, rounded) with the currency's decimals. */
void evb_inv_amount(evb_buf_t *b, const evb_invoice_t *inv, int64_t v,
    evb_num_style_e style);

/* Microseconds as 10^-6 hours, rounded half away from zero. */
int64_t evb_inv_hours(int64_t us);

/* Local wall clock of t (ms) in the session's zone (UTC when the zone
 * is unknown or not loadable); returns the zone's name used. */
const char *evb_inv_local(const evb_invoice_t *inv, evb_msec_t t,
    evb_tm_t *tm);

/* 1 for a German document, 0 for English (the default). */
int evb_inv_de(const evb_invoice_t *inv);

/* The item name of a line ("Energy", "Ladezeit", ...). */
const char *evb_inv_line_name(const evb_invoice_t *inv,
    const evb_doc_line_t *l);

/* The buyer's name and country, with the fixed ad hoc buyer's. */
evb_str_t evb_inv_buyer_name(const evb_invoice_t *inv);
evb_str_t evb_inv_buyer_country(const evb_invoice_t *inv);

/* The exemption reason of category E (the seller's, or a fixed one). */
evb_str_t evb_inv_exemption(const evb_invoice_t *inv);

/* The payment terms in words: "Payable within 14 days", "Payable on
 * receipt" (terms 0), and the same in German. */
void evb_inv_terms(evb_buf_t *b, const evb_invoice_t *inv);

/* "2026-12-06" -> y, m, d; returns 0 or -1. */
int evb_inv_parse_date(evb_str_t s, int *y, int *m, int *d);


#endif /* EVB_INVOICE_FMT_H */
