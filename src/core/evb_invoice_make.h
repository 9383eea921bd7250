/*
 * Making invoices and credit notes (issue 9): the seller file and the
 * number formats (checked at configuration time), who is invoiced, the
 * document built from the billing rule's output, its record encoding
 * and the credit notes.  Plain C: no nginx, no LMDB.  The document
 * itself is evb_invoice.h.  See docs/invoicing.md.
 */

#ifndef EVB_INVOICE_MAKE_H
#define EVB_INVOICE_MAKE_H

#include "evb_core.h"
#include "evb_model.h"
#include "evb_rate.h"
#include "evb_tz.h"
#include "evb_invoice.h"


/* OCPI's CiString(39) for invoice_reference_id */
#define EVB_NUMBER_MAX        39
#define EVB_TERMS_DAYS_MAX    365
/* credit notes per invoice: bounds the work of reading its status */
#define EVB_CREDITS_MAX       64
#define EVB_CREDIT_REASON_MAX 500


/* What invoicing needs from the configuration (evbill_seller_file,
 * evbill_invoice_number, evbill_credit_note_number, evbill_node_id). */
typedef struct evb_invoice_conf_s {
    evb_party_t          seller;
    unsigned             payment_terms_days;
    evb_str_t            time_zone;          /* IANA */
    const evb_tz_t      *tz;
    evb_str_t            invoice_format;     /* "INV-%Y-%6N" */
    evb_str_t            credit_format;      /* "CN-%Y-%6N" */
    evb_str_t            node_id;            /* len 0: none */
    evb_rounding_e       rounding;           /* VAT of credit notes */
} evb_invoice_conf_t;


/*
 * The seller file: {"name", "address": {"street", "city", "postal_code",
 * "country"}, "vat_id", "registration"?, "iban"?, "bic"?, "email",
 * "phone"?, "payment_terms_days", "time_zone", "vat_exemption_reason"?}.
 * Fills conf->seller, payment_terms_days, time_zone and tz (strings in
 * the arena).  Returns 0, or -1 with err holding one sentence per bad or
 * missing field ("; " between them).
 */
int evb_seller_parse(evb_arena_t *a, const char *json, size_t len,
    evb_invoice_conf_t *conf, char *err, size_t errlen);

/*
 * A number format: literal A-Z a-z 0-9 '-' '_', and %Y (the year, 4
 * digits), %I (the node id), %4N..%9N (the counter, zero-padded; exactly
 * one).  With a node id, %I is required.  max_len: the longest number
 * the format can make with a counter of up to 10 digits.  0 or -1 with
 * err.
 */
int evb_number_format_check(evb_str_t fmt, evb_str_t node_id, char *err,
    size_t errlen);
int evb_number_format_has_year(evb_str_t fmt);
/* The number, NUL-terminated in out; its length, or 0 when it does not
 * fit in EVB_NUMBER_MAX characters. */
size_t evb_number_format(char out[EVB_NUMBER_MAX + 1], evb_str_t fmt,
    int year, evb_str_t node_id, uint64_t n);

/* Text that XML 1.0 allows (no C0 control but tab, LF, CR; no U+FFFE,
 * U+FFFF); s is valid UTF-8. */
int evb_xml_text_ok(const char *s, size_t len);

/* ISO 3166-1 codes: evb_country_alpha2() and evb_country_alpha2_ok() of
 * evb_party.h */


/*
 * A customer of the operator, as the parties of issue 9 resolve it at a
 * session's start (filled by the caller; NULL: the token is none of the
 * operator's customers).
 */
typedef struct {
    evb_str_t            customer_id;
    evb_party_t          party;
    evb_str_t            language;           /* "en" or "de" */
    unsigned             has_terms:1;
    unsigned             per_session:1;      /* 0: monthly invoicing */
    unsigned             payment_terms_days;
} evb_invoice_customer_t;

typedef struct {
    evb_party_t          party;
    unsigned             ad_hoc:1;
    evb_str_t            customer_id;        /* len 0: ad hoc */
    evb_str_t            language;
    unsigned             payment_terms_days;
} evb_invoice_buyer_t;

