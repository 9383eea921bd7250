/*
 * Who is billed: customers (the buyers of invoices), the tokens that
 * name them, and what a session keeps of both, and of its charger, as
 * they were at its start (OCPI: a CDR shows the location, EVSE, tariff
 * and token of the start).  Plain data, parsers of the admin bodies and
 * their renderers; the store keeps the records (lmdb/), src/ops the
 * rules.  See docs/invoicing.md ("Who is invoiced").
 */

#ifndef EVB_PARTY_H
#define EVB_PARTY_H

#include "evb_core.h"
#include "evb_json.h"
#include "evb_model.h"
#include "evb_problem.h"


/* OCPI 2.2.1 limits of what reaches a CDR */
#define EVB_OCPI_ID_MAX          36      /* CiString(36) */
#define EVB_OCPI_ADDRESS_MAX     45
#define EVB_OCPI_CITY_MAX        45
#define EVB_OCPI_POSTAL_MAX      10
#define EVB_OCPI_NAME_MAX        255
#define EVB_OCPI_EVSE_ID_MAX     48

/* customers: bounds of what reaches invoices */
#define EVB_CUSTOMER_NAME_MAX    200     /* characters */
#define EVB_CUSTOMER_STREET_MAX  200
#define EVB_CUSTOMER_CITY_MAX    100
#define EVB_CUSTOMER_POSTAL_MAX  20
#define EVB_CUSTOMER_EMAIL_MAX   254     /* bytes (RFC 5321 path) */
#define EVB_CUSTOMER_VAT_MAX     32
#define EVB_TERMS_MAX            365
#define EVB_TERMS_UNSET          (-1)    /* the seller's terms */


typedef struct {
    evb_str_t            street;
    evb_str_t            city;
    evb_str_t            postal_code;
    evb_str_t            country;            /* ISO 3166-1 alpha-2 */
} evb_address_t;


/* The seller (from evbill_seller_file) or the buyer (a customer, or the
 * fixed ad hoc buyer).  len 0: not given. */
typedef struct {
    evb_str_t            name;
    evb_address_t        address;
    evb_str_t            vat_id;
    evb_str_t            registration;       /* seller: legal reg. id */
    evb_str_t            iban;               /* seller: payee account */
    evb_str_t            bic;
    evb_str_t            email;
    evb_str_t            phone;
    evb_str_t            vat_exemption_reason;   /* seller: category E */
} evb_party_t;


typedef enum {
    EVB_INVOICING_PER_SESSION = 0,
    EVB_INVOICING_MONTHLY
} evb_invoicing_e;


/* PUT customers/{customer_id}, as stored */
typedef struct {
    evb_str_t            customer_id;
    evb_party_t          buyer;              /* name, address, vat_id,
                                                email */
    evb_invoicing_e      invoicing;
    int                  payment_terms_days; /* 0..365, EVB_TERMS_UNSET */
    evb_str_t            language;           /* "en" or "de" */
    unsigned             retired:1;
    evb_msec_t           created_at;
    evb_msec_t           updated_at;
    evb_msec_t           retired_at;         /* retired only */
} evb_customer_t;


/* PUT tokens/{uid}, as stored */
typedef struct {
    evb_str_t            uid;                /* as PUT (the key is upper
                                                case: CiString) */
    evb_token_type_e     type;
    evb_str_t            customer_id;
    evb_str_t            contract_id;        /* len 0: the uid */
    evb_str_t            issuer_country;     /* len 0: the CPO's */
    evb_str_t            issuer_party;
    evb_msec_t           created_at;
    evb_msec_t           updated_at;
} evb_token_rec_t;


/*
 * What a session keeps of its start, written once (the session record
 * stays small).  customer_id len 0: a roaming or unknown token (no
 * driver invoice; the eMSP bills its driver).  The cdr_token fields are
 * what the CDR prints: from the token record, or for an unknown token
 * the CPO's country and party with the uid as contract id.
 */
