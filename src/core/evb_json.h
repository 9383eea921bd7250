/*
 * A strict JSON reader on top of yajl 2.
 *
 * yajl does the lexing and UTF-8 validation; this layer builds a small
 * tree in an arena and adds what a billing API needs and yajl lacks:
 * duplicate keys are refused, nesting depth is bounded, numbers are kept
 * as their exact source text (never binary floating point), strings
 * containing NUL are refused.
 */

#ifndef EVB_JSON_H
#define EVB_JSON_H

#include "evb_core.h"


typedef enum {
    EVB_JSON_NULL = 0,
    EVB_JSON_BOOL,
    EVB_JSON_NUMBER,      /* u.str holds the literal, e.g. "-12.50e3" */
    EVB_JSON_STRING,      /* u.str holds decoded UTF-8, NUL-terminated */
    EVB_JSON_ARRAY,
    EVB_JSON_OBJECT
} evb_json_type_e;


typedef struct evb_json_s  evb_json_t;

typedef struct {
    evb_str_t     key;                  /* decoded, NUL-terminated */
    evb_json_t   *value;
} evb_json_member_t;

struct evb_json_s {
    evb_json_type_e          type;
    union {
        int                  boolean;
        evb_str_t            str;
        struct {
            evb_json_t     **items;
            size_t           n;
        } arr;
        struct {
            evb_json_member_t  *members;
            size_t              n;
        } obj;
    } u;
};


typedef enum {
    EVB_JSON_OK = 0,
    EVB_JSON_ESYNTAX,     /* malformed or truncated */
    EVB_JSON_EENCODING,   /* invalid UTF-8, or NUL inside a string */
    EVB_JSON_EDUPKEY,     /* the same key twice in one object */
    EVB_JSON_EDEPTH,      /* nesting deeper than max_depth */
    EVB_JSON_ENOMEM
} evb_json_err_e;


/*
 * Parse exactly one JSON value (trailing whitespace allowed, nothing
 * else).  On error, errbuf gets a human sentence with the byte offset,
 * suitable for a problem "detail".
 */
evb_json_err_e evb_json_parse(evb_arena_t *a, const char *text, size_t len,
    unsigned max_depth, evb_json_t **out, char *errbuf, size_t errlen);

/* Member lookup; NULL if absent or obj is not an object. */
evb_json_t *evb_json_get(const evb_json_t *obj, const char *key);


typedef enum {
    EVB_NUM_OK = 0,
    EVB_NUM_NOT_NUMBER,   /* the value is not a JSON number */
    EVB_NUM_NOT_INTEGER,  /* has a fraction or exponent ("1.0", "1e3") */
    EVB_NUM_RANGE,        /* does not fit */
    EVB_NUM_PRECISION     /* evb_json_fixed: more decimals than the scale */
} evb_num_err_e;

/* An integer literal without fraction or exponent, into int64. */
evb_num_err_e evb_json_int64(const evb_json_t *v, int64_t *out);

/*
 * A decimal number scaled by 10^scale into int64, exactly: "16.25" with
 * scale 3 is 16250.  Exponents are honoured; digits beyond the scale
 * that are not zero give EVB_NUM_PRECISION (never rounded silently).
 */
evb_num_err_e evb_json_fixed(const evb_json_t *v, unsigned scale,
    int64_t *out);


/* Serialise a tree back to compact JSON (numbers as their literal). */
void evb_json_write(evb_buf_t *b, const evb_json_t *v);


#endif /* EVB_JSON_H */
