/*
 * The agent's persistent settings in STATE_DIR/agent.db (sqlite): whether the
 * registry is enabled and where its certificate came from.  Secrets are not
 * stored here; they live in files of mode 0600 (see provision.h).
 *
 * The connection is opened in serialized mode, so any thread may call these
 * functions; callers that need several values to agree hold their own lock.
 */
#ifndef EDGECR_AGENT_STATE_H
#define EDGECR_AGENT_STATE_H

struct agent_state;

/* Opens or creates STATE_DIR/agent.db (mode 0600) and its schema.  Returns 0
 * or a negative errno: -EPROTO when a newer agent wrote the database, -EIO for
 * a sqlite error. */
int agent_state_open(const char *state_dir, struct agent_state **ret_state);

/* Closes STATE; NULL is a no-op. */
void agent_state_free(struct agent_state *state);

/* Returns in *ret_value a copy of the value of KEY, which the caller frees.
 * Returns 0, -ENOENT when KEY is not set, or -EIO. */
int agent_state_get(struct agent_state *state, const char *key, char **ret_value);

/* Sets KEY to VALUE, durably, in one transaction.  Returns 0 or -EIO. */
int agent_state_set(struct agent_state *state, const char *key, const char *value);

/* Removes KEY; a missing key is not an error.  Returns 0 or -EIO. */
int agent_state_delete(struct agent_state *state, const char *key);

#endif
