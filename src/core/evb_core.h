/*
 * evbill billing core: shared basic types.
 *
 * Plain C11, no nginx and no LMDB headers, so the core can be unit-tested,
 * fuzzed and reused by command-line tools.
 */

#ifndef EVB_CORE_H
#define EVB_CORE_H

#include <stddef.h>
#include <stdint.h>


/* A byte string that is not necessarily NUL-terminated. */
typedef struct {
    const char   *data;
    size_t        len;
} evb_str_t;

#define evb_str_lit(s)  { (s), sizeof(s) - 1 }


/* Milliseconds since the Unix epoch, UTC. */
typedef int64_t  evb_msec_t;


/*
 * A malloc-backed bump allocator: everything built while handling one
 * request (parsed JSON, decoded records) lives here and is freed at once.
 * Not thread-safe; one arena per user.
 */
typedef struct evb_arena_s  evb_arena_t;

evb_arena_t *evb_arena_create(size_t chunk_size);
void *evb_arena_alloc(evb_arena_t *a, size_t size);    /* 8-byte aligned */
char *evb_arena_strdup(evb_arena_t *a, const char *s, size_t len);
void evb_arena_destroy(evb_arena_t *a);


/*
 * A growable output buffer.  On allocation failure "oom" is set and every
 * later append is a no-op, so callers check once at the end.
 */
typedef struct {
    char         *data;
    size_t        len;
    size_t        cap;
    int           oom;
} evb_buf_t;

void evb_buf_init(evb_buf_t *b);
void evb_buf_free(evb_buf_t *b);
void evb_buf_reset(evb_buf_t *b);
void evb_buf_append(evb_buf_t *b, const void *data, size_t len);
void evb_buf_appends(evb_buf_t *b, const char *s);
void evb_buf_append_i64(evb_buf_t *b, int64_t v);
void evb_buf_append_u64(evb_buf_t *b, uint64_t v);
/* A JSON string literal with quotes; input must be valid UTF-8. */
void evb_buf_append_json_str(evb_buf_t *b, const char *s, size_t len);
/* An RFC 3339 UTC timestamp with milliseconds, in quotes. */
void evb_buf_append_json_time(evb_buf_t *b, evb_msec_t t);


/* RFC 3339 date-time -> ms since epoch (fraction kept to the ms,
 * truncated beyond).  Returns 0 or -1 on a malformed value. */
int evb_time_parse_rfc3339(const char *s, size_t len, evb_msec_t *out);
/* "2026-11-25T17:16:06.123Z"; buf must hold 25 bytes; returns length. */
size_t evb_time_format_rfc3339(evb_msec_t t, char *buf);

/* The civil (proleptic Gregorian) calendar, days since 1970-01-01: the
 * one implementation, for timestamps here and time zones in evb_tz.c. */
int64_t evb_days_from_civil64(int64_t y, int m, int d);
void evb_civil_from_days64(int64_t days, int64_t *y, int *m, int *d);
int evb_is_leap(int64_t y);


/* Base64 (RFC 4648, standard alphabet, padding required). */
size_t evb_base64_encoded_len(size_t n);                 /* without NUL */
size_t evb_base64_encode(const unsigned char *src, size_t n, char *dst);
/* Returns decoded length or (size_t) -1; dst holds at least n / 4 * 3. */
size_t evb_base64_decode(const char *src, size_t n, unsigned char *dst);


/* Hex (either case in, lower case out). */
size_t evb_hex_decode(const char *src, size_t n, unsigned char *dst);
void evb_hex_encode(const unsigned char *src, size_t n, char *dst);


/* 1..64 printable ASCII (0x20..0x7e) without '/', not "." or "..". */
int evb_id_valid(const char *s, size_t len);


#endif /* EVB_CORE_H */
