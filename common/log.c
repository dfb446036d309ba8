/*
 * Journal or stderr logging; see log.h for the contract.
 *
 * Records are assembled in a stack buffer and written with one write(2) (stderr)
 * or one sd_journal_sendv call, so lines from different threads never interleave.
 */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#define LOG_LINE_MAX 4096
#define LOG_FIELDS_MAX 24

static const char *log_ident = "edgecr";
static int log_to_journal;
static int log_max_priority = LOG_INFO;

static const char *const priority_names[] = {
	[LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connected to
 * stderr; only when stderr is still that stream are we talking to the journal. */
static int stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

void ecr_log_init(const char *ident)
{
	const char *mode = getenv("EDGECR_LOG");

	log_ident = ident;
	if (mode && strcmp(mode, "stderr") == 0)
		log_to_journal = 0;
	else if (mode && strcmp(mode, "journal") == 0)
		log_to_journal = 1;
	else
		log_to_journal = stderr_is_journal();
}

void ecr_log_set_max_priority(int priority)
{
	log_max_priority = priority;
}

int ecr_log_priority_from_name(const char *name)
{
	for (size_t i = 0; i < sizeof(priority_names) / sizeof(priority_names[0]); i++)
		if (priority_names[i] && strcmp(priority_names[i], name) == 0)
			return (int)i;
	return -1;
}

static void log_to_stderr(int priority, const struct ecr_log_field *fields,
			  size_t n_fields, const char *message)
{
	char line[LOG_LINE_MAX];
	size_t len;

	len = (size_t)snprintf(line, sizeof(line), "%s[%d]: %s %s", log_ident,
			       (int)getpid(), priority_names[priority], message);
	for (size_t i = 0; i < n_fields && len < sizeof(line); i++) {
		if (!fields[i].value)
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s",
					fields[i].key, fields[i].value);
	}
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	line[len++] = '\n';

	/* A failed write to stderr has nowhere to be reported. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

static void log_to_journal_fields(int priority, const struct ecr_log_field *fields,
				  size_t n_fields, const char *message)
{
	char items[LOG_FIELDS_MAX + 3][LOG_LINE_MAX / 4];
	struct iovec iov[LOG_FIELDS_MAX + 3];
	size_t n = 0;

	snprintf(items[n], sizeof(items[n]), "PRIORITY=%d", priority);
	n++;
	snprintf(items[n], sizeof(items[n]), "SYSLOG_IDENTIFIER=%s", log_ident);
	n++;
	snprintf(items[n], sizeof(items[n]), "MESSAGE=%s", message);
	n++;
	for (size_t i = 0; i < n_fields && i < LOG_FIELDS_MAX; i++) {
		if (!fields[i].value)
			continue;
		snprintf(items[n], sizeof(items[n]), "%s=%s", fields[i].key, fields[i].value);
		n++;
	}
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = items[i];
		iov[i].iov_len = strlen(items[i]);
	}
	sd_journal_sendv(iov, (int)n);
}

static void log_record(int priority, const struct ecr_log_field *fields,
		       size_t n_fields, const char *format, va_list ap)
{
	char message[LOG_LINE_MAX / 2];

	/* Emergencies and criticals are reported as errors: edgecr has no use for more. */
	if (priority < LOG_ERR)
		priority = LOG_ERR;
	if (priority > log_max_priority || priority > LOG_DEBUG)
		return;

	vsnprintf(message, sizeof(message), format, ap);
	if (log_to_journal)
		log_to_journal_fields(priority, fields, n_fields, message);
	else
		log_to_stderr(priority, fields, n_fields, message);
}

void ecr_log(int priority, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	log_record(priority, NULL, 0, format, ap);
	va_end(ap);
}

void ecr_log_fields(int priority, const struct ecr_log_field *fields,
		    size_t n_fields, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	log_record(priority, fields, n_fields, format, ap);
	va_end(ap);
}
