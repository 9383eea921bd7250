/*
 * The feed for downstream systems (issue 10): plain data that the
 * store (lmdb/evb_store_feed.c) fills and src/core/evb_feed_render.c
 * renders.  Every CDR, credit CDR, invoice and credit note the store
 * takes is announced under a feed number, 1, 2, 3 ... in commit order,
 * in the write transaction that stores the document.
 */

#ifndef EVB_FEED_H
#define EVB_FEED_H

#include "evb_core.h"


typedef enum {
    EVB_FEED_CDR = 1,                  /* a session's CDR, or the
                                          corrected CDR of a partial
                                          credit note */
    EVB_FEED_CREDIT_CDR,               /* the credit CDR of a credit note */
    EVB_FEED_INVOICE,
    EVB_FEED_CREDIT_NOTE
} evb_feed_kind_e;


#define EVB_FEED_LIMIT_DEFAULT  100
#define EVB_FEED_LIMIT_MAX      1000
/* the documents of one answer, as stored, at most this many bytes (but
 * always one): an answer stays a few MB whatever the limit */
#define EVB_FEED_BYTES_MAX      (1024 * 1024)
#define EVB_FEED_CURSOR_LEN     20       /* decimal of a 64-bit number */


typedef struct {
    uint64_t             no;             /* the feed number: the cursor */
    evb_feed_kind_e      kind;
    evb_msec_t           at;             /* when it was announced */
    evb_str_t            doc;            /* CDR JSON, or an invoice or
                                            credit note record */
} evb_feed_item_t;


#endif /* EVB_FEED_H */
