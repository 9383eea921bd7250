/*
 * Private to lmdb/: the binary encodings of stored keys and records.
 *
 * A record is a version byte followed by fixed-width big-endian integers
 * and strings prefixed by a 4-byte big-endian length.  Decoding checks
 * every length against the value's end, every enum against its range, and
 * that nothing trails the record; strings are copied into the arena, so a
 * decoded record outlives the transaction it was read in.
 */

#ifndef EVB_CODEC_H
#define EVB_CODEC_H

#include "../src/core/evb_core.h"
#include "../src/core/evb_model.h"


#define EVB_REC_V1        1
#define EVB_REC_V2        2
#define EVB_REC_V3        3
#define EVB_REC_V4        4

/* decoding results */
#define EVB_DEC_OK        0
#define EVB_DEC_CORRUPT  -1
#define EVB_DEC_NOMEM    -2


/* Encodings append to an evb_buf_t (src/core), whose oom sticks: check
 * it once after encoding. */

void evb_put_be32(unsigned char *p, uint32_t v);
void evb_put_be64(unsigned char *p, uint64_t v);
uint32_t evb_get_be32(const unsigned char *p);
uint64_t evb_get_be64(const unsigned char *p);

/* started_at as an unsigned key that sorts like the signed value */
uint64_t evb_time_key(evb_msec_t t);


void evb_enc_session(evb_buf_t *e, const evb_session_t *s);
void evb_enc_reading(evb_buf_t *e, const evb_reading_t *r);
void evb_enc_charger(evb_buf_t *e, const evb_charger_t *c);
void evb_enc_key(evb_buf_t *e, const evb_key_record_t *k);

/* With a NULL arena, strings point into data (only for a look made
 * before the transaction writes again).
 * charger_id, key_id (keys) are not part of the charger and key records:
 * they are the records' keys; the caller fills them in. */
int evb_dec_session(evb_arena_t *a, const void *data, size_t len,
    evb_session_t *s);
int evb_dec_reading(evb_arena_t *a, const void *data, size_t len,
    evb_reading_t *r);
int evb_dec_charger(evb_arena_t *a, const void *data, size_t len,
    evb_charger_t *c);
int evb_dec_key(evb_arena_t *a, const void *data, size_t len,
    evb_key_record_t *k);


/*
 * Schema 3 (evb_codec_log.c): compact records with LEB128 varints.
 *
 * A reading log entry: the reading, its session and the number of the
 * session's previous entry (prev: 0 none).  A live record: what every
 * reading changes in an open session (the hot part of evb_session_t:
 * last_*, nreadings, updated_at, log_last, activity_at, cost,
 * cost_error and the rating state, the latter with its zero runs
 * squeezed out).
 */
void evb_enc_log_reading(evb_buf_t *e, uint64_t sid, uint64_t prev,
    uint64_t rno, const evb_reading_t *r);
int evb_dec_log_reading(evb_arena_t *a, const void *data, size_t len,
    uint64_t rno, uint64_t *sid, uint64_t *prev, evb_reading_t *r);

void evb_enc_session_live(evb_buf_t *e, const evb_session_t *s);
/* overrides the hot fields of s (decoded from its cold record) */
int evb_dec_session_live(evb_arena_t *a, const void *data, size_t len,
    evb_session_t *s);


#endif /* EVB_CODEC_H */
