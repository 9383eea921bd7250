/*
 * Big-endian record fields shared by the invoice records (evb_bytes.h).
 */

#include <string.h>

#include "evb_bytes.h"


void
evb_be_put_u32(evb_buf_t *b, uint32_t v)
{
    unsigned char  x[4];

    x[0] = (unsigned char) (v >> 24);
    x[1] = (unsigned char) (v >> 16);
    x[2] = (unsigned char) (v >> 8);
    x[3] = (unsigned char) v;
    evb_buf_append(b, x, 4);
}


void
evb_be_put_i64(evb_buf_t *b, int64_t v)
{
    evb_be_put_u32(b, (uint32_t) ((uint64_t) v >> 32));
    evb_be_put_u32(b, (uint32_t) (uint64_t) v);
}


void
evb_be_put_str(evb_buf_t *b, evb_str_t s)
{
    evb_be_put_u32(b, (uint32_t) s.len);
    evb_buf_append(b, s.data, s.len);
}


void
evb_be_reader_init(evb_be_reader_t *d, evb_arena_t *a, const char *data,
    size_t len)
{
    d->a = a;
    d->p = (const unsigned char *) data;
    d->left = len;
    d->bad = 0;
}


const unsigned char *
evb_be_take(evb_be_reader_t *d, size_t n)
{
    const unsigned char  *p;

    if (d->bad || n > d->left) {
        d->bad = 1;
        return NULL;
    }

    p = d->p;
    d->p += n;
    d->left -= n;

    return p;
}


uint32_t
evb_be_u32(evb_be_reader_t *d)
{
    const unsigned char  *p;

    p = evb_be_take(d, 4);
    if (p == NULL) {
        return 0;
    }

    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}


int64_t
evb_be_i64(evb_be_reader_t *d)
{
    uint64_t  hi, lo;

    hi = evb_be_u32(d);
    lo = evb_be_u32(d);

    return (int64_t) ((hi << 32) | lo);
}


evb_str_t
evb_be_str(evb_be_reader_t *d)
{
    uint32_t              n;
    evb_str_t             s = evb_str_lit("");
    const unsigned char  *p;

    n = evb_be_u32(d);
    p = evb_be_take(d, n);

    if (p == NULL) {
        return s;
    }

    s.data = evb_arena_strdup(d->a, (const char *) p, n);
    if (s.data == NULL) {
        d->bad = 1;
        s.data = "";
        return s;
    }

    s.len = n;

    return s;
}


char
evb_vat_category(unsigned has_vat, int64_t vat)
{
    return !has_vat ? 'E' : (vat == 0 ? 'Z' : 'S');
}


int
evb_vat_category_ok(char c)
{
    return c == 'S' || c == 'Z' || c == 'E';
}
