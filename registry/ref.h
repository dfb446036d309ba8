/*
 * Names, tags and digests, by the grammar of the OCI Distribution Specification
 * v1.1.  Everything a client puts in a URL passes through here before it is used
 * as a database key or a file name, so nothing that fails these checks can ever
 * reach the filesystem.
 *
 *   name   [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
 *          at most REG_NAME_MAX bytes in all
 *   tag    [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
 *   digest algorithm ":" encoded, with "sha256" (64 lowercase hex) and "sha512"
 *          (128 lowercase hex) the algorithms this registry computes
 */
#ifndef EDGECR_REG_REF_H
#define EDGECR_REG_REF_H

#include <stdbool.h>
#include <stddef.h>

#define REG_NAME_MAX 255
#define REG_TAG_MAX 128
/* "sha512:" plus 128 hex digits plus the NUL. */
#define REG_DIGEST_TEXT_MAX (7 + 128 + 1)

enum reg_digest_algorithm {
	REG_DIGEST_SHA256,
	REG_DIGEST_SHA512,
};

struct reg_digest {
	enum reg_digest_algorithm algorithm;
	char text[REG_DIGEST_TEXT_MAX]; /* canonical "sha256:<hex>" */
	const char *hex;                /* points into text, after the ':' */
};

/* Returns true when NAME is a valid repository name. */
bool reg_name_is_valid(const char *name);

/* Returns true when TAG is a valid tag. */
bool reg_tag_is_valid(const char *tag);

/*
 * Parses TEXT as a digest into *ret.  Returns 0; -EINVAL when it does not match
 * the digest grammar ("algorithm:encoded"); -ENOTSUP when the grammar matches
 * but the algorithm is not sha256 or sha512, or the encoded part has the wrong
 * length or case for it.  Both failures are DIGEST_INVALID to a client.
 */
int reg_digest_parse(const char *text, struct reg_digest *ret);

/*
 * Copies SRC into *DST.  A plain struct assignment is wrong for a parsed
 * digest, because the copy's hex would still point into SRC's text.
 */
void reg_digest_copy(struct reg_digest *dst, const struct reg_digest *src);

/* Returns true when TEXT looks like a digest (contains ':'), meaning a manifest
 * reference is to be read as a digest and not as a tag. */
bool reg_reference_is_digest(const char *text);

/* Length in bytes of the binary hash of ALGORITHM (32 or 64). */
size_t reg_digest_algorithm_size(enum reg_digest_algorithm algorithm);

/* Name of ALGORITHM as in a digest: "sha256" or "sha512". */
const char *reg_digest_algorithm_name(enum reg_digest_algorithm algorithm);

#endif
