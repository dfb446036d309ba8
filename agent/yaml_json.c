/*
 * YAML to jansson through libyaml's event parser; see yaml_json.h.
 *
 * The parser delivers events in document order.  Mappings and sequences that
 * are still open wait on a stack, and each new node is added to the innermost
 * one as soon as it is read.  So the root owns every node at all times, and
 * one json_decref frees a tree left half built by an error.  An open mapping
 * whose key has been read keeps that key until its value arrives.
 */
#include "yaml_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct yaml_open_node {
	json_t *node;           /* borrowed: its parent or the root owns it */
	char *key;              /* owned: a mapping's key that waits for its value */
};

struct yaml_builder {
	struct yaml_open_node open[AGENT_YAML_DEPTH_MAX];
	size_t depth;           /* entries of open in use */
	json_t *root;           /* owned */
	unsigned documents;     /* documents started so far */
	bool done;              /* the stream has ended */
	char *err;
	size_t err_size;
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct yaml_builder *b, const yaml_event_t *event, const char *format, ...)
{
	char reason[256];
	va_list args;

	va_start(args, format);
	vsnprintf(reason, sizeof(reason), format, args);
	va_end(args);
	snprintf(b->err, b->err_size, "line %zu: %s", event->start_mark.line + 1, reason);
	return -EINVAL;
}