typedef struct {
    uint64_t             sid;
    evb_str_t            customer_id;
    unsigned             token_known:1;      /* a token record matched */
    evb_str_t            token_uid;
    evb_token_type_e     token_type;
    evb_str_t            contract_id;
    evb_str_t            token_country;      /* len 0: the CPO's */
    evb_str_t            token_party;
    evb_str_t            charger_doc;        /* the charger's document
                                                (location, evse_uid,
                                                evse_id, connector) */
    evb_str_t            time_zone;          /* IANA, the charger's */
    evb_str_t            tariff_id;
    uint32_t             tariff_version;     /* 0: not defined */
    evb_msec_t           taken_at;           /* the start */
} evb_session_start_t;


/* Where a session charged, as its start record keeps it (the charger's
 * document then), for invoices: OCPI's values, country alpha-3 as the
 * CDR has it (evb_country_alpha2() converts). */
typedef struct {
    evb_str_t            location_id;
    evb_str_t            name;
    evb_str_t            address;
    evb_str_t            city;
    evb_str_t            postal_code;
    evb_str_t            country;            /* ISO 3166-1 alpha-3 */
    evb_str_t            evse_uid;
    evb_str_t            evse_id;
    evb_str_t            connector_standard;
    evb_str_t            connector_format;
    evb_str_t            connector_power_type;
} evb_place_t;

/* 0, or -1 when the document does not read (strings in the arena) */
int evb_session_start_place(evb_arena_t *a, const evb_session_start_t *st,
    evb_place_t *out);


/*
 * Parsers of the admin bodies: EVB_OK or the first refusal's problem
 * with detail, and every bad field in errors (JSON Pointers), like the
 * parsers of evb_model.h.  Unknown members are refused (a typo must not
 * pass as an absent optional field).  Strings point into the tree.
 */
evb_problem_e evb_parse_customer(evb_arena_t *a, const evb_json_t *root,
    evb_str_t customer_id, evb_customer_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors);

evb_problem_e evb_parse_token(evb_arena_t *a, const evb_json_t *root,
    evb_str_t uid, evb_token_rec_t *out, char *detail, size_t len,
    evb_field_error_t *errors, size_t *nerrors);


/* Checks shared with the charger and session parsers. */

/* 1..max bytes of printable ASCII (OCPI CiString) */
int evb_ocpi_string_ok(evb_str_t s, size_t max);
/* 1..max characters (UTF-8, checked by the JSON reader) without control
 * characters (C0, DEL, C1) or what XML 1.0 forbids (U+FFFE, U+FFFF) */
int evb_text_ok(evb_str_t s, size_t max);
/* OCPI 2.2.1 ConnectorType */
int evb_connector_standard_ok(evb_str_t s);
/* ISO 3166-1 */
int evb_country_alpha2_ok(evb_str_t s);
/* alpha-3 to alpha-2 ("DEU" -> "DE"); NULL when not a code */
const char *evb_country_alpha2(evb_str_t alpha3);

/* The token key: the uid in upper case (CiString compares without
 * case); buf holds EVB_OCPI_ID_MAX bytes; returns the length or 0. */
size_t evb_token_key(evb_str_t uid, char *buf);


/* Renderers (admin view). */
void evb_render_customer(evb_buf_t *b, evb_view_e view,
    const evb_customer_t *c);
/* {"items": [...], "next": cursor or null} */
void evb_render_customer_page(evb_buf_t *b, evb_view_e view,
    const evb_customer_t *items, size_t n, const char *next);
void evb_render_token(evb_buf_t *b, evb_view_e view,
    const evb_token_rec_t *t);
/* {"uid": uid, "deleted": true} */
void evb_render_token_deleted(evb_buf_t *b, evb_view_e view, evb_str_t uid);
/* the members a session shows of its start: ,"customer_id":...,
 * "cdr_token":{...},"token_known":... */
void evb_render_session_start_members(evb_buf_t *b, evb_view_e view,
    const evb_session_start_t *st, evb_str_t cpo_country,
    evb_str_t cpo_party);
/* the same, added to the session object evb_render_session() just
 * rendered at the end of b */
void evb_render_session_add_start(evb_buf_t *b, evb_view_e view,
    const evb_session_start_t *st, evb_str_t cpo_country,
    evb_str_t cpo_party);


#endif /* EVB_PARTY_H */
