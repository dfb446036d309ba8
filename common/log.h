/*
 * Logging for every edgecr program.
 *
 * Under systemd (stderr connected to the journal, as $JOURNAL_STREAM tells) each
 * record goes to the journal with sd_journal_send, so its fields can be queried:
 * `journalctl -t edgecr-registry HTTP_STATUS=500`.  Elsewhere records go to stderr
 * as one line: "LEVEL message KEY=value ...".  Field names are UPPER_SNAKE and are
 * part of the interface: alerts and dashboards match on them.
 *
 * Never pass a secret (password, Authorization header, private key) as a message
 * or a field: journals are long-lived and widely readable.
 */
#ifndef EDGECR_LOG_H
#define EDGECR_LOG_H

#include <stddef.h>
#include <syslog.h>

struct ecr_log_field {
	const char *key;   /* UPPER_SNAKE journal field name, e.g. "HTTP_STATUS" */
	const char *value; /* NULL fields are skipped */
};

/* Sets the program name and picks the journal or stderr.  EDGECR_LOG=stderr
 * forces stderr, EDGECR_LOG=journal forces the journal.  Safe to call again. */
void ecr_log_init(const char *ident);

/* Sets the most verbose priority that is emitted (LOG_DEBUG..LOG_ERR);
 * the default is LOG_INFO. */
void ecr_log_set_max_priority(int priority);

/* Returns -1 when NAME is not one of debug, info, notice, warning, err. */
int ecr_log_priority_from_name(const char *name);

void ecr_log(int priority, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/* Logs a record with extra structured fields (n_fields entries). */
void ecr_log_fields(int priority, const struct ecr_log_field *fields,
		    size_t n_fields, const char *format, ...)
	__attribute__((format(printf, 4, 5)));

#endif
