/*
 * A reader for the part of YAML that kubeconfig files use, into a jansson
 * tree: block mappings, block sequences (also at the indentation of their
 * key, as kubectl writes them), plain, single- and double-quoted scalars,
 * empty flow collections ([] and {}), flow collections that are valid JSON,
 * and comments.  Every scalar becomes a JSON string, and an empty value null.
 *
 * Anchors, aliases, tags, block scalars (| and >), multi-line plain scalars
 * and several documents are rejected with an error naming the line.  A file
 * whose first character is '{' is read as JSON.
 *
 * TODO: replace with libyaml (Debian libyaml-dev, pkg-config yaml-0.1) once
 * the Makefile links it.  Until then, convert a kubeconfig that uses the
 * forms above with `kubectl config view --raw --flatten -o json`.
 */
#ifndef EDGECR_AGENT_YAML_SUBSET_H
#define EDGECR_AGENT_YAML_SUBSET_H

#include <stddef.h>
#include <jansson.h>

/* Largest document accepted. */
#define AGENT_YAML_MAX (1024 * 1024)

/* Parses TEXT into a new tree in *ret_root (caller json_decref's it).
 * Returns 0 or -EINVAL with "line N: reason" in err. */
int agent_yaml_parse(const char *text, json_t **ret_root, char *err, size_t err_size);

#endif