/*
 * Who gets this session's invoice: the operator's customer invoiced per
 * session; with no customer, an ad hoc session (token type AD_HOC_USER,
 * paid at the charger) gets the fixed ad hoc buyer of the location's
 * country (alpha-2); anything else (a roaming token: the eMSP bills its
 * driver; a monthly customer: the billing run) gets no invoice.  Returns
 * 1 with *buyer set, or 0 with *why.
 */
int evb_invoice_buyer(const evb_invoice_conf_t *conf,
    const evb_session_t *s, const evb_invoice_customer_t *customer,
    evb_str_t location_country, evb_invoice_buyer_t *buyer,
    const char **why);

/* The fixed ad hoc buyer's name in a language ("en", "de"). */
evb_str_t evb_invoice_ad_hoc_name(evb_str_t language);


/* What an invoice of a stopped session is made from. */
typedef struct {
    const evb_invoice_conf_t   *conf;
    const evb_invoice_buyer_t  *buyer;
    evb_str_t            number;
    evb_msec_t           issued_at;
    const evb_session_t *session;
    evb_str_t            charger_doc;        /* location, evse, connector */
    evb_str_t            time_zone;          /* the session's */
    evb_str_t            cdr_id;
    const evb_rate_result_t    *result;
    const evb_bill_detail_t    *detail;
} evb_invoice_src_t;

/* The local date of t in tz as "YYYY-MM-DD" (11 bytes) and its year;
 * plus days. */
void evb_invoice_date(const evb_tz_t *tz, evb_msec_t t, int days,
    char out[11], int *year);

/*
 * Why a session gets no invoice although it has a buyer (a total of
 * zero, a currency with more than 2 decimals), or NULL.
 */
const char *evb_invoice_refusal(const evb_rate_result_t *res);

/* A document line from a line of the billing rule (its id left 0). */
void evb_invoice_line_from_bill(const evb_bill_line_t *bl,
    evb_doc_line_t *l);

/* Build the document (strings in the arena).  0 or -1 with err. */
int evb_invoice_build(evb_arena_t *a, const evb_invoice_src_t *src,
    evb_invoice_t *inv, char *err, size_t errlen);


/* The record: a version byte, then the document.  Decoding checks every
 * length; -1 on a malformed record. */
#define EVB_INVOICE_RECORD_V1  1

void evb_invoice_encode(evb_buf_t *b, const evb_invoice_t *inv);
int evb_invoice_decode(evb_arena_t *a, const char *data, size_t len,
    evb_invoice_t *inv);


/*
 * Credit notes.  A request credits invoice lines (ids from 1) or, with
 * none, every line left; a line is credited whole, once.  The credit
 * note that leaves nothing to credit also takes the min/max allowances
 * and charges and the rest of each rate's VAT, so the credit notes of a
 * fully credited invoice add up to it exactly.
 */
typedef struct {
    evb_str_t            reason;
    uint32_t            *lines;              /* NULL: all left */
    size_t               nlines;
} evb_credit_req_t;

/* {"reason", "lines"?} -> req.  EVB_OK or the problem with detail. */
evb_problem_e evb_credit_parse(evb_arena_t *a, const char *json, size_t len,
    evb_credit_req_t *req, char *detail, size_t dlen);

/* A canonical text of the request, to compare a retry with (32 bytes
 * SHA-256 is not needed: the text is short and stored as is). */
void evb_credit_canonical(evb_buf_t *b, const evb_credit_req_t *req);

/*
 * The credit note for inv given the credit notes made before (prev).
 * EVB_OK, or EVB_P_CREDIT_EXCEEDED / EVB_P_INVALID_VALUE with detail.
 */
evb_problem_e evb_credit_build(evb_arena_t *a, const evb_invoice_conf_t *conf,
    const evb_invoice_t *inv, const evb_invoice_t *prev, size_t nprev,
    const evb_credit_req_t *req, evb_str_t number, evb_msec_t issued_at,
    evb_invoice_t *cn, char *detail, size_t dlen);

/* The status view of inv from its credit notes. */
void evb_invoice_status(const evb_invoice_t *inv, const evb_invoice_t *cns,
    size_t ncns, evb_invoice_status_t *st, evb_str_t *numbers);


#endif /* EVB_INVOICE_MAKE_H */