/* Stores libyaml's reason for a failed yaml_parser_parse in ERR. */
static int parser_error(const yaml_parser_t *parser, char *err, size_t err_size)
{
	const char *problem = parser->problem ? parser->problem : "invalid YAML";

	if (parser->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	/* The reader checks the encoding and reports a byte offset, not a mark. */
	if (parser->error == YAML_READER_ERROR)
		snprintf(err, err_size, "byte %zu: %s", parser->problem_offset, problem);
	else if (parser->context)
		snprintf(err, err_size, "line %zu, column %zu: %s (%s at line %zu)",
			 parser->problem_mark.line + 1, parser->problem_mark.column + 1, problem,
			 parser->context, parser->context_mark.line + 1);
	else
		snprintf(err, err_size, "line %zu, column %zu: %s", parser->problem_mark.line + 1,
			 parser->problem_mark.column + 1, problem);
	return -EINVAL;
}

/* Accepts no tag, the non-specific "!", and CORE_TAG, the core tag of the
 * node's kind. */
static bool tag_allowed(const yaml_char_t *tag, const char *core_tag)
{
	return !tag || strcmp((const char *)tag, "!") == 0 ||
	       strcmp((const char *)tag, core_tag) == 0;
}

/* Rejects what this reader does not resolve: anchors and unknown tags. */
static int check_properties(struct yaml_builder *b, const yaml_event_t *event,
			    const yaml_char_t *anchor, const yaml_char_t *tag, const char *core_tag)
{
	if (anchor)
		return fail_at(b, event, "anchor &%s is not supported; write the value out "
			       "in place of anchors and aliases", (const char *)anchor);
	if (!tag_allowed(tag, core_tag))
		return fail_at(b, event, "tag %s is not supported", (const char *)tag);
	return 0;
}

/* Tells whether the next node is the key of the innermost open mapping. */
static bool expects_key(const struct yaml_builder *b)
{
	const struct yaml_open_node *top = b->depth ? &b->open[b->depth - 1] : NULL;

	return top && json_is_object(top->node) && !top->key;
}

/* Adds NODE, a new reference that this consumes, to the innermost open
 * collection, or makes it the root. */
static int add_node(struct yaml_builder *b, json_t *node)
{
	struct yaml_open_node *parent;
	int r;

	if (!node)
		return -ENOMEM;
	if (b->depth == 0) {
		b->root = node;
		return 0;
	}
	parent = &b->open[b->depth - 1];
	if (json_is_array(parent->node)) {
		r = json_array_append_new(parent->node, node);
	} else {
		r = json_object_set_new(parent->node, parent->key, node);
		free(parent->key);
		parent->key = NULL;
	}
	return r < 0 ? -ENOMEM : 0;
}

static int set_key(struct yaml_builder *b, const yaml_event_t *event, const char *key)
{
	struct yaml_open_node *mapping = &b->open[b->depth - 1];

	/* YAML requires unique keys, and taking the first or the last would be a guess. */
	if (json_object_get(mapping->node, key))
		return fail_at(b, event, "duplicate key \"%s\"", key);
	mapping->key = strdup(key);
	return mapping->key ? 0 : -ENOMEM;
}

/* Tells whether a scalar resolves to null under the YAML core schema. */
static bool is_null(const yaml_event_t *event)
{
	const char *value = (const char *)event->data.scalar.value;

	if (event->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || event->data.scalar.tag)
		return false;
	return value[0] == '\0' || strcmp(value, "~") == 0 || strcmp(value, "null") == 0 ||
	       strcmp(value, "Null") == 0 || strcmp(value, "NULL") == 0;
}

static int on_scalar(struct yaml_builder *b, const yaml_event_t *event)
{
	const char *value = (const char *)event->data.scalar.value;
	size_t len = event->data.scalar.length;
	int r;

	r = check_properties(b, event, event->data.scalar.anchor, event->data.scalar.tag,
			     YAML_STR_TAG);
	if (r < 0)
		return r;
	/* A "\0" escape would cut the string short for every C reader of the tree. */
	if (memchr(value, '\0', len))
		return fail_at(b, event, "a scalar contains a NUL character");

	if (expects_key(b))
		return set_key(b, event, value);
	if (is_null(event))
		return add_node(b, json_null());
	/* libyaml (0.2.5) rejects invalid UTF-8 input and escapes outside Unicode,
	 * such as surrogates, so json_stringn fails only when out of memory. */
	return add_node(b, json_stringn(value, len));
}

static int on_collection_start(struct yaml_builder *b, const yaml_event_t *event)
{
	bool mapping = event->type == YAML_MAPPING_START_EVENT;
	json_t *node;
	int r;

	r = mapping ? check_properties(b, event, event->data.mapping_start.anchor,
				       event->data.mapping_start.tag, YAML_MAP_TAG)
		    : check_properties(b, event, event->data.sequence_start.anchor,
				       event->data.sequence_start.tag, YAML_SEQ_TAG);
	if (r < 0)
		return r;
	if (expects_key(b))
		return fail_at(b, event, "a mapping or sequence as a key is not supported");
	if (b->depth == AGENT_YAML_DEPTH_MAX)
		return fail_at(b, event, "mappings and sequences nest deeper than %d levels",
			       AGENT_YAML_DEPTH_MAX);

	node = mapping ? json_object() : json_array();
	r = add_node(b, node);
	if (r < 0)
		return r;
	/* The parent or the root now owns node, which stays valid while open. */
	b->open[b->depth++] = (struct yaml_open_node){ .node = node };
	return 0;
}

static int on_event(struct yaml_builder *b, const yaml_event_t *event)
{
	switch (event->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->documents++ > 0)
			return fail_at(b, event, "a second document starts here; the file "
				       "must contain exactly one YAML document");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(b, event, "alias *%s is not supported; write the value out in "
			       "place of anchors and aliases", (const char *)event->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return on_scalar(b, event);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return on_collection_start(b, event);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		/* libyaml gives every key a value, so no key is left waiting. */
		b->depth--;
		return 0;
	case YAML_STREAM_END_EVENT:
		b->done = true;
		if (b->documents == 0) {
			snprintf(b->err, b->err_size, "the file contains no YAML document");
			return -EINVAL;
		}
		return 0;
	default:
		return 0;
	}
}

/* Runs the parser over the input until the stream ends or an error. */
static int build(struct yaml_builder *b, yaml_parser_t *parser)
{
	int r = 0;

	while (r == 0 && !b->done) {
		yaml_event_t event;

		if (!yaml_parser_parse(parser, &event))
			return parser_error(parser, b->err, b->err_size);
		r = on_event(b, &event);
		yaml_event_delete(&event);
	}
	return r;
}

int agent_yaml_to_json(const char *text, size_t len, json_t **ret_root,
		       char *err, size_t err_size)
{
	struct yaml_builder b = { .err = err, .err_size = err_size };
	yaml_parser_t parser;
	int r;

	if (len > AGENT_YAML_MAX) {
		snprintf(err, err_size, "the document is larger than %d bytes", AGENT_YAML_MAX);
		return -EFBIG;
	}
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

	r = build(&b, &parser);
	if (r == -ENOMEM)
		snprintf(err, err_size, "out of memory");
	yaml_parser_delete(&parser);
	for (size_t i = 0; i < b.depth; i++)
		free(b.open[i].key);
	if (r < 0) {
		json_decref(b.root);
		return r;
	}
	*ret_root = b.root;
	return 0;
}
