/*
 * Reader for edgecr's configuration files.
 *
 * The format is one "key = value" per line.  Blank lines and lines whose first
 * non-blank character is '#' are ignored.  Whitespace around the key and the
 * value is dropped; a value may be wrapped in double quotes to keep leading or
 * trailing blanks.  There are no sections and no escapes, so every value is
 * exactly the characters the administrator wrote.
 */
#ifndef EDGECR_CONF_H
#define EDGECR_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Maximum length of one line of a configuration file, newline included. */
#define ECR_CONF_LINE_MAX 4096

/*
 * Called once per key, in file order.  Returns 0 to go on; a negative errno
 * stops the reading and is returned by ecr_conf_read, in which case the
 * callback has written a message naming the key and the value into err.
 */
typedef int (*ecr_conf_fn)(void *userdata, const char *key, const char *value,
			   char *err, size_t err_size);

/*
 * Reads PATH and calls FN for each key.  Returns 0, or a negative errno with
 * "PATH:LINE: reason" in err (an unreadable file, a line without '=', a line
 * too long, or the callback's own message).
 */
int ecr_conf_read(const char *path, ecr_conf_fn fn, void *userdata,
		  char *err, size_t err_size);

/* Parses a decimal integer in [min, max] into *ret.  Returns 0 or -EINVAL. */
int ecr_conf_parse_u64(const char *value, uint64_t min, uint64_t max, uint64_t *ret);

/* Parses "N" bytes or N with the binary unit K, M, G, T (or KiB, MiB, GiB,
 * TiB) into *RET.  Returns 0 or -EINVAL, also on overflow. */
int ecr_conf_parse_size(const char *text, uint64_t *ret);

/* Parses "HH:MM" (00:00 to 23:59) into a minute of the day.  Returns 0 or
 * -EINVAL. */
int ecr_conf_parse_daily_time(const char *value, int *ret_minute);

/* Parses true/false/yes/no/on/off/1/0.  Returns 0 or -EINVAL. */
int ecr_conf_parse_bool(const char *value, int *ret);

/* Replaces *slot with a copy of VALUE (freeing the old one).  Returns 0 or -ENOMEM. */
int ecr_conf_set_string(char **slot, const char *value);

#endif
