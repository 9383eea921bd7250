/*
 * Invoices and credit notes as documents: what the store keeps once
 * (immutable) and what the renderers print (JSON, HTML, UBL 2.1 under
 * EN 16931).  Amounts are 10^-6 of the currency, already rounded to its
 * minor unit under the billing rule of evb_rate_round.c (rounded lines,
 * VAT once per rate, min/max spread over the rates); a renderer prints
 * them and adds nothing up that the document does not already hold, so
 * every format shows the same figures.  See docs/invoicing.md.
 */

#ifndef EVB_INVOICE_H
#define EVB_INVOICE_H

#include "evb_core.h"
#include "evb_tariff.h"
#include "evb_party.h"


typedef enum {
    EVB_DOC_INVOICE = 0,
    EVB_DOC_CREDIT_NOTE
} evb_doc_kind_e;


/* evb_address_t and evb_party_t: evb_party.h (the store keeps buyers) */


/* One billed line: a dimension at one price and VAT rate. */
typedef struct {
    uint32_t             id;                 /* 1, 2, ... (credits cite) */
    evb_dim_e            dim;
    unsigned             reservation:1;
    unsigned             late:1;             /* a monthly invoice's line
                                                of a session that stopped
                                                after its month's run */
    char                 vat_category;       /* 'S', 'Z' or 'E' */
    int64_t              vat;                /* 10^-6 %; 0 for Z and E */
    int64_t              quantity;           /* 10^-9 kWh, us, or count,
                                                as evb_bill_line_t */
    int64_t              price;              /* net unit price, 10^-6 per
                                                kWh, hour or each */
    int64_t              amount;             /* net, rounded; negative
                                                never (credit notes are
                                                positive documents) */
    evb_str_t            session;            /* "charger_id/session_id"
                                                on a multi-session
                                                invoice; len 0: none */
} evb_doc_line_t;


/* The breakdown per VAT category and rate (EN 16931 BG-23). */
typedef struct {
    char                 vat_category;       /* 'S', 'Z' or 'E' */
    int64_t              vat;                /* 10^-6 % */
    int64_t              lines;              /* sum of its line amounts */
    int64_t              allowance;          /* min/max: > 0 lowers */
    int64_t              charge;             /* min/max: > 0 raises */
    int64_t              taxable;            /* lines - allowance +
                                                charge */
    int64_t              amount;             /* its VAT */
} evb_doc_vat_t;


/* The charging session a document bills (left zeroed on a document
 * that bills several sessions: the lines name them). */
typedef struct {
    evb_str_t            charger_id;
    evb_str_t            session_id;
    evb_str_t            cdr_id;
    evb_str_t            location_name;
    evb_address_t        location_address;
    evb_str_t            evse_uid;
    evb_str_t            connector;          /* "1", as the CDR has it */
    evb_str_t            time_zone;          /* IANA, the start's */
    evb_msec_t           start;              /* UTC */
    evb_msec_t           end;
    int64_t              energy;             /* 10^-9 kWh */
} evb_doc_session_t;


typedef struct {
    evb_doc_kind_e       kind;
    evb_str_t            number;             /* "INV-2026-000001" */
    evb_str_t            issue_date;         /* "2026-12-06", seller tz */
    evb_str_t            due_date;           /* issue date + terms */
    evb_msec_t           issued_at;          /* UTC instant of issue */
    evb_str_t            language;           /* "en" or "de" */
    char                 currency[4];        /* ISO 4217 */
    int                  exponent;           /* 0, 1 or 2 under EN 16931 */

    evb_party_t          seller;
    evb_party_t          buyer;
    unsigned             buyer_ad_hoc:1;     /* the fixed ad hoc buyer */
    evb_str_t            customer_id;        /* len 0: ad hoc */
    unsigned             payment_terms_days;

    evb_doc_session_t    session;

    size_t               nlines;
    evb_doc_line_t      *lines;
    size_t               nvat;
    evb_doc_vat_t       *vat;

    /* EN 16931 BG-22, each the sum of what the document lists above */
    int64_t              line_total;         /* BT-106 */
    int64_t              allowance_total;    /* BT-107 */
    int64_t              charge_total;       /* BT-108 */
    int64_t              tax_exclusive;      /* BT-109 */
    int64_t              tax_total;          /* BT-110 */
    int64_t              tax_inclusive;      /* BT-112 */
    int64_t              prepaid;            /* BT-113, at issue */
    int64_t              payable;            /* BT-115 */

    /* a credit note: the invoice it corrects, and why */
    evb_str_t            invoice_number;     /* BT-25 */
    evb_str_t            invoice_issue_date; /* BT-26 */
    evb_str_t            reason;
} evb_invoice_t;


/* What changes after issue, shown beside the immutable document (JSON
 * and HTML; UBL shows only what the document held at issue). */
typedef enum {
    EVB_PAY_DUE = 0,
    EVB_PAY_PAID,
    EVB_PAY_CREDITED                         /* fully credited */
} evb_pay_state_e;

typedef struct {
    evb_pay_state_e      state;
    int64_t              paid;               /* 10^-6 */
    int64_t              credited;           /* by credit notes, incl.
                                                VAT */
    size_t               ncredit_notes;
    evb_str_t           *credit_notes;       /* their numbers */
    /* a card payment (issue 11): when, and what the gateway reported */
    evb_msec_t           paid_at;            /* 0: none */
    evb_str_t            card_brand;
    evb_str_t            card_last4;
} evb_invoice_status_t;


/* The renderers.  status may be NULL (a credit note, or not known).
 * They never fail alone: b->oom is set on exhaustion. */
void evb_invoice_render_json(evb_buf_t *b, const evb_invoice_t *inv,
    const evb_invoice_status_t *status);
void evb_invoice_render_html(evb_buf_t *b, const evb_invoice_t *inv,
    const evb_invoice_status_t *status);
void evb_invoice_render_ubl(evb_buf_t *b, const evb_invoice_t *inv);


#endif /* EVB_INVOICE_H */
