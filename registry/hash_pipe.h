/*
 * A thread that hashes a byte stream handed to it in order, so that the
 * thread receiving an upload spends its time on the receive and the write
 * while another CPU computes the digest.
 *
 * The writer copies the bytes into one of two REG_HASH_PIPE_BUFFER buffers.
 * When one is full it goes to the hashing thread, and the writer fills the
 * other, waiting only when the hashing thread is still busy with the one
 * before.  Memory is therefore two buffers per pipe, whatever the stream's
 * length.
 *
 * A pipe has one writer: reg_hash_pipe_write and reg_hash_pipe_finish must
 * not run at the same time for one pipe.
 */
#ifndef EDGECR_REG_HASH_PIPE_H
#define EDGECR_REG_HASH_PIPE_H

#include <stddef.h>
#include <openssl/evp.h>

/* Bytes handed to the hashing thread at once. */
#define REG_HASH_PIPE_BUFFER (256u * 1024)

struct reg_hash_pipe;

/* Starts a hashing thread that adds every byte written to MD, which stays
 * the caller's but must not be used until reg_hash_pipe_finish returned.
 * Returns 0 with the pipe, or a negative errno. */
int reg_hash_pipe_new(EVP_MD_CTX *md, struct reg_hash_pipe **ret_hasher);

/* Copies LEN bytes of DATA into the pipe.  Returns 0, or -EIO when hashing
 * failed (then MD is unusable). */
int reg_hash_pipe_write(struct reg_hash_pipe *hasher, const void *data, size_t len);

/* Waits until every byte written is in MD, stops the thread and frees HASHER.
 * Returns 0, or -EIO when hashing failed.  NULL is a no-op returning 0. */
int reg_hash_pipe_finish(struct reg_hash_pipe *hasher);

#endif
