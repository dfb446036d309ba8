/* Configuration file reader; see conf.h for the format. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

static char *unquote(char *value)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		return value + 1;
	}
	return value;
}

static int conf_read_line(char *line, unsigned lineno, const char *path,
			  ecr_conf_fn fn, void *userdata, char *err, size_t err_size)
{
	char reason[512] = "";
	char *key, *value, *eq;
	int r;

	key = trim(line);
	if (*key == '\0' || *key == '#')
		return 0;

	eq = strchr(key, '=');
	if (!eq) {
		snprintf(err, err_size, "%s:%u: expected \"key = value\", found \"%.64s\"",
			 path, lineno, key);
		return -EINVAL;
	}
	*eq = '\0';
	value = unquote(trim(eq + 1));
	key = trim(key);

	r = fn(userdata, key, value, reason, sizeof(reason));
	if (r < 0)
		snprintf(err, err_size, "%s:%u: %s", path, lineno, reason);
	return r;
}

int ecr_conf_read(const char *path, ecr_conf_fn fn, void *userdata,
		  char *err, size_t err_size)
{
	char line[ECR_CONF_LINE_MAX + 1];
	unsigned lineno = 0;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		r = -errno;
		snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
		return r;
	}

	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, err_size, "%s:%u: line longer than %d bytes",
				 path, lineno, ECR_CONF_LINE_MAX);
			r = -EINVAL;
			goto out;
		}
		r = conf_read_line(line, lineno, path, fn, userdata, err, err_size);
		if (r < 0)
			goto out;
	}
	if (ferror(f)) {
		snprintf(err, err_size, "%s: read failed", path);
		r = -EIO;
	}

out:
	fclose(f);
	return r;
}

int ecr_conf_parse_u64(const char *value, uint64_t min, uint64_t max, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ecr_conf_parse_size(const char *text, uint64_t *ret)
{
	static const char *const units[] = { "", "K", "M", "G", "T" };
	static const char *const iec_units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned long long number;
	char *end;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	number = strtoull(text, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	for (int shift = 0; shift < 5; shift++) {
		if (strcmp(end, units[shift]) != 0 && strcmp(end, iec_units[shift]) != 0)
			continue;
		if (number > (UINT64_MAX >> (10 * shift)))
			return -EINVAL;
		*ret = (uint64_t)number << (10 * shift);
		return 0;
	}
	return -EINVAL;
}

int ecr_conf_parse_daily_time(const char *value, int *ret_minute)
{
	unsigned hour, minute;
	char end;

	if (strlen(value) != 5 || sscanf(value, "%2u:%2u%c", &hour, &minute, &end) != 2 ||
	    hour > 23 || minute > 59)
		return -EINVAL;
	*ret_minute = (int)(hour * 60 + minute);
	return 0;
}

int ecr_conf_parse_bool(const char *value, int *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*ret = 1;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*ret = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int ecr_conf_set_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}
