/*
 * agent_kubeconfig_load on a kubeconfig file written to a temporary folder.
 * File names in the document resolve against that folder, and the seeds
 * name only files that do not exist there.
 *
 * NOTE: an input may name any absolute path as its CA, certificate, key or
 * token file, so the fuzzer reads local files up to AGENT_KUBE_FILE_MAX bytes.
 * run-fuzz.sh gives it /dev/null as standard input so that /dev/stdin cannot
 * block it.
 */
#include "fuzz.h"

#include "kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_kube_auth *auth = NULL;
	char path[128], err[512];

	if (size > AGENT_KUBE_FILE_MAX + 1)
		return 0;
	fuzz_write_temp(data, size, path, sizeof(path));
	if (agent_kubeconfig_load(path, "/nonexistent", &auth, err, sizeof(err)) == 0) {
		if (!auth || !auth->server || !auth->ca_pem)
			abort();
		agent_kube_auth_free(auth);
	}
	unlink(path);
	return 0;
}
