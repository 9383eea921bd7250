/*
 * The feed's answer (GET feed): the cursor a consumer passes back, and
 * the page of items rendered from the store's entries.
 */

#ifndef EVB_FEED_RENDER_H
#define EVB_FEED_RENDER_H

#include "evb_core.h"
#include "evb_feed.h"


/* A cursor as this API returns it: the decimal feed number, "0" before
 * the first.  0, or -1 for anything else (signs, leading zeros, spaces,
 * more than 64 bits). */
int evb_feed_cursor_parse(evb_str_t s, uint64_t *after);

/* "cdr", "credit_cdr", "invoice", "credit_note" */
const char *evb_feed_kind_name(evb_feed_kind_e kind);

/*
 * {"items": [{"cursor", "kind", "id", "at", "data"}], "next"}: data is a
 * CDR as stored, or an invoice or credit note as GET invoices/{number}
 * renders it without its payment status (the feed announces the
 * immutable document; the status changes later).  next is the last
 * item's cursor, or after when there is none.  0, or -1 with detail when
 * a stored document does not decode; b->oom on exhaustion.
 */
int evb_feed_render(evb_buf_t *b, evb_arena_t *a, const evb_feed_item_t *items,
    size_t n, uint64_t after, char *detail, size_t dlen);


#endif /* EVB_FEED_RENDER_H */
