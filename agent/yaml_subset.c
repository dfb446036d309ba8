/*
 * The kubeconfig subset of YAML; see yaml_subset.h.
 *
 * The text is cut into lines with their indentation first; comments and blank
 * lines are dropped there.  A recursive descent then reads a node at a given
 * indentation: a sequence when its first line starts with "-", else a
 * mapping.  For "- key: value" the dash is replaced by spaces, so the item's
 * mapping continues at the indentation of "key".
 */
#include "yaml_subset.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nesting deeper than this is not a kubeconfig. */
#define DEPTH_MAX 32

struct yaml_line {
	int number;        /* 1-based, for messages */
	size_t indent;
	char *text;        /* after the indentation, comment and trailing blanks removed */
};

struct yaml_doc {
	struct yaml_line *lines;
	size_t n;
	size_t pos;
	char *err;
	size_t err_size;
};

static int fail(struct yaml_doc *d, int number, const char *reason)
{
	snprintf(d->err, d->err_size, "line %d: %s", number, reason);
	return -EINVAL;
}

/* Cuts LINE at a comment: '#' at the start or after a blank, outside quotes. */
static void strip_comment(char *line)
{
	char quote = 0;

	for (char *p = line; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '#' && (p == line || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
}

static void trim_end(char *s)
{
	size_t len = strlen(s);

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
}

/* Splits BUF (modified in place) into the lines of D. */
static int split_lines(struct yaml_doc *d, char *buf)
{
	size_t cap = 64;
	int number = 0;

	d->lines = malloc(cap * sizeof(*d->lines));
	if (!d->lines)
		return -ENOMEM;
	for (char *line = buf; line; ) {
		char *nl = strchr(line, '\n');
		size_t indent = 0;

		if (nl)
			*nl = '\0';
		number++;
		while (line[indent] == ' ')
			indent++;
		if (line[indent] == '\t')
			return fail(d, number, "a tab indents the line; YAML allows only spaces");
		strip_comment(line + indent);
		trim_end(line + indent);
		if (line[indent] && strcmp(line, "---") != 0) {
			if (d->n == cap) {
				struct yaml_line *grown = realloc(d->lines, 2 * cap * sizeof(*grown));

				if (!grown)
					return -ENOMEM;
				d->lines = grown;
				cap *= 2;
			}
			d->lines[d->n++] = (struct yaml_line){ number, indent, line + indent };
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

static bool is_seq_item(const char *text)
{
	return text[0] == '-' && (text[1] == '\0' || text[1] == ' ');
}

/* Decodes a double-quoted scalar that starts at S; *ret_end points after it. */
static json_t *double_quoted(const char *s, const char **ret_end)
{
	size_t len = strlen(s);
	char *out = malloc(len + 1);
	size_t n = 0;
	json_t *value = NULL;

	if (!out)
		return NULL;
	for (s++; *s && *s != '"'; s++) {
		if (*s != '\\') {
			out[n++] = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 'r': out[n++] = '\r'; break;
		case '"': case '\\': case '/': out[n++] = *s; break;
		default: free(out); return NULL;   /* \x, \u and the rest: not in kubeconfigs */
		}
	}
	if (*s == '"') {
		out[n] = '\0';
		*ret_end = s + 1;
		value = json_stringn(out, n);
	}
	free(out);
	return value;
}

/* Decodes a single-quoted scalar, where '' stands for one quote. */
static json_t *single_quoted(const char *s, const char **ret_end)
{
	char *out = malloc(strlen(s) + 1);
	size_t n = 0;
	json_t *value = NULL;

	if (!out)
		return NULL;
	for (s++; *s; s++) {
		if (*s == '\'' && s[1] == '\'') {
			out[n++] = '\'';
			s++;
		} else if (*s == '\'') {
			break;
		} else {
			out[n++] = *s;
		}
	}
	if (*s == '\'') {
		*ret_end = s + 1;
		value = json_stringn(out, n);
	}
	free(out);
	return value;
}

static json_t *scalar(struct yaml_doc *d, int number, const char *s)
{
	const char *end = NULL;
	json_t *value;

	if (*s == '"' || *s == '\'') {
		value = *s == '"' ? double_quoted(s, &end) : single_quoted(s, &end);
		if (!value || *end != '\0') {
			json_decref(value);
			fail(d, number, "invalid quoted value");
			return NULL;
		}
		return value;
	}
	if (*s == '[' || *s == '{') {
		value = json_loads(s, JSON_DECODE_ANY, NULL);
		if (!value)
			fail(d, number, "a flow collection that is not JSON is not supported");
		return value;
	}
	if (strchr("&*!|>%@`", *s)) {
		fail(d, number, "anchors, aliases, tags and block scalars are not supported");
		return NULL;
	}
	return json_string(s);
}

/* Finds the ':' that ends a mapping key in TEXT, or NULL. */
static char *key_end(char *text)
{
	char *p = text;

	if (*p == '"' || *p == '\'') {
		p = strchr(p + 1, *p);
		if (!p)
			return NULL;
		p++;
		return *p == ':' && (p[1] == '\0' || p[1] == ' ') ? p : NULL;
	}
	for (; *p; p++) {
		if (*p == ':' && (p[1] == '\0' || p[1] == ' '))
			return p;
	}
	return NULL;
}

static int parse_node(struct yaml_doc *d, size_t indent, int depth, json_t **ret);

/* Reads the value of a key whose line ended after the ':'. */
static int parse_nested(struct yaml_doc *d, size_t indent, int depth, json_t **ret)
{
	struct yaml_line *next = d->pos < d->n ? &d->lines[d->pos] : NULL;

	if (next && (next->indent > indent || (next->indent == indent && is_seq_item(next->text))))
		return parse_node(d, next->indent, depth + 1, ret);
	*ret = json_null();
	return 0;
}

static int parse_mapping(struct yaml_doc *d, size_t indent, int depth, json_t *map)
{
	while (d->pos < d->n && d->lines[d->pos].indent == indent &&
	       !is_seq_item(d->lines[d->pos].text)) {
		struct yaml_line *line = &d->lines[d->pos++];
		char *colon = key_end(line->text), *rest;
		json_t *key, *value = NULL;
		int r;

		if (!colon)
			return fail(d, line->number, "expected \"key: value\"");
		*colon = '\0';
		rest = colon + 1;
		while (*rest == ' ')
			rest++;
		key = scalar(d, line->number, line->text);
		if (!key)
			return -EINVAL;
		if (*rest) {
			value = scalar(d, line->number, rest);
			r = value ? 0 : -EINVAL;
		} else {
			r = parse_nested(d, indent, depth, &value);
		}
		if (r == 0 && json_object_set_new(map, json_string_value(key), value) < 0)
			r = -ENOMEM;
		json_decref(key);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_sequence(struct yaml_doc *d, size_t indent, int depth, json_t *seq)
{
	while (d->pos < d->n && d->lines[d->pos].indent == indent &&
	       is_seq_item(d->lines[d->pos].text)) {
		struct yaml_line *line = &d->lines[d->pos];
		json_t *item = NULL;
		size_t skip = 1;
		int r;

		while (line->text[skip] == ' ')
			skip++;
		if (line->text[skip] == '\0') {
			d->pos++;
			r = parse_nested(d, indent, depth, &item);
			if (r == 0 && item == NULL)
				item = json_null();
		} else if (key_end(line->text + skip)) {
			/* "- key: value": the item's mapping starts at "key". */
			line->text += skip;
			line->indent += skip;
			r = parse_node(d, line->indent, depth + 1, &item);
		} else {
			d->pos++;
			item = scalar(d, line->number, line->text + skip);
			r = item ? 0 : -EINVAL;
		}
		if (r == 0 && json_array_append_new(seq, item) < 0)
			r = -ENOMEM;
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_node(struct yaml_doc *d, size_t indent, int depth, json_t **ret)
{
	bool seq = is_seq_item(d->lines[d->pos].text);
	json_t *node = seq ? json_array() : json_object();
	int r;

	if (depth > DEPTH_MAX)
		return fail(d, d->lines[d->pos].number, "nested too deeply");
	if (!node)
		return -ENOMEM;
	r = seq ? parse_sequence(d, indent, depth, node) : parse_mapping(d, indent, depth, node);
	if (r < 0) {
		json_decref(node);
		return r;
	}
	*ret = node;
	return 0;
}

int agent_yaml_parse(const char *text, json_t **ret_root, char *err, size_t err_size)
{
	struct yaml_doc d = { .err = err, .err_size = err_size };
	json_t *root = NULL;
	char *buf = NULL;
	int r;

	if (strlen(text) > AGENT_YAML_MAX) {
		snprintf(err, err_size, "the file is larger than %d bytes", AGENT_YAML_MAX);
		return -EINVAL;
	}
	if (text[strspn(text, " \t\r\n")] == '{') {
		json_error_t json_err;

		root = json_loads(text, 0, &json_err);
		if (!root) {
			snprintf(err, err_size, "line %d: %s", json_err.line, json_err.text);
			return -EINVAL;
		}
		*ret_root = root;
		return 0;
	}
	buf = strdup(text);
	if (!buf)
		return -ENOMEM;
	r = split_lines(&d, buf);
	if (r == 0 && d.n == 0)
		r = fail(&d, 1, "the document is empty");
	if (r == 0)
		r = parse_node(&d, d.lines[0].indent, 0, &root);
	if (r == 0 && d.pos < d.n)
		r = fail(&d, d.lines[d.pos].number, "unexpected indentation");
	if (r == -ENOMEM)
		snprintf(err, err_size, "out of memory");
	free(d.lines);
	free(buf);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	*ret_root = root;
	return 0;
}
