/* Shared by the journal's two halves: lib/journal.c (in memory: targets,
 * their index, what changed, and the JSON of checkpoints and records) and
 * lib/journal-file.c (on disk: frames, load, save, lock). Not the engine's
 * API. */
#ifndef ISOLATED_JOURNAL_INTERNAL_H
#define ISOLATED_JOURNAL_INTERNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "isolated/journal.h"
#include "isolated/util.h"

/* The first bytes of a checkpoint's header line we remember ("c LENGTH
 * PCRC HCRC\n": at most 2 + 20 + 1 + 8 + 1 + 8 + 1). */
#define JOURNAL_HEAD_MAX 48

/* The file a journal was read from or last written to, as it was then. */
struct journal_file_id {
	bool known;
	dev_t dev;
	ino_t ino;
	uint64_t size;	    /* its length after our last read or append */
	uint64_t ckpt_size; /* the checkpoint frame's length */
	char head[JOURNAL_HEAD_MAX];
	size_t head_len;
	bool rewrite; /* the next save writes a checkpoint (format 1, a torn tail) */
};

struct journal_file_id *journal_file_id(struct journal *j);

/* A parse error: "WHERE: message", or "message" at the top level; -EBADMSG. */
int journal_bad(char *err, size_t errlen, const char *where, const char *fmt, ...) ISO_PRINTF(4, 5);
uint32_t journal_crc(const char *buf, size_t len);

/* The whole journal as the JSON text of a checkpoint (checked first:
 * -EINVAL with err for one that would not read back). Allocated, with a
 * final newline, NUL-terminated; *ret_len excludes the NUL. */
int journal_checkpoint_text(const struct journal *j, char **ret, size_t *ret_len, char *err, size_t errlen);
/* What changed since the last journal_mark_saved as the JSON text of a
 * record (as above); *ret NULL when nothing did. */
int journal_record_text(struct journal *j, char **ret, size_t *ret_len, char *err, size_t errlen);
/* The journal is what the file holds now: nothing changed since. */
void journal_mark_saved(struct journal *j, const struct journal_file_id *id);

/* A checkpoint's JSON text into a new journal (not checked yet: records
 * follow). where names it in messages. */
int journal_parse_checkpoint(const char *buf, size_t len, const char *where, struct journal **ret, char *err,
			     size_t errlen);
/* A record's JSON text applied to j. */
int journal_apply_record(struct journal *j, const char *buf, size_t len, const char *where, char *err, size_t errlen);
/* The rules every journal satisfies, after the records are applied. */
int journal_check(const struct journal *j, char *err, size_t errlen);
/* Format 1: JSON object and "end LENGTH CRC32" trailer. */
int journal_parse_v1(const char *buf, size_t len, struct journal **ret, char *err, size_t errlen);

#endif
