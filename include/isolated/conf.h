/* The one INI reader of policies, host.conf and isolated.conf: opens a file
 * as root trusts it (trust_open), refuses one too large or binary, and parses
 * it with inih into a list of sections and keys, every syntax error a
 * "FILE:LINE: message" diag line, each key and header with the comment above
 * it. What the keys mean is the caller's. */
#ifndef ISOLATED_CONF_H
#define ISOLATED_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "isolated/util.h"

/* Larger files are refused: a configuration is a page of text, not a data set. */
#define CONF_MAX_SIZE (1024 * 1024)
/* ${name} expansion is bounded too: each reference can double a value
 * ("a = ${b}${b}", "b = ${c}${c}", ...), so thirty lines would otherwise ask
 * for gigabytes. One value may grow to CONF_MAX_VALUE bytes (a cpu list of
 * 8192 cpus is about 20 KiB), all values of one file to CONF_MAX_EXPANDED. */
#define CONF_MAX_VALUE (64 * 1024)
#define CONF_MAX_EXPANDED (16 * 1024 * 1024)
/* Sections and keys of one file: the checks compare keys, variables and
 * rules pairwise, which is nothing for a page of text and minutes for a
 * megabyte of "k1 = 1" lines. */
#define CONF_MAX_ITEMS 4096

/* The comment of a key or a section header: the lines starting with "#" or
 * ";" (after white space) directly above it, up to a line that is not one
 * (a blank line ends the block), each without its "#" or ";" and one space
 * after it, joined with "\n"; NULL when there are none. Inline comments
 * are not kept. isoctl show prints them: the shipped policies say there
 * why a value is what it is. */
struct conf_entry {
	char *key;
	char *value; /* as written (inline comment removed), continuation lines joined with " " */
	char *comment;
	unsigned line;
};

struct conf_section {
	char *header;  /* text between "[" and "]", stripped; NULL for keys before any section */
	char *comment; /* NULL for the top level */
	unsigned line; /* line of the header; of the first key for the top level */
	bool broken;   /* the header had a syntax error (already reported): ignore the body */
	struct conf_entry *entries;
	size_t n_entries;
};

struct conf_doc {
	char *file;
	struct conf_section *sections; /* file order */
	size_t n_sections;
	unsigned n_errors; /* syntax errors reported while parsing */
};

/* Open path with trust_open(path, trust_flags) (as root refusing a file, or
 * a directory on the way to it, that others could change; with TRUST_PUBLIC
 * also a file others cannot read), read it into memory (at most
 * CONF_MAX_SIZE bytes) and parse it with inih. Every syntax error is a diag
 * line counted in ret->n_errors. Returns a negative errno, with a diag line
 * "FILE: message", only when the file cannot be read or is refused as a
 * whole (-ENOENT, -EPERM, -EFBIG, -EINVAL for a binary file); *ret is then
 * untouched. */
int conf_parse_file(const char *path, unsigned trust_flags, struct conf_doc *ret, struct diag *d);
void conf_doc_free(struct conf_doc *doc);
bool conf_doc_is_empty(const struct conf_doc *doc);

/* Add a diag line (d may be NULL) and count it. */
void conf_error(unsigned *n_errors, struct diag *d, const char *file, unsigned line, const char *fmt, ...)
    ISO_PRINTF(5, 6);

/* Sort the diag lines from index `from` on by line number (stable), if they
 * all belong to file: checks run section by section, then across sections. */
void conf_sort_diag(struct diag *d, size_t from, const char *file);

/* [a-z_][a-z0-9_]* */
bool conf_valid_var_name(const char *s);

/* Look up ${name}: its value, or NULL with *ret_r set: -EINVAL with a message
 * in err, -ECANCELED when the failure has already been reported, -ENOMEM. */
typedef const char *(*conf_lookup_fn)(void *userdata, const char *name, char *err, size_t errlen, int *ret_r);

/* Replace every ${name} in s. A "$" not followed by "{" is literal. Errors as
 * conf_lookup_fn, plus -EINVAL for "${" without "}" or a bad name, for a
 * value that variables make longer than CONF_MAX_VALUE, and for a result
 * longer than *budget (what is left of the file's CONF_MAX_EXPANDED; the
 * result's length is taken from it on success). */
int conf_expand(const char *s, conf_lookup_fn lookup, void *userdata, size_t *budget, char **ret, char *err,
		size_t errlen);

#endif
