/*
 * Conversion of one YAML document into a jansson tree, with libyaml's event
 * parser (Debian libyaml-dev, pkg-config yaml-0.1).  It reads YAML 1.1 as
 * libyaml 0.2.5 does, including flow collections, block scalars (| and >)
 * and JSON, with these mappings and limits:
 *
 * - A mapping becomes an object, a sequence an array, and a scalar a string.
 *   Numbers and booleans stay strings ("true", "8443"), so the caller decides
 *   how to read them.
 * - A plain scalar without a tag that YAML resolves to null (empty, "~",
 *   "null", "Null", "NULL") becomes JSON null.  Quoted or tagged !!str, it
 *   is a string.
 * - Anchors, aliases, tags other than ! and the core str/map/seq tags,
 *   mappings or sequences as keys, duplicate keys, NUL characters in a
 *   scalar, more than one document and nesting deeper than
 *   AGENT_YAML_DEPTH_MAX are rejected with an error that names the line.
 *
 * NOTE: libyaml's buffers and the returned tree are freed without being
 * wiped, so a token or key in the document stays in freed heap memory.
 */
#ifndef EDGECR_AGENT_YAML_JSON_H
#define EDGECR_AGENT_YAML_JSON_H

#include <stddef.h>
#include <jansson.h>

/* Largest document accepted, in bytes. */
#define AGENT_YAML_MAX (1024 * 1024)

/* Deepest nesting of mappings and sequences accepted.  The deepest kubeconfig
 * field, an entry of a user's exec env list, is 7 levels down. */
#define AGENT_YAML_DEPTH_MAX 32

/* Parses the LEN bytes at TEXT (UTF-8, or UTF-16 with a byte order mark) as
 * one YAML document and stores a new tree in *ret_root, which the caller
 * releases with json_decref.  The root may be an object, an array, a string
 * or null.  Returns 0, -EFBIG when LEN exceeds AGENT_YAML_MAX, -EINVAL for
 * invalid or rejected YAML, or -ENOMEM.  On failure, err contains the reason,
 * which starts with "line N" or "byte N" when a position is known, and
 * *ret_root is not written. */
int agent_yaml_to_json(const char *text, size_t len, json_t **ret_root,
		       char *err, size_t err_size);

#endif
