/*
 * Big-endian fields of the invoice records (invoices, credit notes,
 * monthly pending sessions and runs): u32, i64 and length-prefixed
 * strings.  The reader never reads past its bytes: a short record sets
 * bad and yields zeros, so a decoder checks once at the end.
 */

#ifndef EVB_BYTES_H
#define EVB_BYTES_H

#include "evb_core.h"


void evb_be_put_u32(evb_buf_t *b, uint32_t v);
void evb_be_put_i64(evb_buf_t *b, int64_t v);
void evb_be_put_str(evb_buf_t *b, evb_str_t s);

typedef struct {
    evb_arena_t          *a;             /* strings are copied here */
    const unsigned char  *p;
    size_t                left;
    int                   bad;
} evb_be_reader_t;

void evb_be_reader_init(evb_be_reader_t *d, evb_arena_t *a,
    const char *data, size_t len);
const unsigned char *evb_be_take(evb_be_reader_t *d, size_t n);
uint32_t evb_be_u32(evb_be_reader_t *d);
int64_t evb_be_i64(evb_be_reader_t *d);
evb_str_t evb_be_str(evb_be_reader_t *d);

/* EN 16931 VAT category of a billed line: no VAT E, 0 % Z, else S */
char evb_vat_category(unsigned has_vat, int64_t vat);
int evb_vat_category_ok(char c);


#endif /* EVB_BYTES_H */
